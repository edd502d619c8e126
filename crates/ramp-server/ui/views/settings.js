// The lifecycle settings screen: how long each kind of feature is expected to live (a number of
// days, permanent, or the kind's default, which the server names) and the windows health is
// computed with. Admins edit them; everyone else reads them. WIP limits stay on the board, by
// their columns; they are listed here read-only, and saving here never touches them (the server
// keeps the parts a write leaves out). Saves are made at the version read, so two admins
// editing at once get a "reload" rather than overwriting each other.

import * as api from '../api.js';
import {
  h, replaceChildren, field, errorBox, showError, showMessage, clearError, notify, whileBusy, stageLabel, STAGES,
} from '../dom.js';
import { KINDS, WINDOWS, lifeText } from '../kinds.js';

const MAX_DAYS = 3650;

export function mount(root, { canEdit }) {
  let alive = true;
  let settings = null;
  const error = errorBox('settings-error');
  const body = h('div', { class: 'settings-body' }, h('p', { class: 'loading', text: 'Loading…' }));
  root.append(
    h('h1', { text: 'Lifecycle settings' }),
    h('p', { class: 'muted', text: 'How long each kind of feature is expected to live before it is stale, and the windows its health is judged by.' }),
    error,
    body);

  async function load() {
    try {
      const answer = await api.lifecycleSettings();
      if (!alive) return;
      settings = answer;
      render();
    } catch (failure) {
      if (alive) showError(error, failure);
    }
  }

  function render() {
    replaceChildren(body, canEdit ? editor() : readOnly(), wipLimits());
  }

  function wipLimits() {
    const rows = STAGES.map(([stage]) => {
      const limit = settings.wip_limits?.[stage];
      return h('tr', {}, h('th', { scope: 'row', text: stageLabel(stage) }), h('td', { text: limit === undefined ? 'none' : String(limit) }));
    });
    return h('section', { class: 'card', 'aria-labelledby': 'wip-heading' },
      h('h2', { id: 'wip-heading', text: 'WIP limits' }),
      h('p', { class: 'muted' }, 'Set by admins in each column of the ', h('a', { href: '#/board', text: 'board' }), '.'),
      h('table', { id: 'settings-wip-limits', class: 'data-table' }, h('tbody', {}, rows)));
  }

  function readOnly() {
    const rows = KINDS.map(([kind, label]) => h('tr', { dataset: { kind } },
      h('th', { scope: 'row', text: label }),
      h('td', { text: lifeText(settings.effective_expected_life_days[kind]) + (kind in settings.expected_life_days ? '' : ' (default)') })));
    const windows = WINDOWS.map(([window, label]) => h('tr', {},
      h('th', { scope: 'row', text: label }), h('td', { text: lifeText(settings[window]) })));
    return h('section', { class: 'card', 'aria-labelledby': 'lives-heading' },
      h('h2', { id: 'lives-heading', text: 'Expected life and health' }),
      h('table', { id: 'settings-lives', class: 'data-table' }, h('tbody', {}, rows, windows)));
  }

  function editor() {
    const inputs = {};
    const lifeRows = KINDS.map(([kind, label]) => {
      const override = settings.expected_life_days[kind];
      const choice = h('select', { id: `life-choice-${kind}`, 'aria-label': `${label}: expected life` },
        h('option', { value: 'default', text: `Default (${lifeText(settings.default_expected_life_days[kind])})` }),
        h('option', { value: 'days', text: 'Number of days' }),
        h('option', { value: 'permanent', text: 'Permanent' }));
      const days = h('input', {
        id: `life-days-${kind}`, type: 'number', min: '1', max: String(MAX_DAYS), step: '1', inputmode: 'numeric',
        'aria-label': `${label}: days`,
      });
      choice.value = !(kind in settings.expected_life_days) ? 'default' : override === null ? 'permanent' : 'days';
      days.value = typeof override === 'number' ? String(override) : '';
      const sync = () => { days.hidden = choice.value !== 'days'; };
      choice.addEventListener('change', () => {
        sync();
        if (choice.value === 'days') {
          if (!days.value) days.value = String(settings.effective_expected_life_days[kind] ?? settings.default_expected_life_days[kind] ?? 40);
          days.focus();
        }
      });
      sync();
      inputs[`expected_life_days.${kind}`] = days;
      return { kind, label, choice, days };
    });
    const windowInputs = WINDOWS.map(([window, label]) => {
      const input = h('input', {
        id: `window-${window}`, type: 'number', min: '1', max: String(MAX_DAYS), step: '1', inputmode: 'numeric', value: String(settings[window]),
      });
      inputs[window] = input;
      return { window, label, input };
    });
    const save = h('button', { id: 'save-lifecycle', type: 'submit', text: 'Save settings' });

    // Reads the form, or says what is wrong with the first bad number and returns null.
    function read() {
      const wholeDays = (text) => (/^\d+$/.test(text.trim()) && Number(text) >= 1 && Number(text) <= MAX_DAYS ? Number(text) : null);
      const lives = {};
      for (const { kind, label, choice, days } of lifeRows) {
        if (choice.value === 'permanent') lives[kind] = null;
        if (choice.value !== 'days') continue;
        const value = wholeDays(days.value);
        if (value === null) {
          showMessage(error, `${label}: enter a whole number of days from 1 to ${MAX_DAYS}, or choose Permanent or Default.`);
          days.setAttribute('aria-invalid', 'true');
          days.focus();
          return null;
        }
        lives[kind] = value;
      }
      const parts = { expected_life_days: lives };
      for (const { window, label, input } of windowInputs) {
        const value = wholeDays(input.value);
        if (value === null) {
          showMessage(error, `${label}: enter a whole number of days from 1 to ${MAX_DAYS}.`);
          input.setAttribute('aria-invalid', 'true');
          input.focus();
          return null;
        }
        parts[window] = value;
      }
      return parts;
    }

    async function submit(event) {
      event.preventDefault();
      clearError(error, inputs);
      const parts = read();
      if (!parts) return;
      await whileBusy(save, async () => {
        try {
          const answer = await api.saveLifecycleSettings(parts, settings.version);
          if (!alive) return;
          settings = answer;
          render();
          notify(answer.event ? 'Lifecycle settings saved.' : 'Nothing to save: the settings are unchanged.');
        } catch (failure) {
          if (alive) showError(error, failure, inputs);
        }
      });
    }

    return h('form', { id: 'lifecycle-form', class: 'card', onsubmit: submit, novalidate: true },
      h('h2', { id: 'lives-heading', text: 'Expected life per kind' }),
      h('p', { class: 'muted', text: 'Past its expected life a feature is stale. Kill switches and permissions are meant to stay.' }),
      h('table', { id: 'settings-lives', class: 'data-table' }, h('tbody', {}, lifeRows.map(({ kind, label, choice, days }) =>
        h('tr', { dataset: { kind } }, h('th', { scope: 'row', text: label }), h('td', {}, choice, ' ', days))))),
      h('h2', { text: 'Health windows' }),
      windowInputs.map(({ label, input }) => field(`${label} (days)`, input)),
      h('div', { class: 'form-actions' }, save));
  }

  load();
  return {
    onLive() {},
    destroy() { alive = false; },
  };
}
