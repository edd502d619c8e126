// The feature page's code references: where the latest scan of each repository (`ramp scan
// --upload`) names this feature, and, once it is graduated, the removal checklist the server
// builds from them (routing code first, then the rest, grouped by file). Admins get a
// Graduate button: it moves the feature to `graduated` (asking for a reason when the server
// wants one) and then shows the checklist.

import * as api from '../api.js';
import { h, replaceChildren, errorBox, showError, clearError, notify, timeStamp, plural } from '../dom.js';
import { moveToStage } from './stage-move.js';

export function referencesSection(page) {
  const error = errorBox('references-error');
  const summary = h('p', { id: 'references-summary', class: 'muted' });
  const list = h('ul', { id: 'references-list', class: 'references' });
  const checklist = h('div', { id: 'removal-checklist', hidden: true });
  const graduate = h('button', { id: 'graduate-feature', type: 'button', class: 'secondary small', text: 'Graduate…', hidden: true });
  let latestRequest = 0;

  async function load() {
    const request = ++latestRequest;
    try {
      const graduated = page.feature?.stage === 'graduated';
      const [references, removal] = await Promise.all([
        api.featureReferences(page.name),
        graduated ? api.removalChecklist(page.name) : null,
      ]);
      if (request !== latestRequest || !page.alive) return;
      render(references.references, removal);
    } catch (failure) {
      if (page.alive) showError(error, failure);
    }
  }

  function render(references, removal) {
    clearError(error);
    graduate.hidden = !page.canEdit || page.feature?.stage === 'graduated';
    if (!references.length) {
      summary.textContent = 'No code names this feature in the latest uploaded scans (`ramp scan --upload`).';
    } else {
      const repositories = new Set(references.map((reference) => reference.repository));
      summary.textContent = `${plural(references.length, 'reference')} in ${plural(repositories.size, 'repository', 'repositories')}.`;
    }
    replaceChildren(list, references.map((reference) => h('li', { class: 'reference' },
      h('span', { class: 'reference-place' }, h('strong', { text: reference.repository }), ` ${reference.file}:${reference.line}`),
      h('code', { class: 'reference-context', text: reference.context }),
      h('span', { class: 'muted small-text' }, `commit ${reference.commit.slice(0, 12)}, scanned `, timeStamp(reference.scanned_at)))));
    renderChecklist(removal);
  }

  function renderChecklist(removal) {
    checklist.hidden = !removal;
    if (!removal) return;
    const heading = h('h3', { text: 'Removal checklist' });
    if (!removal.files.length) {
      replaceChildren(checklist, heading, h('p', { id: 'checklist-done', text: 'Done: the latest scans find no code naming this feature.' }));
      return;
    }
    replaceChildren(checklist, heading,
      h('p', { id: 'checklist-progress', text: `${plural(removal.remaining, 'reference')} left in ${plural(removal.files.length, 'file')}, routes first.` }),
      h('ol', { id: 'checklist-files', class: 'checklist' }, removal.files.map((file) => h('li', { class: file.routes ? 'checklist-file routes' : 'checklist-file' },
        h('span', { class: 'checklist-path', text: `${file.repository}: ${file.file}` }),
        file.routes ? h('span', { class: 'pill', text: 'routes' }) : null,
        h('ul', {}, file.lines.map((line) => h('li', {}, `${line.line}: `, h('code', { text: line.context }))))))));
  }

  graduate.addEventListener('click', async () => {
    const result = await page.edit({ error, button: graduate },
      (version) => moveToStage(page.feature, 'graduated', version));
    if (result?.feature) {
      notify(`Graduated ${page.name}. Remove its code, routes first.`);
      load();
    }
  });

  return {
    element: h('section', { class: 'card', 'aria-labelledby': 'references-heading' },
      h('div', { class: 'section-heading' },
        h('h2', { id: 'references-heading', text: 'Code references' }),
        graduate),
      error,
      summary,
      list,
      checklist),
    update: () => load(),
  };
}
