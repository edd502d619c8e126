// User lookup: one user (id and attributes) against every feature, active or not, and why.

import * as api from '../api.js';
import {
  h, appendChildren, tableCell, replaceChildren, field, errorBox, showError, whileBusy, debounce, featureHref, formatCount,
} from '../dom.js';
import { explanation, readContext } from './feature-check.js';

// The last lookup survives navigation, so going to a feature and back keeps the answer.
let lastContext = null;

export function mount(root) {
  let alive = true;
  const user = h('input', { id: 'lookup-user', autocomplete: 'off', placeholder: '42' });
  const attributes = h('textarea', { id: 'lookup-attributes', rows: 3, spellcheck: 'false', placeholder: 'plan=pro\ncountry=fr' });
  const submit = h('button', { id: 'lookup-submit', type: 'submit', text: 'Look up' });
  const onlyActive = h('input', { id: 'lookup-only-active', type: 'checkbox' });
  const error = errorBox('lookup-error');
  const summary = h('p', { class: 'muted', role: 'status' });
  const tbody = h('tbody');
  const table = h('table', { id: 'lookup-results', class: 'data-table stack-on-phone', hidden: true },
    h('caption', { class: 'visually-hidden', text: 'Features for this user' }),
    h('thead', {}, h('tr', {}, ['Feature', 'Result', 'Reason'].map((title) => h('th', { scope: 'col', text: title })))),
    tbody);
  let states = [];

  if (lastContext) {
    user.value = lastContext.user_id || '';
    attributes.value = Object.entries(lastContext.attributes).map(([key, value]) => `${key}=${value}`).join('\n');
  }

  async function run(context) {
    try {
      const answer = await api.userStates(context);
      if (!alive) return;
      states = answer.states;
      render();
    } catch (failure) {
      if (alive) showError(error, failure, { user_id: user, attributes });
    }
  }

  function render() {
    const active = states.filter((state) => state.active).length;
    summary.textContent = `On in ${formatCount(active)} of ${formatCount(states.length)} features for ${lastContext.user_id ? `user ${lastContext.user_id}` : 'a visitor without a user id'}.`;
    const shown = onlyActive.checked ? states.filter((state) => state.active) : states;
    table.hidden = false;
    replaceChildren(tbody, shown.length ? shown.map((state) => h('tr', { dataset: { feature: state.feature } },
      tableCell('Feature', h('a', { href: featureHref(state.feature), text: state.feature })),
      tableCell('Result', h('span', { class: `pill ${state.active ? 'on' : 'off'}`, text: state.active ? 'Active' : 'Not active' })),
      tableCell('Reason', h('span', { text: state.reason === 'group' && state.group ? `group ${state.group}` : state.reason }),
        h('span', { class: 'muted small-text', text: ` — ${explanation(state)}` }))))
      : h('tr', { class: 'empty' }, h('td', { colspan: 3, text: 'No feature to show.' })));
  }

  async function lookUp(event) {
    event.preventDefault();
    const context = readContext(user, attributes, error);
    if (!context) return;
    lastContext = context;
    await whileBusy(submit, () => run(lastContext));
  }

  const rerunSoon = debounce(() => { if (lastContext && states.length) run(lastContext); }, 300);
  onlyActive.addEventListener('change', () => { if (states.length) render(); });

  appendChildren(root, 
    h('div', { class: 'page-heading' }, h('h1', { text: 'User lookup' })),
    h('p', { class: 'muted lead', text: 'See every feature as one user gets it, with the reason.' }),
    h('section', { class: 'card' },
      h('form', { class: 'lookup-form', onsubmit: lookUp },
        h('div', { class: 'field-row' },
          field('User id', user),
          field('Attributes', attributes, { hint: 'One key=value per line, like plan=pro. Numbers and true/false are typed.' })),
        error,
        h('div', { class: 'form-actions' }, submit))),
    h('div', { class: 'results-head' }, summary,
      h('div', { class: 'checkbox' }, onlyActive, h('label', { for: 'lookup-only-active', text: 'Only active features' }))),
    h('div', { class: 'table-scroll' }, table));
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
