// Health badges ("stale", "safe to delete"...): one per state the server found, with its
// evidence as the tooltip and for screen readers. Shared by the Features list, the Board's
// cards, a feature's page and the Cleanup screen; the states come with the data already shown
// (`with=health`, a feature's own read), never from a request per badge.

import { h } from '../dom.js';

/** The states in the order the Cleanup screen groups them, with their labels. */
export const HEALTH_STATES = [
  ['safe_to_delete', 'Safe to delete'],
  ['ready_to_graduate', 'Ready to graduate'],
  ['stale', 'Stale'],
  ['unused', 'Unused'],
];

export const healthLabel = (state) => (HEALTH_STATES.find(([value]) => value === state)?.[1] || state);

/** One badge per state of `health` (`{states: [{state, message, evidence}]}`), or null. */
export function healthBadges(health) {
  if (!health?.states?.length) return null;
  return h('span', { class: 'health-badges' }, health.states.map((finding) => h('span', {
    class: `badge badge-health badge-${finding.state.replaceAll('_', '-')}`,
    dataset: { health: finding.state },
    title: finding.message,
    'aria-label': `${healthLabel(finding.state)}: ${finding.message}`,
    text: healthLabel(finding.state).toLowerCase(),
  })));
}
