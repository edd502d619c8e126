// The feature page's history timeline, newest first, with a revert button per event for admins.

import * as api from '../api.js';
import { h, replaceChildren, errorBox, showError, confirmAction, notify, whileBusy } from '../dom.js';
import { eventItem, revertQuestion } from './event-words.js';

const FIRST_PAGE = 20;

export function historySection(page) {
  const list = h('ol', { id: 'history-list', class: 'timeline' });
  const error = errorBox('history-error');
  const more = h('button', { id: 'feature-history-more', type: 'button', class: 'secondary small', text: 'Load more', hidden: true });
  let events = [];
  let nextBefore = null;
  let latestRequest = 0;

  // After a change, fetch as many events as are shown, so "Load more" pages are not lost.
  async function load() {
    const request = ++latestRequest;
    try {
      const limit = Math.min(1000, Math.max(FIRST_PAGE, events.length));
      const history = await api.featureHistory(page.name, { limit });
      if (request !== latestRequest || !page.alive) return;
      events = history.events;
      nextBefore = history.next_before ?? null;
      render();
    } catch (failure) {
      if (page.alive) showError(error, failure);
    }
  }

  async function loadMore() {
    await whileBusy(more, async () => {
      try {
        const history = await api.featureHistory(page.name, { before: nextBefore, limit: FIRST_PAGE });
        events = events.concat(history.events);
        nextBefore = history.next_before ?? null;
        render();
      } catch (failure) {
        showError(error, failure);
      }
    });
  }

  function render() {
    replaceChildren(list, events.length
      ? events.map((event) => eventItem(event, { onRevert: page.canEdit ? revertEvent : null }))
      : h('li', { class: 'empty muted', text: 'No history yet.' }));
    more.hidden = nextBefore === null;
  }

  async function revertEvent(event, sentence, button) {
    if (!await confirmAction(revertQuestion(event, sentence), { okLabel: 'Undo', danger: event.action === 'created' })) return;
    // Through page.edit, so the stream's echo of this revert is not taken for someone else's.
    const result = await page.edit({ error, button }, async (version) => {
      const reverted = await api.revert(page.name, event.id, version);
      if (reverted.outcome === 'deleted') return { deleted: true };
      return { feature: await api.getFeature(page.name), changed: Boolean(reverted.event) };
    });
    if (!result) return;
    if (result.deleted) {
      page.alive = false;
      notify(`Undone: ${page.name} no longer exists. Undoing that in the history brings it back.`);
      location.hash = '#/features';
      return;
    }
    notify(result.changed ? 'Undone.' : 'Nothing to undo: the feature already matches.');
  }

  more.addEventListener('click', loadMore);
  return {
    element: h('section', { class: 'card', 'aria-labelledby': 'history-heading' },
      h('div', { class: 'section-heading' },
        h('h2', { id: 'history-heading', text: 'History' }),
        h('a', { href: `#/history?feature=${encodeURIComponent(page.name)}`, class: 'small-text', text: 'In the full history' })),
      error,
      list,
      more),
    update: () => load(),
  };
}
