// The feature page's data migrations: the latest progress each migrator reported
// (`Client::report_migration`, or `PUT /api/v1/features/{name}/migrations/{migration}`), one
// progress bar per migration with "8,230 of 10,000 records migrated; target 12.5 %", what is
// still pending either way, failures and the last error, the phase and when it reported. The
// whole panel stays hidden while no migration has reported. Read when the page loads and
// after each change of the feature; there is no live feed of reports.

import * as api from '../api.js';
import { h, replaceChildren, errorBox, showError, clearError, formatCount, formatPercentage, relativeTimeElement } from '../dom.js';

const PHASES = { running: 'Running', done: 'Done', failed: 'Failed' };

/** "8,230 of 10,000 records migrated; target 12.5 %" (no target when the report has none). */
export function progressSentence(report) {
  const migrated = `${formatCount(report.migrated)} of ${formatCount(report.covered)} records migrated`;
  const target = report.target_percentage === null || report.target_percentage === undefined
    ? '' : `; target ${formatPercentage(report.target_percentage)}`;
  return migrated + target;
}

export function migrationsSection(page) {
  const error = errorBox('migrations-error');
  const list = h('ul', { id: 'migrations-list', class: 'migrations' });
  const element = h('section', { id: 'migrations', class: 'card', 'aria-labelledby': 'migrations-heading', hidden: true },
    h('h2', { id: 'migrations-heading', text: 'Migrations' }),
    error,
    list);
  let latestRequest = 0;

  async function load() {
    const request = ++latestRequest;
    try {
      const answer = await api.featureMigrations(page.name);
      if (request !== latestRequest || !page.alive) return;
      render(answer.migrations);
    } catch (failure) {
      if (!page.alive) return;
      element.hidden = false;
      showError(error, failure);
    }
  }

  function render(reports) {
    clearError(error);
    element.hidden = reports.length === 0;
    replaceChildren(list, reports.map((report) => {
      const bar = h('progress', {
        class: 'migration-bar',
        // `max` before `value`: a value above the default max of 1 would be clipped.
        max: Math.max(report.covered, 1),
        value: Math.min(report.migrated, Math.max(report.covered, 1)),
        'aria-label': `${report.migration}: ${progressSentence(report)}`,
      });
      const pending = [
        `${formatCount(report.pending_forward)} pending forward`,
        `${formatCount(report.pending_back)} pending back`,
        `${formatCount(report.failures)} ${report.failures === 1 ? 'failure' : 'failures'}`,
      ].join(', ');
      return h('li', { class: 'migration', dataset: { migration: report.migration, phase: report.phase } },
        h('div', { class: 'migration-heading' },
          h('strong', { class: 'migration-name', text: report.migration }),
          h('span', { class: `pill migration-phase phase-${report.phase}`, text: PHASES[report.phase] || report.phase })),
        bar,
        h('p', { class: 'migration-sentence', text: progressSentence(report) }),
        h('p', { class: 'migration-pending muted', text: pending }),
        report.last_error ? h('p', { class: 'migration-error warning', text: `Last error: ${report.last_error}` }) : null,
        h('p', { class: 'migration-reported muted small-text' }, 'reported ', relativeTimeElement(report.reported_at), ` by ${report.instance}`));
    }));
  }

  return { element, update: () => load() };
}
