// The Cleanup screen: the features in a health state (safe to delete, ready to graduate,
// stale, unused), grouped by state, each with the evidence the server found and a link to its
// page. One request (`GET /api/v1/cleanup`) for the whole screen.

import * as api from '../api.js';
import { h, appendChildren, replaceChildren, errorBox, showError, stagePill, featureHref, formatPercentage, plural } from '../dom.js';
import { HEALTH_STATES } from './health.js';
import { stageAgeText } from './stage-time.js';

// What each state means, said once above its group.
const EXPLAINED = {
  safe_to_delete: 'Graduated, no code references in the uploaded scans, and not checked lately: delete the flag.',
  ready_to_graduate: 'On for everyone and unchanged for a while: remove the old code path and graduate it.',
  stale: 'Older than its kind is expected to live.',
  unused: 'No application has checked it lately.',
};

export function mount(root) {
  let alive = true;
  const error = errorBox('cleanup-error');
  const summary = h('p', { class: 'muted', role: 'status', id: 'cleanup-summary' });
  const groups = h('div', { id: 'cleanup-groups' });

  function item(feature, finding, serverTime) {
    return h('li', { class: 'cleanup-item card', dataset: { feature: feature.name, health: finding.state } },
      h('a', { href: featureHref(feature.name), class: 'feature-link', text: feature.name }),
      ' ', stagePill(feature.stage),
      h('span', { class: 'muted small-text', text: ` ${feature.kind.replaceAll('_', ' ')} · ${formatPercentage(feature.percentage)}` }),
      feature.description ? h('p', { class: 'description', text: feature.description }) : null,
      h('p', { class: 'evidence', text: finding.message }),
      feature.stage_since ? h('p', { class: 'muted small-text', text: stageAgeText(feature.stage, feature.stage_since, serverTime) }) : null);
  }

  async function load() {
    try {
      const report = await api.cleanup();
      if (!alive) return;
      const total = report.features.length;
      summary.textContent = total ? `${plural(total, 'feature')} to look at.` : 'Nothing to clean up.';
      replaceChildren(groups, HEALTH_STATES.map(([state, label]) => {
        const listed = report.features
          .map((feature) => [feature, feature.health.states.find((finding) => finding.state === state)])
          .filter(([, finding]) => finding);
        const headingId = `cleanup-${state}`;
        return h('section', { class: 'cleanup-group', dataset: { state }, 'aria-labelledby': headingId },
          h('h2', { id: headingId, text: `${label} (${report.counts[state] ?? listed.length})` }),
          h('p', { class: 'hint', text: EXPLAINED[state] }),
          listed.length
            ? h('ul', { class: 'cleanup-list' }, listed.map(([feature, finding]) => item(feature, finding, report.server_time)))
            : h('p', { class: 'muted empty', text: 'None.' }));
      }));
    } catch (failure) {
      if (alive) showError(error, failure);
    }
  }

  appendChildren(root,
    h('div', { class: 'page-heading' }, h('h1', { text: 'Cleanup' }), summary),
    error,
    groups);
  load();
  return {
    onLive: () => load(),
    destroy() { alive = false; },
  };
}
