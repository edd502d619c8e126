// The feature page's two form sections whose controls show server values: details
// (description, owner, stage, kind) and the percentage (slider and number, with the estimated reach).
// `syncedControls` decides, on every new version, which controls may be refreshed and whether
// the section's `If-Match` version may move forward with them.

import * as api from '../api.js';
import {
  h, replaceChildren, field, errorBox, showMessage, notify, debounce, stagePill, stageOptions, stageLabel, formatCount,
  formatPercentage, plural,
} from '../dom.js';
import { showValue } from '../parse.js';
import { moveToStage } from './stage-move.js';
import { kindLabel, kindOptions } from '../kinds.js';

const same = (a, b) => a === b || (Number.isNaN(a) && Number.isNaN(b));

/**
 * Controls showing server values. A control the user is in (focused) or has changed (dirty)
 * keeps what they typed; the section's version moves forward only when every control shows the
 * new version's value, so saving from a section showing old values gets a 412, not an overwrite.
 */
function syncedControls(controls, onStale) {
  const base = {};
  let version = null;
  let latest = null;
  const focused = (control) => control.elements.includes(document.activeElement);
  const dirty = (control) => !same(control.read(), base[control.key]);

  function update(feature, force) {
    latest = feature;
    for (const control of controls) {
      const next = control.fromFeature(feature);
      if (force || (!focused(control) && !dirty(control))) {
        control.write(next);
        base[control.key] = next;
      } else if (same(control.read(), next)) {
        base[control.key] = next;
      }
    }
    const current = controls.every((control) => same(base[control.key], control.fromFeature(feature)));
    if (current) version = feature.version;
    onStale(current ? null : controls.filter((control) => !same(base[control.key], control.fromFeature(feature))), feature);
  }

  // Leaving a control that was only focused lets it catch up with changes made meanwhile.
  for (const control of controls) {
    for (const element of control.elements) {
      element.addEventListener('blur', () => setTimeout(() => {
        if (latest && !controls.some(focused)) update(latest, false);
      }));
    }
  }

  return {
    update,
    get version() { return version; },
    changed: () => controls.filter(dirty),
  };
}

function staleNote() {
  return h('p', { class: 'stale-note', hidden: true });
}

function describeStale(note, controls, feature) {
  if (!controls) {
    note.hidden = true;
    return;
  }
  const now = controls.map((control) => `${control.label} is now ${control.show(control.fromFeature(feature))}`);
  note.textContent = `Changed elsewhere while you were editing: ${now.join('; ')}. Saving will ask you to reload first.`;
  note.hidden = false;
}

const dataText = (feature, key) => (feature.data?.[key] === undefined ? '' : showValue(feature.data[key]));

export function detailsSection(page) {
  if (!page.canEdit) return readOnlyDetails();
  const description = h('textarea', { id: 'description', rows: 3 });
  const owner = h('input', { id: 'owner', autocomplete: 'off' });
  const stage = h('select', { id: 'stage' }, stageOptions('development'));
  const kind = h('select', { id: 'kind' }, kindOptions('release'));
  const save = h('button', { id: 'save-details', type: 'submit', text: 'Save details' });
  const error = errorBox('details-error');
  const note = staleNote();
  const quoted = (text) => (text ? `“${text}”` : 'empty');
  const textControl = (key, label, element) => ({
    key, label, elements: [element], read: () => element.value, write: (value) => { element.value = value; },
    fromFeature: (feature) => dataText(feature, key), show: quoted,
  });
  const controls = syncedControls([
    textControl('description', 'the description', description),
    textControl('owner', 'the owner', owner),
    { key: 'stage', label: 'the stage', elements: [stage], read: () => stage.value,
      write: (value) => { stage.value = value; }, fromFeature: (feature) => feature.stage, show: stageLabel },
    { key: 'kind', label: 'the kind', elements: [kind], read: () => kind.value,
      write: (value) => { kind.value = value; }, fromFeature: (feature) => feature.kind || 'release', show: kindLabel },
  ], (stale, feature) => describeStale(note, stale, feature));

  async function saveDetails(event) {
    event.preventDefault();
    const changed = controls.changed();
    if (!changed.length) {
      notify('Nothing to save: the details are unchanged.');
      return;
    }
    const data = {};
    for (const control of changed) {
      if (control.key === 'stage' || control.key === 'kind') continue;
      const text = control.read().trim();
      data[control.key] = text === '' ? null : text;
    }
    const stageChanged = changed.some((control) => control.key === 'stage');
    const kindChanged = changed.some((control) => control.key === 'kind');
    const inputs = { data: description, description, owner, stage, kind };
    const result = await page.edit({ error, inputs, button: save, section, version: controls.version }, async (version) => {
      let answer = null;
      if (Object.keys(data).length) {
        answer = await api.patchData(page.name, data, version);
        version = answer.feature.version;
      }
      if (kindChanged) {
        try {
          answer = await api.setKind(page.name, kind.value, version);
          version = answer.feature.version;
        } catch (failure) {
          failure.partialFeature = answer?.feature;
          throw failure;
        }
      }
      if (stageChanged) {
        try {
          const moved = await moveToStage(page.feature, stage.value, version);
          // Cancelled (no reason given): the data saved above stays; the stage does not move.
          if (moved) answer = moved;
        } catch (failure) {
          failure.partialFeature = answer?.feature;
          throw failure;
        }
      }
      return answer;
    });
    if (result) notify('Details saved.');
  }

  const section = {
    element: h('section', { class: 'card', 'aria-labelledby': 'details-heading' },
      h('h2', { id: 'details-heading', text: 'Details' }),
      h('form', { class: 'details-form', onsubmit: saveDetails },
        field('Description', description),
        h('div', { class: 'field-row' }, field('Owner', owner), field('Stage', stage), field('Kind', kind)),
        note,
        h('div', { class: 'form-actions' }, save),
        error)),
    update: (feature, { force }) => controls.update(feature, force),
  };
  return section;
}

function readOnlyDetails() {
  const list = h('dl', { class: 'details-list' });
  return {
    element: h('section', { class: 'card', 'aria-labelledby': 'details-heading' },
      h('h2', { id: 'details-heading', text: 'Details' }), list),
    update(feature) {
      const row = (term, value) => [h('dt', { text: term }), h('dd', {}, value || h('span', { class: 'muted', text: 'Not set' }))];
      list.replaceChildren(...row('Description', dataText(feature, 'description')), ...row('Owner', dataText(feature, 'owner')),
        ...row('Stage', stagePill(feature.stage)), ...row('Kind', kindLabel(feature.kind || 'release')));
    },
  };
}

/**
 * Who gets the feature at the percentage tried, among the user ids Ramp knows: listed users,
 * members of its stored groups and the percentage's share of the rest; excluded users never.
 */
function reachWords(coverage) {
  const { known_users: known, reached, listed, group_members: members, by_percentage: byPercentage, others } = coverage;
  const excluded = coverage.excluded || 0;
  const byRule = coverage.groups_by_rule || [];
  if (known === 0) {
    return h('p', { text: 'No users are known yet: the percentage will pick users as they come.' });
  }
  const parts = [];
  if (listed) parts.push(`${formatCount(listed)} listed`);
  if (members) parts.push(`${formatCount(members)} in its groups`);
  if (others) parts.push(`≈ ${formatCount(byPercentage)} of ${formatCount(others)} other known users by percentage`);
  return [
    h('p', { class: 'reach-total', text: `Gets it: ${plural(reached, 'known user')}${parts.length ? ` (${parts.join(', ')})` : ''}.` }),
    excluded ? h('p', { class: 'reach-excluded', text: `${plural(excluded, 'excluded user')} never ${excluded === 1 ? 'gets' : 'get'} it.` }) : null,
    byRule.length ? h('p', { class: 'reach-rules', text: `Also anyone matching the rules of ${byRule.join(', ')}.` }) : null,
    h('p', { class: 'hint', text: 'Known users are the ids on any feature’s lists or in stored groups; users Ramp has not seen get it by the percentage too.' }),
  ];
}

export function percentageSection(page) {
  const coverageText = h('div', { id: 'percentage-coverage', class: 'coverage', 'aria-live': 'polite' });
  let coverageRequest = 0;

  async function showCoverage(percentage) {
    const request = ++coverageRequest;
    if (!Number.isFinite(percentage) || percentage < 0 || percentage > 100) {
      replaceChildren(coverageText);
      return;
    }
    try {
      const coverage = await api.coverage(page.name, percentage);
      if (request !== coverageRequest || !page.alive) return;
      replaceChildren(coverageText, reachWords(coverage));
    } catch {
      if (request === coverageRequest) replaceChildren(coverageText);
    }
  }
  const showCoverageSoon = debounce(showCoverage, 250);

  if (!page.canEdit) {
    const value = h('p', { class: 'big-number' });
    return {
      element: h('section', { class: 'card', 'aria-labelledby': 'percentage-heading' },
        h('h2', { id: 'percentage-heading', text: 'Percentage' }), value, coverageText),
      update(feature) {
        value.textContent = `${formatPercentage(feature.percentage)} of users`;
        showCoverage(feature.percentage);
      },
      destroy: () => showCoverageSoon.cancel(),
    };
  }

  const slider = h('input', { id: 'percentage-slider', type: 'range', min: 0, max: 100, step: 0.1 });
  const number = h('input', { id: 'percentage-input', type: 'number', min: 0, max: 100, step: 0.1, inputmode: 'decimal' });
  const save = h('button', { id: 'save-percentage', type: 'submit', text: 'Save percentage' });
  const error = errorBox('percentage-error');
  const note = staleNote();
  const controls = syncedControls([{
    key: 'percentage', label: 'the percentage', elements: [slider, number],
    read: () => (number.value.trim() === '' ? NaN : Number(number.value)),
    write: (value) => { number.value = String(value); slider.value = String(value); },
    fromFeature: (feature) => feature.percentage, show: formatPercentage,
  }], (stale, feature) => describeStale(note, stale, feature));

  slider.addEventListener('input', () => {
    number.value = slider.value;
    showCoverageSoon(Number(slider.value));
  });
  number.addEventListener('input', () => {
    if (number.value.trim() !== '') slider.value = number.value;
    showCoverageSoon(number.value.trim() === '' ? NaN : Number(number.value));
  });

  const presets = h('div', { class: 'presets', role: 'group', 'aria-label': 'Quick picks' },
    [0, 1, 5, 10, 25, 50, 100].map((value) => h('button', {
      type: 'button', class: 'secondary small', text: `${value} %`,
      onclick: () => {
        number.value = String(value);
        slider.value = String(value);
        showCoverage(value);
      },
    })));

  async function savePercentage(event) {
    event.preventDefault();
    const value = number.value.trim() === '' ? NaN : Number(number.value);
    if (!Number.isFinite(value) || value < 0 || value > 100) {
      showMessage(error, 'Enter a percentage from 0 to 100 (decimals allowed, like 12.5).');
      number.setAttribute('aria-invalid', 'true');
      return;
    }
    const result = await page.edit(
      { error, inputs: { percentage: number }, button: save, section, version: controls.version },
      (version) => api.setPercentage(page.name, value, version));
    if (result) notify(`Percentage saved: ${formatPercentage(value)}.`);
  }

  const section = {
    element: h('section', { class: 'card', 'aria-labelledby': 'percentage-heading' },
      h('h2', { id: 'percentage-heading', text: 'Percentage' }),
      h('p', { class: 'muted', text: 'Share of all users who get the feature, by a stable hash of their id.' }),
      h('form', { class: 'percentage-form', onsubmit: savePercentage, novalidate: true },
        h('div', { class: 'percentage-controls' },
          h('label', { for: 'percentage-slider', class: 'visually-hidden', text: 'Percentage (slider)' }),
          slider,
          h('div', { class: 'number-with-unit' },
            h('label', { for: 'percentage-input', class: 'visually-hidden', text: 'Percentage' }),
            number, h('span', { 'aria-hidden': 'true', text: '%' }))),
        presets,
        coverageText,
        note,
        h('div', { class: 'form-actions' }, save),
        error)),
    update(feature, { force }) {
      controls.update(feature, force);
      showCoverage(Number(number.value));
    },
    destroy: () => showCoverageSoon.cancel(),
  };
  return section;
}
