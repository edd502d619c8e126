// The board: one column per stage. Moving a feature is one action, by the stage menu on its card
// (keyboard and touch) or by dragging the card to another column; the server records the move.

import * as api from '../api.js';
import {
  h, appendChildren, replaceChildren, errorBox, showError, clearError, debounce, notify, STAGES, stageLabel, stageOptions, mismatchBadge,
  featureHref, formatPercentage, formatCount,
} from '../dom.js';
import { moveToStage } from './stage-move.js';

export function mount(root, { canEdit }) {
  let alive = true;
  let features = [];
  let dragging = null;
  let refreshWhenDropped = false;
  let latestRequest = 0;

  const error = errorBox('board-error');
  const columns = new Map(STAGES.map(([stage]) => [stage, column(stage)]));

  async function load() {
    const request = ++latestRequest;
    try {
      const list = await api.listFeatures();
      if (!alive || request !== latestRequest) return;
      features = list.features;
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
    const count = h('span', { class: 'count' });
    const section = h('section', { class: `board-column stage-column-${stage}`, dataset: { stage }, 'aria-label': stageLabel(stage) },
      h('h2', {}, h('span', { class: `pill stage-${stage}`, text: stageLabel(stage) }), ' ', count),
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
    return { section, list, count };
  }

  function render() {
    const focusedName = document.activeElement?.closest?.('[data-feature]')?.dataset.feature;
    for (const [stage, { list, count }] of columns) {
      const inStage = features.filter((feature) => feature.stage === stage);
      count.textContent = formatCount(inStage.length);
      replaceChildren(list, inStage.length ? inStage.map(card) : h('li', { class: 'empty muted', text: 'Nothing here' }));
    }
    // A live refresh must not throw the keyboard user out of the menu they were on.
    if (focusedName) root.querySelector(`[data-feature="${CSS.escape(focusedName)}"] select`)?.focus();
  }

  function card(feature) {
    const item = h('li', { class: 'board-card', dataset: { feature: feature.name } },
      h('a', { href: featureHref(feature.name), class: 'feature-link', text: feature.name }),
      feature.description ? h('p', { class: 'description', text: feature.description }) : null,
      h('p', { class: 'muted small-text', text: `${formatPercentage(feature.percentage)} · ${formatCount(feature.user_count)} users` },
        mismatchBadge(feature)));
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
      notify(`Moved ${feature.name} from ${stageLabel(from)} to ${stageLabel(stage)}.`);
    } catch (failure) {
      feature.stage = from;
      showError(error, failure);
      await load();
    }
  }

  appendChildren(root, 
    h('div', { class: 'page-heading' }, h('h1', { text: 'Board' }),
      canEdit ? h('p', { class: 'muted', text: 'Drag a card to another column, or change its stage menu.' }) : null),
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
