// The feature page: loads one feature, lays out its sections (views/feature-*.js) and keeps
// them honest about versions. Every edit sends `If-Match` with the version its section shows;
// live changes update the controls nobody is editing, and a section's version only moves with
// the values it displays, so a save can never silently overwrite someone else's change.

import * as api from '../api.js';
import { stageAgeText } from './stage-time.js';
import { healthBadges } from './health.js';
import {
  h, appendChildren, replaceChildren, errorBox, showError, showMessage, clearError, notify, whileBusy, stagePill, mismatchBadge, timeStamp, plural,
} from '../dom.js';
import { detailsSection, percentageSection } from './feature-settings.js';
import { userListSection } from './feature-users.js';
import { groupsSection } from './feature-groups.js';
import { dataSection } from './feature-data.js';
import { checkSection } from './feature-check.js';
import { historySection } from './feature-history.js';
import { exposuresSection } from './feature-exposures.js';
import { referencesSection } from './feature-references.js';
import { migrationsSection } from './feature-migrations.js';

const CHANGED_ELSEWHERE = 'This feature was changed by someone else; the page shows the new values.';

export function mount(root, { canEdit, params }) {
  const name = params[0];
  const page = {
    name,
    canEdit,
    feature: null,
    version: null,
    alive: true,
    sections: [],
    savesInFlight: 0,
    waitingLiveEvents: [],
  };
  const notice = h('p', { id: 'changed-elsewhere', class: 'notice', role: 'status', hidden: true });
  const title = h('h1', { id: 'feature-title', text: name });
  const headingMeta = h('div', { class: 'feature-meta' });
  let noticeTimer = null;

  function showNotice(text, { stay = false } = {}) {
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(noticeTimer);
    if (!stay) noticeTimer = setTimeout(() => { notice.hidden = true; }, 8000);
  }

  // The time in stage comes with the page's first read (a write's answer lacks it): kept while
  // the stage stays, dropped when it moves.
  let stageAge = null;
  // Health likewise comes with the first read only; kept until the page is read again.
  let health = null;

  function renderHeading(feature) {
    if (feature.stage_since) stageAge = { stage: feature.stage, since: feature.stage_since, serverTime: feature.server_time };
    else if (stageAge && stageAge.stage !== feature.stage) stageAge = null;
    if (feature.health) health = feature.health;
    replaceChildren(headingMeta,
      stagePill(feature.stage),
      stageAge ? h('span', { id: 'stage-age', class: 'muted', text: stageAgeText(stageAge.stage, stageAge.since, stageAge.serverTime) }) : null,
      mismatchBadge(feature),
      healthBadges(health),
      h('span', { class: 'muted' }, 'Created ', timeStamp(feature.created_at)),
      h('span', { class: 'muted' }, 'Last changed ', timeStamp(feature.updated_at)),
      feature.damaged ? h('p', { class: 'warning', text: `The stored feature could not be read: ${feature.damaged}` }) : null,
      health?.states?.length ? h('ul', { id: 'health-evidence', class: 'health-evidence muted' },
        health.states.map((finding) => h('li', { dataset: { health: finding.state }, text: finding.message }))) : null,
      health?.notes?.length ? h('ul', { id: 'health-notes', class: 'muted' }, health.notes.map((note) => h('li', { text: note }))) : null,
      feature.stage_mismatch ? h('p', { id: 'stage-mismatch', class: 'warning', text: `The stage does not match who gets it: ${feature.stage_mismatch.message}.` }) : null);
  }

  /**
   * Shows a newer version of the feature. `forceSection` (the one that just saved, or asked to
   * reload) shows the server's values even over what the user typed; the other sections keep
   * controls in use.
   */
  page.applyFeature = (feature, { forceSection = null, elsewhere = false } = {}) => {
    if (page.feature && feature.version < page.version) return false;
    if (page.feature && feature.version === page.version && !forceSection) return false;
    page.feature = feature;
    page.version = feature.version;
    renderHeading(feature);
    for (const section of page.sections) section.update?.(feature, { force: section === forceSection });
    if (elsewhere) showNotice(CHANGED_ELSEWHERE);
    return true;
  };

  /** Fetches the feature again; `forceSection` gets the server's values even where edited. */
  page.reload = async ({ forceSection = null } = {}) => {
    try {
      const feature = await api.getFeature(name);
      if (page.alive) page.applyFeature(feature, { forceSection });
    } catch (error) {
      if (error.status === 404) showDeleted();
      else throw error;
    }
  };

  // A 412 names who changed the feature; offer to load their version rather than overwrite it.
  // Reloading replaces only the refused section's values: other unsaved edits stay.
  function showVersionMismatch(box, error, section) {
    showError(box, error);
    box.append(h('button', {
      type: 'button', class: 'secondary small reload-feature', text: 'Reload the feature',
      onclick: (event) => whileBusy(event.currentTarget, async () => {
        try {
          await page.reload({ forceSection: section });
          if (page.alive) clearError(box);
        } catch (failure) {
          showError(box, failure);
        }
      }),
    }));
  }

  /**
   * Runs one edit: `call(version)` must answer `{feature}`. Live events arriving meanwhile wait,
   * so the echo of our own change is not mistaken for someone else's.
   */
  page.edit = async ({ error, inputs = {}, button = null, section = null, version = null }, call) => {
    clearError(error, inputs);
    page.savesInFlight += 1;
    try {
      const result = await whileBusy(button, () => call(version ?? page.version));
      if (page.alive && result?.feature) page.applyFeature(result.feature, { forceSection: section });
      return result || {};
    } catch (failure) {
      if (!page.alive) return null;
      if (failure.partialFeature) page.applyFeature(failure.partialFeature);
      if (failure.isVersionMismatch) showVersionMismatch(error, failure, section);
      else showError(error, failure, inputs);
      return null;
    } finally {
      page.savesInFlight -= 1;
      if (page.savesInFlight === 0) page.waitingLiveEvents.splice(0).forEach(handleLive);
    }
  };

  function showDeleted() {
    if (!page.alive) return;
    showNotice('This feature has been deleted. Its history is kept: it can be restored from the History page.', { stay: true });
    root.querySelector('.feature-layout')?.setAttribute('hidden', '');
  }

  function handleLive(event) {
    if (!page.feature || !page.alive) return;
    if (event.type === 'changed') {
      if ((event.deleted || []).includes(name)) {
        showDeleted();
        return;
      }
      const changed = (event.features || []).find((feature) => feature.name === name);
      if (changed) page.applyFeature(changed, { elsewhere: true });
    } else if (event.type === 'reload') {
      page.sections.forEach((section) => section.onReload?.());
      api.getFeature(name)
        .then((feature) => page.alive && page.applyFeature(feature, { elsewhere: true }))
        .catch((error) => { if (error.status === 404) showDeleted(); });
    }
  }

  function build(feature) {
    page.feature = feature;
    page.version = feature.version;
    renderHeading(feature);
    const details = detailsSection(page);
    const percentage = percentageSection(page);
    const users = userListSection(page, USERS);
    const excluded = userListSection(page, EXCLUDED);
    const groups = groupsSection(page);
    const data = dataSection(page);
    const check = checkSection(page);
    const history = historySection(page);
    const exposures = exposuresSection(page);
    const references = referencesSection(page);
    const migrations = migrationsSection(page);
    page.sections = [details, percentage, exposures, migrations, users, excluded, groups, data, check, references, history];
    appendChildren(root, h('div', { class: 'feature-layout' },
      h('div', { class: 'feature-main' }, details.element, percentage.element, exposures.element, migrations.element, users.element, excluded.element),
      h('div', { class: 'feature-side' }, groups.element, data.element, check.element, references.element, history.element),
      canEdit ? deleteZone(page) : null));
    for (const section of page.sections) section.update?.(feature, { force: true });
  }

  appendChildren(root, 
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/features', text: '← All features' })),
    h('div', { class: 'page-heading feature-heading' }, title, headingMeta),
    notice);

  api.getFeature(name).then((feature) => {
    if (page.alive) build(feature);
  }).catch((error) => {
    if (!page.alive) return;
    const box = errorBox('feature-error');
    appendChildren(root, box);
    if (error.status === 404) {
      showMessage(box, `There is no feature named “${name}”.`);
      box.append(h('p', {}, h('a', { href: `#/history?feature=${encodeURIComponent(name)}`, text: 'Look for it in the history' })));
    } else {
      showError(box, error);
    }
  });

  return {
    onLive(event) {
      if (page.savesInFlight > 0) page.waitingLiveEvents.push(event);
      else handleLive(event);
    },
    destroy() {
      page.alive = false;
      clearTimeout(noticeTimer);
      page.sections.forEach((section) => section.destroy?.());
    },
  };
}

const USERS = {
  list: 'users',
  title: 'Users',
  intro: 'These users always get the feature (unless excluded).',
  pasteLabel: 'Add users: paste ids, one per line or separated by commas or spaces',
  addText: 'Add users',
  ids: {
    paste: 'users-paste', add: 'add-users', search: 'users-search', total: 'users-total', list: 'users-list',
    prev: 'users-prev', next: 'users-next', error: 'users-error',
  },
  removeClass: 'remove-user',
  removeText: 'Remove',
  noun: ['user', 'users'],
  add: api.addUsers,
  remove: api.removeUsers,
  added: (count) => `Added ${plural(count, 'user')}`,
};

const EXCLUDED = {
  list: 'excluded_users',
  title: 'Excluded users',
  intro: 'These users never get the feature, whatever else matches.',
  pasteLabel: 'Exclude users: paste ids, one per line or separated by commas or spaces',
  addText: 'Exclude users',
  ids: {
    paste: 'exclude-paste', add: 'exclude-users', search: 'excluded-search', total: 'excluded-total',
    list: 'excluded-list', prev: 'excluded-prev', next: 'excluded-next', error: 'excluded-error',
  },
  removeClass: 'include-user',
  removeText: 'Include again',
  noun: ['excluded user', 'excluded users'],
  add: api.excludeUsers,
  remove: api.includeUsers,
  added: (count) => `Excluded ${plural(count, 'user')}`,
};

function deleteZone(page) {
  const confirmName = h('input', { id: 'delete-confirm-name', autocomplete: 'off', spellcheck: 'false' });
  const confirmButton = h('button', { id: 'delete-confirm', type: 'submit', class: 'danger', text: 'Delete feature', disabled: true });
  const error = errorBox('delete-error');
  const reasons = h('p', { id: 'delete-reasons', class: 'warning', role: 'alert', hidden: true });
  const dialog = h('dialog', { id: 'delete-dialog', 'aria-labelledby': 'delete-dialog-title' },
    h('form', { onsubmit: remove },
      h('h2', { id: 'delete-dialog-title', text: `Delete “${page.name}”?` }),
      h('p', { text: 'Every application stops seeing this feature at once: checks for it answer “off”. ' +
        'Its history is kept, so it can be restored from the History page.' }),
      h('label', { for: 'delete-confirm-name', text: `Type ${page.name} to confirm` }),
      confirmName,
      reasons,
      error,
      h('div', { class: 'dialog-buttons' },
        h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: () => dialog.close() }),
        confirmButton)));
  confirmName.addEventListener('input', () => {
    confirmButton.disabled = confirmName.value !== page.name;
  });

  // The server asks first when code still names the flag or applications checked it lately:
  // the dialog then shows why, and the next click deletes anyway.
  let confirmed = false;
  async function remove(event) {
    event.preventDefault();
    if (confirmName.value !== page.name) return;
    let refusal = null;
    const result = await page.edit({ error, button: confirmButton }, async (version) => {
      try {
        await api.deleteFeature(page.name, version, { confirm: confirmed });
      } catch (failure) {
        if (failure.code !== 'confirmation_required') throw failure;
        refusal = failure;
      }
      return {};
    });
    confirmButton.disabled = confirmName.value !== page.name;
    if (refusal) {
      confirmed = true;
      reasons.textContent = refusal.message;
      reasons.hidden = false;
      confirmButton.textContent = 'Delete anyway';
      return;
    }
    if (!result) return;
    page.alive = false;
    dialog.close();
    notify(`Deleted ${page.name}. It can be restored from the History page.`);
    location.hash = '#/features';
  }

  const open = h('button', { id: 'delete-feature', type: 'button', class: 'danger', text: 'Delete feature…',
    onclick: () => {
      confirmName.value = '';
      confirmButton.disabled = true;
      confirmButton.textContent = 'Delete feature';
      confirmed = false;
      reasons.hidden = true;
      clearError(error);
      dialog.showModal();
      confirmName.focus();
    } });

  return h('section', { class: 'card danger-zone', 'aria-labelledby': 'danger-heading' },
    h('h2', { id: 'danger-heading', text: 'Delete' }),
    h('p', { class: 'muted', text: 'Deleting removes the feature for every application. Reverting the deletion in the history brings it back.' }),
    open,
    dialog);
}
