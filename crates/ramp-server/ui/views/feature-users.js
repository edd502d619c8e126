// A user list on the feature page (the allow list or the exclusions): paste many ids at once,
// search, and page through it 100 at a time from the server, so lists of 100,000 ids stay fast.

import * as api from '../api.js';
import {
  h, replaceChildren, field, errorBox, showError, showMessage, clearError, notify, debounce, formatCount, plural,
} from '../dom.js';
import { parseUserIds } from '../parse.js';

const PAGE_SIZE = 100;

/** `config` names the list, its element ids and its add/remove calls (see feature.js). */
export function userListSection(page, config) {
  const { ids } = config;
  const error = errorBox(ids.error);
  const search = h('input', { id: ids.search, type: 'search', autocomplete: 'off', placeholder: 'Part of an id' });
  const total = h('p', { id: ids.total, class: 'list-total', 'aria-live': 'polite' });
  const list = h('ul', { id: ids.list, class: 'id-list' });
  const prev = h('button', { id: ids.prev, type: 'button', class: 'secondary small', text: '← Previous', disabled: true });
  const next = h('button', { id: ids.next, type: 'button', class: 'secondary small', text: 'Next →', disabled: true });
  const range = h('span', { class: 'muted small-text' });
  const pager = h('div', { class: 'pager' }, prev, range, next);
  let offset = 0;
  let latestRequest = 0;

  async function fetchPage() {
    const request = ++latestRequest;
    const query = { list: config.list, search: search.value.trim(), offset, limit: PAGE_SIZE };
    let result;
    try {
      result = await api.userPage(page.name, query);
    } catch (failure) {
      // Until the server has the page endpoint, page through the list the feature carries.
      if (failure.code !== 'no_route') {
        if (request === latestRequest && page.alive) showError(error, failure);
        return;
      }
      result = localPage(page.feature[config.list] || [], query);
    }
    if (request !== latestRequest || !page.alive) return;
    if (result.users.length === 0 && offset > 0 && result.matching > 0) {
      offset = Math.max(0, Math.floor((result.matching - 1) / PAGE_SIZE) * PAGE_SIZE);
      fetchPage();
      return;
    }
    render(result);
  }
  const fetchPageSoon = debounce(() => { offset = 0; fetchPage(); }, 250);

  function render({ total: all, matching, users }) {
    const searching = search.value.trim() !== '';
    total.textContent = searching
      ? `${formatCount(matching)} of ${plural(all, config.noun[0], config.noun[1])} match`
      : plural(all, config.noun[0], config.noun[1]);
    const shown = searching ? matching : all;
    range.textContent = shown > PAGE_SIZE ? `${formatCount(offset + 1)}–${formatCount(offset + users.length)} of ${formatCount(shown)}` : '';
    prev.disabled = offset === 0;
    next.disabled = offset + users.length >= shown;
    pager.hidden = offset === 0 && shown <= PAGE_SIZE;
    if (users.length === 0) {
      replaceChildren(list, h('li', { class: 'empty muted', text: searching ? 'No id matches.' : 'Nobody on this list.' }));
      return;
    }
    // On the allow list, an excluded user still does not get the feature: say so on the row.
    const excluded = config.list === 'users' ? excludedIds(page.feature) : new Set();
    replaceChildren(list, users.map((user) => h('li', {
      dataset: excluded.has(user) ? { user, excluded: '' } : { user },
      class: excluded.has(user) ? 'excluded-user' : null,
    },
      h('span', { class: 'user-id' }, user,
        excluded.has(user) ? h('span', { class: 'badge badge-excluded', title: 'Excluded: never gets the feature', text: 'excluded' }) : null),
      page.canEdit ? h('button', {
        type: 'button', class: `${config.removeClass} link-button`, text: config.removeText,
        'aria-label': `${config.removeText}: ${user}`, onclick: (event) => removeUser(user, event.currentTarget),
      }) : null)));
  }

  async function removeUser(user, button) {
    const result = await page.edit({ error, button }, (version) => config.remove(page.name, [user], version));
    if (result) notify(`${config.removeText === 'Remove' ? 'Removed' : 'Included again'}: ${user}.`);
  }

  prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE_SIZE); fetchPage(); });
  next.addEventListener('click', () => { offset += PAGE_SIZE; fetchPage(); });
  search.addEventListener('input', fetchPageSoon);

  const body = [
    h('p', { class: 'muted', text: config.intro }),
    page.canEdit ? pasteForm(page, config, error) : null,
    h('div', { class: 'list-head' }, total, field(`Search ${config.title.toLowerCase()}`, search, { hiddenLabel: true })),
    list,
    pager,
    page.canEdit ? null : error,
  ];

  return {
    element: h('section', { class: 'card', 'aria-labelledby': `${ids.list}-heading` },
      h('h2', { id: `${ids.list}-heading`, text: config.title }), body),
    // Every new version may have changed this list: show the same page of the new list.
    update: () => fetchPage(),
    destroy: () => fetchPageSoon.cancel(),
  };
}

function pasteForm(page, config, error) {
  const { ids } = config;
  const paste = h('textarea', { id: ids.paste, rows: 3, spellcheck: 'false', placeholder: 'alice\nbob, carol 42' });
  const add = h('button', { id: ids.add, type: 'submit', text: config.addText });
  const counter = h('span', { class: 'muted small-text', 'aria-live': 'polite' });

  // Counting a 100,000-id paste takes a moment: count when typing pauses, not per keystroke.
  const countSoon = debounce(() => {
    const count = parseUserIds(paste.value).length;
    counter.textContent = count ? `${formatCount(count)} ${count === 1 ? 'id' : 'ids'} ready` : '';
  }, 200);
  paste.addEventListener('input', countSoon);
  // Ctrl+Enter adds, since Enter alone starts a new line in the box.
  paste.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) add.click();
  });

  async function submit(event) {
    event.preventDefault();
    clearError(error);
    const users = parseUserIds(paste.value);
    if (!users.length) {
      showMessage(error, 'Paste or type at least one user id.');
      paste.focus();
      return;
    }
    const before = (page.feature[config.list] || []).length;
    const result = await page.edit({ error, inputs: { users: paste }, button: add }, (version) => config.add(page.name, users, version));
    if (!result) return;
    paste.value = '';
    countSoon.cancel();
    counter.textContent = '';
    const after = (result.feature?.[config.list] || []).length;
    const added = Math.max(0, after - before);
    const already = users.length - added;
    notify(`${config.added(added)}${already > 0 ? ` (${formatCount(already)} already there)` : ''}.`);
  }

  return h('form', { class: 'paste-form', onsubmit: submit },
    field(config.pasteLabel, paste),
    h('div', { class: 'form-actions' }, add, counter),
    error);
}

// One Set per feature version, so paging through a long list does not rebuild it.
let excludedCache = { feature: null, ids: new Set() };
function excludedIds(feature) {
  if (excludedCache.feature !== feature) {
    excludedCache = { feature, ids: new Set(feature?.excluded_users || []) };
  }
  return excludedCache.ids;
}

function localPage(all, { search, offset, limit }) {
  const matches = search ? all.filter((user) => user.includes(search)) : all;
  return { total: all.length, matching: matches.length, offset, users: matches.slice(offset, offset + limit) };
}
