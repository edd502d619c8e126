// The board: one column per stage. At thousands of features a column shows its first page of
// cards (sorted by name, as the server pages them) with its true count and "Show more"; the
// search and owner filters ask the server again for every column (the latest request wins).
// Moving a feature is one action, by the stage menu on its card (keyboard and touch) or by
// dragging the card to another column; the move's answer updates that card and the two counts
// in place, and live events from others fetch only the feature they name, so a move never
// downloads the list again. A column with a WIP limit shows `n / limit` (n the stage's true
// count, whatever the filters) and looks full at its limit (admins set limits in the column
// heading); each card says how long the feature has been in its stage, and the loaded cards
// sort by name or by time in stage, longest first.

import * as api from '../api.js';
import {
  h, appendChildren, replaceChildren, errorBox, showError, clearError, debounce, notify, STAGES, stageLabel, formatCount,
} from '../dom.js';
import { moveToStage } from './stage-move.js';
import { boardCard, sortCards, summaryOf, matchesFilters } from './board-card.js';

/** Cards a column loads at a time: enough to work on, few enough to draw at once. */
const PAGE_SIZE = 25;
/** The server's largest page, for reloading what a column already shows. */
const MAX_PAGE = 1000;
/** More changed features than this in one live event: read the visible pages again instead. */
const LIVE_FETCH_LIMIT = 20;

export function mount(root, { canEdit }) {
  let alive = true;
  let serverTime = null;
  let serverTimeReadAt = 0;
  let settings = { wip_limits: {}, version: 0 };
  let sortBy = 'name';
  let dragging = null;
  let reloadWhenDropped = false;
  let latestRequest = 0;
  let firstCardsMarked = false;
  const filters = { search: '', owner: '' };
  // Features being moved from this page: their events are this page's own echo.
  const moving = new Set();
  // Card elements by name, kept while their summary is the same object, so redrawing a column
  // moves existing cards instead of building them again.
  const cards = new Map();

  const error = errorBox('board-error');
  const columns = new Map(STAGES.map(([stage]) => [stage, column(stage)]));
  const filtered = () => Boolean(filters.search || filters.owner);

  /** The server's clock now, as far as the page can tell (for a card that just moved). */
  function serverNow() {
    const base = serverTime ? Date.parse(serverTime) : Date.now();
    return new Date(base + (performance.now() - serverTimeReadAt)).toISOString();
  }

  // Reads each column's first page (or, with `keepPages`, as many cards as it shows now) and
  // the WIP limits; with filters, also each stage's unfiltered count for the WIP display.
  async function load({ keepPages = false } = {}) {
    const request = ++latestRequest;
    const query = { search: filters.search, owner: filters.owner };
    try {
      const pages = STAGES.map(([stage]) => {
        const shown = columns.get(stage).features.length;
        const limit = keepPages ? Math.min(MAX_PAGE, Math.max(PAGE_SIZE, shown)) : PAGE_SIZE;
        return api.featurePage({ ...query, stage, limit });
      });
      const counts = filtered() ? STAGES.map(([stage]) => api.featurePage({ stage, limit: 1, additions: false })) : [];
      const [lifecycle, ...answers] = await Promise.all([api.lifecycleSettings(), ...pages, ...counts]);
      if (!alive || request !== latestRequest) return;
      settings = lifecycle;
      STAGES.forEach(([stage], index) => {
        const target = columns.get(stage);
        const page = answers[index];
        target.features = page.features;
        target.matching = page.total;
        target.total = filtered() ? answers[STAGES.length + index].total : page.total;
      });
      serverTime = answers[0]?.server_time ?? serverTime;
      serverTimeReadAt = performance.now();
      cards.clear();
      redraw(columns.keys());
      if (!firstCardsMarked) {
        firstCardsMarked = true;
        performance.mark('board-first-cards');
      }
    } catch (failure) {
      if (alive && request === latestRequest) showError(error, failure);
    }
  }
  const loadSoon = debounce(() => {
    if (dragging) reloadWhenDropped = true;
    else load({ keepPages: true });
  }, 150);

  // Every column's counts again, without cards: after a live change to a feature the page had
  // not loaded, whose earlier stage it cannot know.
  const recountSoon = debounce(async () => {
    const request = latestRequest;
    try {
      const query = { search: filters.search, owner: filters.owner, limit: 1, additions: false };
      const matching = await Promise.all(STAGES.map(([stage]) => api.featurePage({ ...query, stage })));
      const totals = filtered()
        ? await Promise.all(STAGES.map(([stage]) => api.featurePage({ stage, limit: 1, additions: false })))
        : matching;
      if (!alive || request !== latestRequest) return;
      STAGES.forEach(([stage], index) => {
        Object.assign(columns.get(stage), { matching: matching[index].total, total: totals[index].total });
        renderCount(stage);
      });
    } catch (failure) {
      if (alive) showError(error, failure);
    }
  }, 300);

  function column(stage) {
    const list = h('ul', { class: 'board-cards' });
    const count = h('span', { class: 'count', dataset: { stage } });
    const matchingText = h('span', { class: 'matching muted small-text', dataset: { stage } });
    const more = h('button', { type: 'button', class: 'show-more', dataset: { stage }, text: 'Show more', hidden: true });
    more.addEventListener('click', () => showMore(stage));
    const limitInput = canEdit ? limitEditor(stage) : null;
    const section = h('section', { class: `board-column stage-column-${stage}`, dataset: { stage }, 'aria-label': stageLabel(stage) },
      h('h2', {}, h('span', { class: `pill stage-${stage}`, text: stageLabel(stage) }), ' ', count, ' ', matchingText),
      limitInput ? limitInput.element : null,
      list,
      more);
    if (canEdit) {
      section.addEventListener('dragover', (event) => {
        if (!dragging) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'move';
        section.classList.add('drop-target');
      });
      section.addEventListener('dragleave', (event) => {
        if (!section.contains(event.relatedTarget)) section.classList.remove('drop-target');
      });
      section.addEventListener('drop', (event) => {
        event.preventDefault();
        section.classList.remove('drop-target');
        const name = event.dataTransfer.getData('text/plain') || dragging;
        const feature = findLoaded(name)?.feature;
        if (feature && feature.stage !== stage) move(feature, stage);
      });
    }
    return { section, list, count, matchingText, more, limitInput, features: [], total: 0, matching: 0 };
  }

  // An admin's WIP limit for one column: a number (empty for none), saved on change with the
  // version read, so two admins editing at once cannot overwrite each other.
  function limitEditor(stage) {
    const id = `wip-limit-${stage}`;
    const input = h('input', { id, type: 'number', min: '0', max: '10000', step: '1', class: 'wip-limit-input', placeholder: 'none' });
    input.addEventListener('change', async () => {
      clearError(error);
      const limits = { ...settings.wip_limits };
      if (input.value.trim() === '') delete limits[stage];
      else limits[stage] = Number(input.value);
      try {
        settings = await api.putLifecycleSettings(limits, settings.version);
        for (const each of columns.keys()) renderCount(each);
        notify(`WIP limit of ${stageLabel(stage)} saved.`);
      } catch (failure) {
        showError(error, failure);
        await load({ keepPages: true });
      }
    });
    return {
      input,
      element: h('p', { class: 'wip-limit small-text' }, h('label', { for: id, text: 'WIP limit ' }), input),
    };
  }

  async function showMore(stage) {
    const target = columns.get(stage);
    const request = latestRequest;
    target.more.disabled = true;
    try {
      const page = await api.featurePage({
        search: filters.search, owner: filters.owner, stage, offset: target.features.length, limit: PAGE_SIZE,
      });
      if (!alive || request !== latestRequest) return;
      // A move since the first page shifts the offsets: never show a card twice.
      const shown = new Set(target.features.map((feature) => feature.name));
      target.features.push(...page.features.filter((feature) => !shown.has(feature.name)));
      target.matching = page.total;
      if (!filtered()) target.total = page.total;
      redraw([stage]);
    } catch (failure) {
      showError(error, failure);
    } finally {
      target.more.disabled = false;
    }
  }

  function renderCount(stage) {
    const { section, count, matchingText, more, limitInput, features, total, matching } = columns.get(stage);
    const limit = settings.wip_limits?.[stage];
    const full = limit !== undefined && limit !== null && total >= limit;
    count.textContent = limit === undefined || limit === null
      ? formatCount(total)
      : `${formatCount(total)} / ${formatCount(limit)}${full ? ' · full' : ''}`;
    matchingText.textContent = filtered() ? `(${formatCount(matching)} match)` : '';
    section.classList.toggle('full', full);
    if (limitInput && document.activeElement !== limitInput.input) limitInput.input.value = limit ?? '';
    const hidden = Math.max(0, matching - features.length);
    more.hidden = hidden === 0;
    more.textContent = `Show more (${formatCount(hidden)} more)`;
  }

  function cardElement(feature) {
    const known = cards.get(feature.name);
    if (known?.feature === feature) return known.element;
    const element = boardCard(feature, { serverTime, canEdit, onMove: move, drag: { start: (name) => { dragging = name; }, end: dragEnded } });
    cards.set(feature.name, { feature, element });
    return element;
  }

  // Redraws the columns of `stages`; a redraw must not throw the keyboard user out of the
  // menu they were on, even when its card moved to another column.
  function redraw(stages) {
    const focusedName = document.activeElement?.closest?.('.board-card')?.dataset.feature;
    for (const stage of stages) {
      const { list, features } = columns.get(stage);
      renderCount(stage);
      replaceChildren(list, features.length ? sortCards(features, sortBy).map(cardElement) : h('li', { class: 'empty muted', text: 'Nothing here' }));
    }
    if (focusedName && !document.activeElement?.closest?.('.board-card')) {
      root.querySelector(`.board-card[data-feature="${CSS.escape(focusedName)}"] select`)?.focus();
    }
  }

  function findLoaded(name) {
    for (const [stage, { features }] of columns) {
      const index = features.findIndex((feature) => feature.name === name);
      if (index >= 0) return { stage, index, feature: features[index] };
    }
    return null;
  }

  // Puts `feature` (a new summary object) where its stage says, taking it out of the column it
  // was loaded in, and moves the two counts; `counted` says whether it was in a column's count.
  function place(feature, { counted = true } = {}) {
    const found = findLoaded(feature.name);
    const changed = new Set();
    if (found) {
      columns.get(found.stage).features.splice(found.index, 1);
      changed.add(found.stage);
    }
    const leaving = found ? found.stage : null;
    const target = columns.get(feature.stage);
    if (target) {
      target.features.push(feature);
      changed.add(feature.stage);
    }
    if (counted && leaving !== feature.stage) {
      if (leaving) adjust(leaving, -1);
      if (target) adjust(feature.stage, +1);
    }
    redraw(changed);
  }

  function adjust(stage, by) {
    const target = columns.get(stage);
    target.total = Math.max(0, target.total + by);
    target.matching = Math.max(0, target.matching + by);
  }

  function remove(name) {
    const found = findLoaded(name);
    if (!found) return false;
    columns.get(found.stage).features.splice(found.index, 1);
    adjust(found.stage, -1);
    cards.delete(name);
    redraw([found.stage]);
    return true;
  }

  async function move(feature, stage) {
    clearError(error);
    performance.mark('board-move-start');
    moving.add(feature.name);
    place({ ...feature, stage, stage_since: serverNow() });
    performance.measure('board-move-drawn', 'board-move-start');
    try {
      const answer = await moveToStage(feature, stage, feature.version);
      if (!answer) {
        place(feature);
        return;
      }
      const moved = summaryOf(answer.feature, feature, serverNow());
      place(moved);
      performance.measure('board-move', 'board-move-start');
      notify(`Moved ${feature.name} from ${stageLabel(feature.stage)} to ${stageLabel(moved.stage)}.`);
    } catch (failure) {
      place(feature);
      showError(error, failure);
      // Refused (someone else changed it first, say): show the feature as it is now.
      moving.delete(feature.name);
      patch({ features: [{ name: feature.name }] });
    } finally {
      moving.delete(feature.name);
    }
  }

  function dragEnded() {
    dragging = null;
    for (const { section } of columns.values()) section.classList.remove('drop-target');
    if (reloadWhenDropped) {
      reloadWhenDropped = false;
      load({ keepPages: true });
    }
  }

  // Another person's change (or this page's own, come back): only the features it names.
  async function patch(event) {
    const changed = (event.features || []).filter((each) => each?.name && !moving.has(each.name));
    const deleted = (event.deleted || []).filter((name) => !moving.has(name));
    if (changed.length + deleted.length > LIVE_FETCH_LIMIT) {
      loadSoon();
      return;
    }
    let unknown = false;
    for (const name of deleted) unknown = !remove(name) || unknown;
    for (const each of changed) {
      const loaded = findLoaded(each.name)?.feature;
      // The echo of a move this page made: its answer is already on the card.
      if (loaded && each.version !== undefined && loaded.version >= each.version) continue;
      try {
        const full = await api.findFeature(each.name);
        if (!alive) return;
        const current = findLoaded(each.name)?.feature;
        if (!full) {
          unknown = !remove(each.name) || unknown;
        } else if (current) {
          if (current.version >= full.version) continue;
          const summary = summaryOf(full, current, serverNow());
          if (matchesFilters(summary, filters)) {
            place(summary);
          } else {
            // It left the filtered view; whether its stage's true count moved is the server's to say.
            remove(each.name);
            unknown = true;
          }
        } else {
          // Not on the page: its earlier stage (and so which count moved) is unknown.
          unknown = true;
          const summary = summaryOf(full, null, serverNow());
          if (fitsLoadedPage(summary)) place(summary, { counted: false });
        }
      } catch (failure) {
        if (alive) showError(error, failure);
      }
    }
    if (unknown) recountSoon();
  }

  // A feature not on the page is drawn only where the server's name order would have put it
  // within the cards loaded, so "Show more" continues where it should.
  function fitsLoadedPage(feature) {
    const target = columns.get(feature.stage);
    if (!target || !matchesFilters(feature, filters)) return false;
    if (target.features.length >= target.matching) return true;
    const last = target.features.reduce((latest, each) => (each.name > latest ? each.name : latest), '');
    return feature.name < last;
  }

  const sortSelect = h('select', { id: 'board-sort' },
    h('option', { value: 'name', text: 'Name' }),
    h('option', { value: 'time', text: 'Time in stage (longest first)' }));
  sortSelect.addEventListener('change', () => {
    sortBy = sortSelect.value;
    redraw(columns.keys());
  });

  const searchInput = h('input', { id: 'board-search', type: 'search', placeholder: 'Name or description', autocomplete: 'off' });
  const ownerInput = h('input', { id: 'board-owner', type: 'text', placeholder: 'Any owner', autocomplete: 'off' });
  const applyFilters = debounce(() => {
    filters.search = searchInput.value.trim();
    filters.owner = ownerInput.value.trim();
    load();
  }, 250);
  searchInput.addEventListener('input', applyFilters);
  ownerInput.addEventListener('input', applyFilters);

  appendChildren(root,
    h('div', { class: 'page-heading' }, h('h1', { text: 'Board' }),
      canEdit ? h('p', { class: 'muted', text: 'Drag a card to another column, or change its stage menu.' }) : null,
      h('p', { class: 'board-filters' },
        h('label', { for: 'board-search', text: 'Search ' }), searchInput, ' ',
        h('label', { for: 'board-owner', text: 'Owner ' }), ownerInput),
      h('p', { class: 'board-sort' }, h('label', { for: 'board-sort', text: 'Sort cards by ' }), sortSelect)),
    error,
    h('div', { class: 'board' }, [...columns.values()].map(({ section }) => section)));
  load();

  return {
    onLive: (event) => {
      if (event.type === 'reload') loadSoon();
      else patch(event);
    },
    destroy() {
      alive = false;
      loadSoon.cancel();
      recountSoon.cancel();
      applyFilters.cancel();
    },
  };
}
