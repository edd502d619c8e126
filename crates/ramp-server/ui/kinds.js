// Feature kinds (what a flag is for, which says how long it should live) and the lifecycle
// settings' day counts, in words, for the feature page, the settings screen and the history.
// The kinds' default lives are not repeated here: the server answers them
// (`default_expected_life_days` of GET /api/v1/settings/lifecycle).

import { h } from './dom.js';

/** Every kind, in the server's order, with its label. */
export const KINDS = [
  ['release', 'Release'],
  ['experiment', 'Experiment'],
  ['operational', 'Operational'],
  ['kill_switch', 'Kill switch'],
  ['permission', 'Permission'],
];

export const kindLabel = (kind) => KINDS.find(([value]) => value === kind)?.[1] || kind;

/** Options of a select of the five kinds with `selected` chosen. */
export function kindOptions(selected) {
  return KINDS.map(([value, label]) => h('option', { value, text: label, selected: value === selected }));
}

/** An expected life: `40 days`, `1 day`, or `permanent` for null. */
export const lifeText = (days) => {
  if (days === null || days === undefined) return 'permanent';
  return `${days} ${days === 1 ? 'day' : 'days'}`;
};

/** The health windows, as the settings name them, with their labels. */
export const WINDOWS = [
  ['ready_to_graduate_after_days', 'Ready to graduate after'],
  ['unused_after_days', 'Unused after'],
  ['safe_to_delete_after_days', 'Safe to delete after'],
];

export const windowLabel = (window) => WINDOWS.find(([value]) => value === window)?.[1] || window;
