// The feature page's groups: which groups get the feature, and adding one from the built-in
// `all`, the stored groups and the groups applications define in code.

import * as api from '../api.js';
import { h, replaceChildren, field, errorBox, showMessage, clearError, notify } from '../dom.js';

export function groupsSection(page) {
  const error = errorBox('groups-error');
  const list = h('ul', { id: 'groups-list', class: 'tag-list' });
  const catalog = { stored: new Map(), code: [] };
  const select = page.canEdit ? h('select', { id: 'group-select' }) : null;
  const add = page.canEdit ? h('button', { id: 'add-group', type: 'submit', text: 'Add group' }) : null;

  async function loadCatalog() {
    const [stored, code] = await Promise.allSettled([api.listGroups(), api.codeGroups()]);
    if (!page.alive) return;
    catalog.stored = new Map(stored.status === 'fulfilled' ? stored.value.groups.map((group) => [group.name, group]) : []);
    catalog.code = code.status === 'fulfilled' ? code.value.names : [];
    render(page.feature);
  }

  function kindOf(name) {
    if (name === 'all') return 'everyone';
    if (catalog.stored.has(name)) return 'stored';
    if (catalog.code.includes(name)) return 'in code';
    return 'unknown';
  }

  function render(feature) {
    const groups = feature.groups || [];
    replaceChildren(list, groups.length ? groups.map((name) => h('li', { dataset: { group: name } },
      h('span', { class: 'group-name', text: name }),
      h('span', { class: `tag kind-${kindOf(name).replace(' ', '-')}`, title: catalog.stored.get(name)?.description || null, text: kindOf(name) }),
      page.canEdit ? h('button', {
        type: 'button', class: 'remove-group link-button', text: 'Remove', 'aria-label': `Remove group ${name}`,
        onclick: (event) => removeGroup(name, event.currentTarget),
      }) : null)) : h('li', { class: 'empty muted', text: 'No groups.' }));
    if (select) renderOptions(groups);
  }

  function renderOptions(current) {
    const chosen = select.value;
    const option = (name, label = name) => h('option', { value: name, text: current.includes(name) ? `${label} (added)` : label,
      disabled: current.includes(name), selected: name === chosen && !current.includes(name) });
    replaceChildren(select,
      h('option', { value: '', text: 'Choose a group…' }),
      h('optgroup', { label: 'Built-in' }, option('all', 'all (everyone)')),
      h('optgroup', { label: 'Stored groups' }, [...catalog.stored.keys()].map((name) => option(name))),
      catalog.code.length ? h('optgroup', { label: 'Code groups' }, catalog.code.map((name) => option(name))) : null);
  }

  async function addGroup(event) {
    event.preventDefault();
    clearError(error);
    if (!select.value) {
      showMessage(error, 'Choose a group to add.');
      select.focus();
      return;
    }
    const name = select.value;
    const result = await page.edit({ error, inputs: { groups: select }, button: add },
      (version) => api.addGroups(page.name, [name], version));
    if (result) {
      select.value = '';
      notify(`Added group ${name}.`);
    }
  }

  async function removeGroup(name, button) {
    const result = await page.edit({ error, button }, (version) => api.removeGroups(page.name, [name], version));
    if (result) notify(`Removed group ${name}.`);
  }

  loadCatalog();
  return {
    element: h('section', { class: 'card', 'aria-labelledby': 'groups-heading' },
      h('h2', { id: 'groups-heading', text: 'Groups' }),
      h('p', { class: 'muted', text: 'Members of these groups get the feature.' }),
      list,
      page.canEdit ? h('form', { class: 'inline-form', onsubmit: addGroup },
        field('Add a group', select), h('div', { class: 'form-actions' }, add)) : null,
      error),
    update: (feature) => render(feature),
    // Stored groups changed (the stream's `reload`): their names may have too.
    onReload: () => loadCatalog(),
  };
}
