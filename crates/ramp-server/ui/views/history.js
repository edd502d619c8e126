// The global audit log in plain words, filtered by feature (or stored group), actor and date
// range, with "Load more" paging and (for admins) revert. The feature filter suggests names
// as they are typed, twenty at a time from the server, never the whole list.

import * as api from '../api.js';
import {
  h, appendChildren, replaceChildren, field, errorBox, showError, clearError, confirmAction, notify, debounce, whileBusy,
} from '../dom.js';
import { eventItem, revertQuestion, subjectName, subjectNoun } from './event-words.js';

const PAGE_SIZE = 50;
const SUGGESTIONS = 20;

// A date picked in the browser means that whole local day; the server gets exact instants.
function dayStart(date, offsetDays = 0) {
  const [year, month, day] = date.split('-').map(Number);
  return new Date(year, month - 1, day + offsetDays);
}

export function mount(root, { canEdit, query }) {
  let alive = true;
  let events = [];
  let nextBefore = null;
  let latestRequest = 0;

  const feature = h('input', { id: 'history-feature', list: 'history-feature-names', autocomplete: 'off', value: query.get('feature') || '' });
  const names = h('datalist', { id: 'history-feature-names' });
  const group = h('input', { id: 'history-group', autocomplete: 'off', value: query.get('group') || '' });
  const actor = h('input', { id: 'history-actor', autocomplete: 'off', value: query.get('actor') || '' });
  const since = h('input', { id: 'history-since', type: 'date' });
  const until = h('input', { id: 'history-until', type: 'date' });
  const apply = h('button', { id: 'history-apply', type: 'submit', text: 'Apply' });
  const error = errorBox('history-error');
  const list = h('ol', { id: 'global-history', class: 'timeline' });
  const more = h('button', { id: 'history-more', type: 'button', class: 'secondary', text: 'Load more', hidden: true });
  const inputs = { feature, group, actor, since, until };

  function filters() {
    const chosen = { feature: feature.value.trim(), group: group.value.trim(), actor: actor.value.trim() };
    if (since.value) chosen.since = dayStart(since.value).toISOString();
    if (until.value) chosen.until = new Date(dayStart(until.value, 1).getTime() - 1).toISOString();
    return chosen;
  }

  async function load({ keepLoaded = false } = {}) {
    const request = ++latestRequest;
    clearError(error, inputs);
    try {
      const limit = keepLoaded ? Math.min(1000, Math.max(PAGE_SIZE, events.length)) : PAGE_SIZE;
      const page = await api.globalHistory({ ...filters(), limit });
      if (!alive || request !== latestRequest) return;
      events = page.events;
      nextBefore = page.next_before ?? null;
      render();
    } catch (failure) {
      if (alive && request === latestRequest) showError(error, failure, inputs);
    }
  }
  const refreshSoon = debounce(() => load({ keepLoaded: true }), 300);

  async function loadMore() {
    await whileBusy(more, async () => {
      try {
        const page = await api.globalHistory({ ...filters(), before: nextBefore, limit: PAGE_SIZE });
        events = events.concat(page.events);
        nextBefore = page.next_before ?? null;
        render();
      } catch (failure) {
        showError(error, failure, inputs);
      }
    });
  }

  function render() {
    replaceChildren(list, events.length
      ? events.map((event) => eventItem(event, { showFeature: true, onRevert: canEdit ? revertEvent : null }))
      : h('li', { class: 'empty muted', text: 'No event matches these filters.' }));
    more.hidden = nextBefore === null;
  }

  async function revertEvent(event, sentence, button) {
    if (!await confirmAction(revertQuestion(event, sentence), { okLabel: 'Undo', danger: event.action === 'created' })) return;
    clearError(error, inputs);
    await whileBusy(button, async () => {
      const name = subjectName(event);
      const subject = subjectNoun(event) === 'group' ? `group ${name}` : name;
      try {
        const result = event.group !== undefined
          ? await api.revertGroup(event.group, event.id)
          : await api.revert(event.feature, event.id);
        if (result.outcome === 'deleted') notify(`Undone: ${subject} no longer exists.`);
        else notify(result.event ? `Undone on ${subject}.` : `Nothing to undo: ${subject} already matches.`);
      } catch (failure) {
        showError(error, failure);
      }
      await load({ keepLoaded: true });
    });
  }

  function submit(submitEvent) {
    submitEvent.preventDefault();
    // The filters go into the address, so a filtered history can be bookmarked or shared.
    const params = new URLSearchParams();
    if (feature.value.trim()) params.set('feature', feature.value.trim());
    if (group.value.trim()) params.set('group', group.value.trim());
    if (actor.value.trim()) params.set('actor', actor.value.trim());
    history.replaceState(null, '', `#/history${params.size ? `?${params}` : ''}`);
    load();
  }

  function clearFilters() {
    for (const input of Object.values(inputs)) input.value = '';
    history.replaceState(null, '', '#/history');
    load();
  }

  more.addEventListener('click', loadMore);
  let latestSuggestion = 0;
  const suggestSoon = debounce(async () => {
    const asked = ++latestSuggestion;
    try {
      const found = await api.featureNames(feature.value.trim(), SUGGESTIONS);
      if (alive && asked === latestSuggestion) replaceChildren(names, found.map((name) => h('option', { value: name })));
    } catch {
      // Suggestions are a convenience; the filter works without them.
    }
  }, 150);
  feature.addEventListener('input', suggestSoon);
  feature.addEventListener('focus', suggestSoon, { once: true });

  appendChildren(root, 
    h('div', { class: 'page-heading' }, h('h1', { text: 'History' })),
    h('form', { class: 'toolbar history-filters', onsubmit: submit },
      field('Feature', feature), names,
      field('Group', group),
      field('Changed by', actor),
      field('From', since),
      field('To', until),
      h('div', { class: 'form-actions' }, apply,
        h('button', { type: 'button', class: 'secondary', text: 'Clear', onclick: clearFilters }))),
    error,
    list,
    more);
  load();

  return {
    onLive: () => refreshSoon(),
    destroy() {
      alive = false;
      refreshSoon.cancel();
      suggestSoon.cancel();
    },
  };
}
