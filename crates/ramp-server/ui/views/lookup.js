// User lookup: one user (id and attributes) against every feature, active or not, and why;
// with "As of", as the features and groups were at that time (the server replays history).
// The table shows the first hundred answers and "Show more" adds the next hundred: 10,000
// features would otherwise be 10,000 rows at once. The summary counts them all.

import * as api from '../api.js';
import {
  h, appendChildren, tableCell, replaceChildren, field, errorBox, showError, showMessage, whileBusy, debounce, featureHref, formatCount,
} from '../dom.js';
import { explanation, readContext } from './feature-check.js';

// The last lookup survives navigation, so going to a feature and back keeps the answer.
let lastContext = null;
// The "As of" field as typed (local time), and the instant it means; null: now.
let lastAtText = '';
let lastAt = null;

const PAGE_SIZE = 100;

// A datetime-local value (`2026-11-03T10:00`) is the browser's local time: `new Date` reads it
// so, and the server gets the instant in UTC. Returns undefined for text that is no time.
function instantOf(text) {
  if (!text) return null;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}

export function mount(root) {
  let alive = true;
  const user = h('input', { id: 'lookup-user', autocomplete: 'off', placeholder: '42' });
  const attributes = h('textarea', { id: 'lookup-attributes', rows: 3, spellcheck: 'false', placeholder: 'plan=pro\ncountry=fr' });
  const at = h('input', { id: 'lookup-at', type: 'datetime-local', step: 1 });
  const submit = h('button', { id: 'lookup-submit', type: 'submit', text: 'Look up' });
  const onlyActive = h('input', { id: 'lookup-only-active', type: 'checkbox' });
  const error = errorBox('lookup-error');
  const summary = h('p', { class: 'muted', role: 'status' });
  const tbody = h('tbody');
  const table = h('table', { id: 'lookup-results', class: 'data-table stack-on-phone', hidden: true },
    h('caption', { class: 'visually-hidden', text: 'Features for this user' }),
    h('thead', {}, h('tr', {}, ['Feature', 'Result', 'Reason'].map((title) => h('th', { scope: 'col', text: title })))),
    tbody);
  const more = h('button', { id: 'lookup-more', type: 'button', class: 'secondary', text: 'Show more', hidden: true });
  let states = [];
  // How many rows of the current answer are on screen.
  let rowsShown = 0;

  if (lastContext) {
    user.value = lastContext.user_id || '';
    attributes.value = Object.entries(lastContext.attributes).map(([key, value]) => `${key}=${value}`).join('\n');
    at.value = lastAtText;
  }

  async function run(context) {
    try {
      const answer = await api.userStates(context, lastAt);
      if (!alive) return;
      states = answer.states;
      rowsShown = Math.max(PAGE_SIZE, rowsShown);
      render();
    } catch (failure) {
      if (alive) showError(error, failure, { user_id: user, attributes, at });
    }
  }

  function render() {
    const active = states.filter((state) => state.active).length;
    const when = lastAt ? ` as of ${new Date(lastAt).toLocaleString()}` : '';
    summary.textContent = `On in ${formatCount(active)} of ${formatCount(states.length)} features for ${lastContext.user_id ? `user ${lastContext.user_id}` : 'a visitor without a user id'}${when}.`;
    const matching = onlyActive.checked ? states.filter((state) => state.active) : states;
    const shown = matching.slice(0, rowsShown);
    table.hidden = false;
    replaceChildren(tbody, shown.length ? shown.map(stateRow)
      : h('tr', { class: 'empty' }, h('td', { colspan: 3, text: 'No feature to show.' })));
    more.hidden = matching.length <= shown.length;
    more.textContent = `Show more (${formatCount(shown.length)} of ${formatCount(matching.length)} shown)`;
  }

  function stateRow(state) {
    return h('tr', { dataset: { feature: state.feature } },
      tableCell('Feature', h('a', { href: featureHref(state.feature), text: state.feature })),
      tableCell('Result', h('span', { class: `pill ${state.active ? 'on' : 'off'}`, text: state.active ? 'Active' : 'Not active' })),
      tableCell('Reason', h('span', { text: state.reason === 'group' && state.group ? `group ${state.group}` : state.reason }),
        h('span', { class: 'muted small-text', text: ` — ${explanation(state)}` })));
  }

  async function lookUp(event) {
    event.preventDefault();
    const context = readContext(user, attributes, error);
    if (!context) return;
    const instant = instantOf(at.value);
    at.removeAttribute('aria-invalid');
    if (instant === undefined) {
      at.setAttribute('aria-invalid', 'true');
      showMessage(error, '"As of" is not a date and time.');
      return;
    }
    lastContext = context;
    lastAtText = at.value;
    lastAt = instant;
    rowsShown = PAGE_SIZE;
    await whileBusy(submit, () => run(lastContext));
  }

  // A past answer does not change when features do; only answers for now are asked again.
  const rerunSoon = debounce(() => { if (lastContext && !lastAt && states.length) run(lastContext); }, 300);
  onlyActive.addEventListener('change', () => {
    rowsShown = PAGE_SIZE;
    if (states.length) render();
  });
  more.addEventListener('click', () => {
    rowsShown += PAGE_SIZE;
    render();
  });

  appendChildren(root, 
    h('div', { class: 'page-heading' }, h('h1', { text: 'User lookup' })),
    h('p', { class: 'muted lead', text: 'See every feature as one user gets it, with the reason.' }),
    h('section', { class: 'card' },
      h('form', { class: 'lookup-form', onsubmit: lookUp },
        h('div', { class: 'field-row' },
          field('User id', user),
          field('Attributes', attributes, { hint: 'One key=value per line, like plan=pro. Numbers and true/false are typed.' }),
          field('As of', at, { hint: 'Optional, your local time: the features as they were then, from the history. Empty: now.' })),
        error,
        h('div', { class: 'form-actions' }, submit))),
    h('div', { class: 'results-head' }, summary,
      h('div', { class: 'checkbox' }, onlyActive, h('label', { for: 'lookup-only-active', text: 'Only active features' }))),
    h('div', { class: 'table-scroll' }, table),
    h('div', { class: 'form-actions' }, more));
  if (lastContext) run(lastContext);

  return {
    // The answers must match the features as they are now: ask again for the same user.
    onLive: () => rerunSoon(),
    destroy() {
      alive = false;
      rerunSoon.cancel();
    },
  };
}
