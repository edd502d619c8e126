// Stored groups: members and attribute rules, which features use each, and (for admins) a form
// to create, edit and delete them. Groups defined in application code are listed read-only.

import * as api from '../api.js';
import {
  h, appendChildren, tableCell, replaceChildren, field, errorBox, showError, clearError, confirmAction, notify, debounce, whileBusy,
  featureHref, formatCount,
} from '../dom.js';
import { parseLines, parseUserIds } from '../parse.js';

export function mount(root, { canEdit }) {
  let alive = true;
  let latestRequest = 0;
  const error = errorBox('groups-page-error');
  const tbody = h('tbody');
  const codeList = h('p', { class: 'muted' });
  const form = canEdit ? groupForm(() => load()) : null;

  async function load() {
    const request = ++latestRequest;
    try {
      const [{ groups }, code] = await Promise.all([api.listGroups(), api.codeGroups().catch(() => ({ names: [] }))]);
      if (!alive || request !== latestRequest) return;
      render(groups);
      codeList.textContent = code.names.length ? code.names.join(', ') : 'No application has reported any yet.';
    } catch (failure) {
      if (alive) showError(error, failure);
    }
  }
  const loadSoon = debounce(load, 200);

  function render(groups) {
    if (!groups.length) {
      replaceChildren(tbody, h('tr', { class: 'empty' }, h('td', { colspan: 7, text: 'No stored groups yet.' })));
      return;
    }
    replaceChildren(tbody, groups.map((group) => h('tr', { dataset: { group: group.name } },
      tableCell('Name', h('strong', { text: group.name })),
      tableCell('Description', group.description || h('span', { class: 'muted', text: '—' })),
      tableCell('Members', h('span', {}, formatCount(group.members.length)),
        group.members.length ? h('span', { class: 'muted small-text member-sample' }, ` (${sample(group.members)})`) : null),
      tableCell('Rules', group.rule_texts.length
        ? h('ul', { class: 'plain-list' }, group.rule_texts.map((rule) => h('li', {}, h('code', { text: rule }))))
        : h('span', { class: 'muted', text: '—' })),
      tableCell('Used by', group.used_by.length
        ? h('ul', { class: 'plain-list' }, group.used_by.map((name) => h('li', {}, h('a', { href: featureHref(name), text: name }))))
        : h('span', { class: 'muted', text: 'No feature' })),
      tableCell('History', h('a', {
        class: 'group-history small-text', href: `#/history?group=${encodeURIComponent(group.name)}`,
        text: 'History', 'aria-label': `History of group ${group.name}`,
      })),
      canEdit ? tableCell('Actions', h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'edit-group secondary small', text: 'Edit', 'aria-label': `Edit group ${group.name}`,
          onclick: () => form.edit(group) }),
        h('button', { type: 'button', class: 'delete-group danger small', text: 'Delete', 'aria-label': `Delete group ${group.name}`,
          onclick: (event) => removeGroup(group, event.currentTarget) }))) : null)));
  }

  async function removeGroup(group, button) {
    const users = group.used_by.length
      ? ` ${group.used_by.join(', ')} will stop being on for its members.`
      : ' No feature uses it.';
    if (!await confirmAction(`Delete the group “${group.name}”?${users}`, { okLabel: 'Delete group', danger: true })) return;
    clearError(error);
    await whileBusy(button, async () => {
      try {
        await api.deleteGroup(group.name, group.version);
        notify(`Deleted group ${group.name}.`);
      } catch (failure) {
        showError(error, failure);
      }
      await load();
    });
  }

  appendChildren(root, 
    h('div', { class: 'page-heading' }, h('h1', { text: 'Groups' })),
    h('p', { class: 'muted lead', text: 'A stored group is a list of members plus attribute rules; a user belongs if listed or if every rule holds.' }),
    error,
    h('div', { class: 'table-scroll' }, h('table', { id: 'groups-table', class: 'data-table stack-on-phone' },
      h('caption', { class: 'visually-hidden', text: 'Stored groups' }),
      h('thead', {}, h('tr', {}, ['Name', 'Description', 'Members', 'Rules', 'Used by', 'History', canEdit ? 'Actions' : null]
        .filter(Boolean).map((title) => h('th', { scope: 'col', text: title })))),
      tbody)),
    form?.element,
    h('section', { class: 'card', 'aria-labelledby': 'code-groups-heading' },
      h('h2', { id: 'code-groups-heading', text: 'Groups defined in code' }),
      h('p', { class: 'muted', text: 'Applications define these and report their names; features can use them, but only the application can tell who belongs.' }),
      codeList));
  load();

  return {
    onLive: () => loadSoon(),
    destroy() {
      alive = false;
      loadSoon.cancel();
    },
  };
}

function groupForm(reload) {
  const name = h('input', { id: 'group-name', autocomplete: 'off', required: true, placeholder: 'beta_testers' });
  const description = h('input', { id: 'group-description', autocomplete: 'off' });
  const members = h('textarea', { id: 'group-members', rows: 5, spellcheck: 'false', placeholder: 'alice\nbob' });
  const rules = h('textarea', { id: 'group-rules', rows: 4, spellcheck: 'false', placeholder: 'plan in [pro, team]\nage >= 18' });
  const save = h('button', { id: 'save-group', type: 'submit', text: 'Save group' });
  const error = errorBox('group-error');
  const heading = h('h2', { id: 'group-form-heading', text: 'New group' });
  const inputs = { name, groups: name, description, members, rules };
  // The group being edited, as it was loaded; null for a new group.
  let editing = null;

  const nameHint = h('p', { class: 'hint', id: 'group-name-hint' });
  name.setAttribute('aria-describedby', 'group-name-hint');

  // A stored group is known by its name: saving under another name would make a second group
  // (and leave the features on the first), so an edit keeps the name read-only.
  function setEditing(group) {
    editing = group;
    name.readOnly = Boolean(group);
    name.classList.toggle('read-only', Boolean(group));
    nameHint.textContent = group
      ? 'The name cannot change. To rename, create a group with the new name and delete this one.'
      : 'To change an existing group, use its Edit button.';
  }

  function clear() {
    for (const input of [name, description, members, rules]) input.value = '';
    heading.textContent = 'New group';
    setEditing(null);
    clearError(error, inputs);
  }

  async function submit(event) {
    event.preventDefault();
    clearError(error, inputs);
    const groupName = editing ? editing.name : name.value.trim();
    await whileBusy(save, async () => {
      try {
        // The name is read-only while editing, so an edit always saves the group it loaded.
        const version = editing ? editing.version : null;
        await api.putGroup(groupName, {
          description: description.value.trim(),
          members: parseUserIds(members.value),
          rules: parseLines(rules.value),
        }, version);
        notify(`Saved group ${groupName}.`);
        clear();
        await reload();
      } catch (failure) {
        showError(error, failure, inputs);
      }
    });
  }

  const element = h('section', { class: 'card', 'aria-labelledby': 'group-form-heading' },
    heading,
    h('form', { class: 'group-form', onsubmit: submit },
      h('div', { class: 'field-row' },
        h('div', { class: 'field' }, h('label', { for: 'group-name', text: 'Name' }), name, nameHint),
        field('Description', description)),
      h('div', { class: 'field-row' },
        field('Members (one id per line)', members),
        field('Rules (one per line)', rules, { hint: 'Like plan in [pro, team] or age >= 18. Every rule must hold.' })),
      error,
      h('div', { class: 'form-actions' }, save, h('button', { type: 'button', class: 'secondary', text: 'Clear', onclick: clear }))));

  setEditing(null);
  return {
    element,
    edit(group) {
      clearError(error, inputs);
      setEditing(group);
      name.value = group.name;
      description.value = group.description || '';
      members.value = group.members.join('\n');
      rules.value = group.rule_texts.join('\n');
      heading.textContent = `Edit group ${group.name}`;
      element.scrollIntoView({ behavior: 'smooth', block: 'start' });
      description.focus({ preventScroll: true });
    },
  };
}

// A few ids give a feel for the group without flooding the table.
function sample(members) {
  const shown = members.slice(0, 5).join(', ');
  return members.length > 5 ? `${shown}, … ${formatCount(members.length - 5)} more` : shown;
}
