// The board: one column per stage. Moving a feature is one action, by the stage menu on its card
// (keyboard and touch) or by dragging the card to another column; the server records the move.
// A column with a WIP limit shows `n / limit` and looks full at its limit (admins set limits in
// the column heading); each card says how long the feature has been in its stage, and the cards
// sort by name or by time in stage, longest first.

import * as api from '../api.js';
import {
  h, appendChildren, replaceChildren, errorBox, showError, clearError, debounce, notify, STAGES, stageLabel, stageOptions, mismatchBadge,
  featureHref, formatPercentage, formatCount,
} from '../dom.js';
import { moveToStage } from './stage-move.js';
import { stageAgeText } from './stage-time.js';
import { healthBadges } from './health.js';

export function mount(root, { canEdit }) {
  let alive = true;
  let features = [];
  let serverTime = null;
  let settings = { wip_limits: {}, version: 0 };
  let sortBy = 'name';
  let dragging = null;
  let refreshWhenDropped = false;
  let latestRequest = 0;

  const error = errorBox('board-error');
  const columns = new Map(STAGES.map(([stage]) => [stage, column(stage)]));

  async function load() {
    const request = ++latestRequest;
    try {
      const [list, lifecycle] = await Promise.all([api.listFeatures(), api.lifecycleSettings()]);
      if (!alive || request !== latestRequest) return;
      features = list.features;
      serverTime = list.server_time;
      settings = lifecycle;
      render();
    } catch (failure) {
      if (alive && request === latestRequest) showError(error, failure);
    }
  }
  const loadSoon = debounce(() => {
    if (dragging) refreshWhenDropped = true;
    else load();
  }, 150);

  function column(stage) {
    const list = h('ul', { class: 'board-cards' });
    const count = h('span', { class: 'count', dataset: { stage } });
    const limitInput = canEdit ? limitEditor(stage) : null;
    const section = h('section', { class: `board-column stage-column-${stage}`, dataset: { stage }, 'aria-label': stageLabel(stage) },
      h('h2', {}, h('span', { class: `pill stage-${stage}`, text: stageLabel(stage) }), ' ', count),
      limitInput ? limitInput.element : null,
      list);
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
        const feature = features.find((each) => each.name === name);
        if (feature && feature.stage !== stage) move(feature, stage);
      });
    }
    return { section, list, count, limitInput };
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
        render();
        notify(`WIP limit of ${stageLabel(stage)} saved.`);
      } catch (failure) {
        showError(error, failure);
        await load();
      }
    });
    return {
      input,
      element: h('p', { class: 'wip-limit small-text' }, h('label', { for: id, text: 'WIP limit ' }), input),
    };
  }

  function sorted(inStage) {
    const byName = (left, right) => left.name.localeCompare(right.name);
    if (sortBy !== 'time') return [...inStage].sort(byName);
    // Longest in the stage first: the oldest `stage_since`. Compared as text (the server writes
    // nine fraction digits and `Z`, so text order is time order): Date.parse keeps only
    // milliseconds, and two features moved in one millisecond must still sort apart.
    const since = (feature) => feature.stage_since || '';
    return [...inStage].sort((left, right) =>
      (since(left) < since(right) ? -1 : since(left) > since(right) ? 1 : 0) || byName(left, right));
  }

  function render() {
    const focusedName = document.activeElement?.closest?.('[data-feature]')?.dataset.feature;
    for (const [stage, { section, list, count, limitInput }] of columns) {
      const inStage = features.filter((feature) => feature.stage === stage);
      const limit = settings.wip_limits?.[stage];
      const full = limit !== undefined && limit !== null && inStage.length >= limit;
      count.textContent = limit === undefined || limit === null
        ? formatCount(inStage.length)
        : `${formatCount(inStage.length)} / ${formatCount(limit)}${full ? ' · full' : ''}`;
      section.classList.toggle('full', full);
      if (limitInput && document.activeElement !== limitInput.input) limitInput.input.value = limit ?? '';
      replaceChildren(list, inStage.length ? sorted(inStage).map(card) : h('li', { class: 'empty muted', text: 'Nothing here' }));
    }
    // A live refresh must not throw the keyboard user out of the menu they were on.
    if (focusedName) root.querySelector(`[data-feature="${CSS.escape(focusedName)}"] select`)?.focus();
  }

  function card(feature) {
    const item = h('li', { class: 'board-card', dataset: { feature: feature.name } },
      h('a', { href: featureHref(feature.name), class: 'feature-link', text: feature.name }),
      feature.description ? h('p', { class: 'description', text: feature.description }) : null,
      h('p', { class: 'muted small-text', text: `${formatPercentage(feature.percentage)} · ${formatCount(feature.user_count)} users` },
        mismatchBadge(feature)),
      healthBadges(feature.health),
      feature.stage_since ? h('p', { class: 'muted small-text stage-age', text: stageAgeText(feature.stage, feature.stage_since, serverTime) }) : null);
    if (!canEdit) return item;
    const selectId = `move-${feature.name}`;
    const select = h('select', { id: selectId, class: 'move-stage' }, stageOptions(feature.stage));
    select.addEventListener('change', () => move(feature, select.value));
    item.append(h('div', { class: 'move' },
      h('label', { for: selectId, text: 'Stage', class: 'small-text' }), select));
    item.draggable = true;
    item.addEventListener('dragstart', (event) => {
      dragging = feature.name;
      event.dataTransfer.setData('text/plain', feature.name);
      event.dataTransfer.effectAllowed = 'move';
      item.classList.add('dragging');
    });
    item.addEventListener('dragend', () => {
      dragging = null;
      item.classList.remove('dragging');
      for (const { section } of columns.values()) section.classList.remove('drop-target');
      if (refreshWhenDropped) {
        refreshWhenDropped = false;
        load();
      }
    });
    return item;
  }

  async function move(feature, stage) {
    clearError(error);
    const from = feature.stage;
    feature.stage = stage;
    render();
    try {
      const answer = await moveToStage(feature, stage, feature.version);
      if (!answer) {
        feature.stage = from;
        render();
        return;
      }
      const { feature: moved } = answer;
      Object.assign(feature, { stage: moved.stage, version: moved.version, percentage: moved.percentage });
      render();
      // The time in stage restarts: read it (and the counts) again.
      load();
      notify(`Moved ${feature.name} from ${stageLabel(from)} to ${stageLabel(stage)}.`);
    } catch (failure) {
      feature.stage = from;
      showError(error, failure);
      await load();
    }
  }

  const sortSelect = h('select', { id: 'board-sort' },
    h('option', { value: 'name', text: 'Name' }),
    h('option', { value: 'time', text: 'Time in stage (longest first)' }));
  sortSelect.addEventListener('change', () => {
    sortBy = sortSelect.value;
    render();
  });

  appendChildren(root, 
    h('div', { class: 'page-heading' }, h('h1', { text: 'Board' }),
      canEdit ? h('p', { class: 'muted', text: 'Drag a card to another column, or change its stage menu.' }) : null,
      h('p', { class: 'board-sort' }, h('label', { for: 'board-sort', text: 'Sort cards by ' }), sortSelect)),
    error,
    h('div', { class: 'board' }, [...columns.values()].map(({ section }) => section)));
  load();

  return {
    onLive: () => loadSoon(),
    destroy() {
      alive = false;
      loadSoon.cancel();
    },
  };
}
