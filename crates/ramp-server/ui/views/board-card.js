// One board card, and the feature summary it shows kept current without the list: a move's
// answer and a live event carry the whole feature (user lists, not counts, and no time in
// stage), so they are folded into the summary the list gave. Also the list's own filters
// (search, owner), so a feature another person changed can be placed without asking the server.

import { h, stageOptions, mismatchBadge, featureHref, formatPercentage, formatCount } from '../dom.js';
import { stageAgeText } from './stage-time.js';
import { healthBadges } from './health.js';

/**
 * A card for `feature` (a list summary). `onMove(feature, stage)` runs when its stage menu
 * changes; `drag` gets `start(name)` and `end()`. Viewers (`canEdit` false) get neither.
 */
export function boardCard(feature, { serverTime, canEdit, onMove, drag }) {
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
  select.addEventListener('change', () => onMove(feature, select.value));
  item.append(h('div', { class: 'move' },
    h('label', { for: selectId, text: 'Stage', class: 'small-text' }), select));
  item.draggable = true;
  item.addEventListener('dragstart', (event) => {
    drag.start(feature.name);
    event.dataTransfer.setData('text/plain', feature.name);
    event.dataTransfer.effectAllowed = 'move';
    item.classList.add('dragging');
  });
  item.addEventListener('dragend', () => {
    item.classList.remove('dragging');
    drag.end();
  });
  return item;
}

/** The cards of a column by name, or with `sortBy` `time` longest in the stage first. */
export function sortCards(features, sortBy) {
  const byName = (left, right) => left.name.localeCompare(right.name);
  if (sortBy !== 'time') return [...features].sort(byName);
  // The oldest `stage_since` first, compared as text (the server writes nine fraction digits
  // and `Z`, so text order is time order): Date.parse keeps only milliseconds, and two features
  // moved in one millisecond must still sort apart.
  const since = (feature) => feature.stage_since || '';
  return [...features].sort((left, right) =>
    (since(left) < since(right) ? -1 : since(left) > since(right) ? 1 : 0) || byName(left, right));
}

/**
 * The summary of `full` (a feature as its page, an edit or a live event has it), keeping what
 * only the list computes from `previous`. The time in stage restarts at `now` when the stage
 * changed; health stays as the list last said until the next list read.
 */
export function summaryOf(full, previous, now) {
  const stageChanged = previous && previous.stage !== full.stage;
  return {
    ...(previous || {}),
    name: full.name,
    description: full.data?.description ?? null,
    data: full.data || {},
    stage: full.stage,
    kind: full.kind,
    percentage: full.percentage,
    user_count: full.users?.length ?? previous?.user_count ?? 0,
    excluded_count: full.excluded_users?.length ?? previous?.excluded_count ?? 0,
    groups: full.groups || [],
    version: full.version,
    stage_mismatch: full.stage_mismatch,
    stage_since: full.stage_since || (stageChanged || !previous ? now : previous.stage_since),
  };
}

/** Whether `feature` passes the board's filters, as the server applies them. */
export function matchesFilters(feature, { search, owner }) {
  const needle = (search || '').trim().toLowerCase();
  const wantedOwner = (owner || '').trim().toLowerCase();
  const name = feature.name.toLowerCase();
  const description = (feature.description || feature.data?.description || '').toLowerCase();
  if (needle && !name.includes(needle) && !description.includes(needle)) return false;
  if (wantedOwner) {
    const featureOwner = feature.data?.owner;
    if (typeof featureOwner !== 'string' || featureOwner.toLowerCase() !== wantedOwner) return false;
  }
  return true;
}
