// The feature page's data: free-form key/values (description, owner, links, ticket numbers).
// Typed values stay strings unless they read as JSON numbers or booleans.

import * as api from '../api.js';
import { h, replaceChildren, field, errorBox, showMessage, clearError, notify } from '../dom.js';
import { parseValue, showValue } from '../parse.js';

/** An http(s) address parsed from a data value, or null: no other scheme becomes a link. */
export function webAddress(value) {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value.trim())) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

// A web address opens in a new tab without giving that page a handle on this one.
function dataValue(stored) {
  const address = webAddress(stored);
  if (address) {
    return h('a', { class: 'data-link', href: address, target: '_blank', rel: 'noopener noreferrer', text: stored });
  }
  return h('span', { class: typeof stored === 'string' ? null : 'typed-value', text: showValue(stored) });
}

export function dataSection(page) {
  const error = errorBox('data-error');
  const list = h('dl', { id: 'data-list', class: 'data-list' });
  const key = page.canEdit ? h('input', { id: 'data-key', autocomplete: 'off', placeholder: 'ticket' }) : null;
  const value = page.canEdit ? h('input', { id: 'data-value', autocomplete: 'off', placeholder: 'JIRA-1234' }) : null;
  const set = page.canEdit ? h('button', { id: 'set-data', type: 'submit', text: 'Set' }) : null;

  function render(feature) {
    const entries = Object.entries(feature.data || {}).sort(([a], [b]) => a.localeCompare(b));
    if (!entries.length) {
      replaceChildren(list, h('div', { class: 'empty muted', text: 'No data.' }));
      return;
    }
    replaceChildren(list, entries.map(([name, stored]) => h('div', { class: 'data-entry', dataset: { key: name } },
      h('dt', { text: name }),
      h('dd', {}, dataValue(stored),
        page.canEdit ? h('span', { class: 'entry-actions' },
          h('button', { type: 'button', class: 'edit-data link-button', text: 'Edit', 'aria-label': `Edit ${name}`,
            onclick: () => {
              key.value = name;
              value.value = showValue(stored);
              value.focus();
            } }),
          h('button', { type: 'button', class: 'remove-data link-button', text: 'Remove', 'aria-label': `Remove ${name}`,
            onclick: (event) => removeKey(name, event.currentTarget) })) : null))));
  }

  async function setKey(event) {
    event.preventDefault();
    clearError(error, { key, value });
    const name = key.value.trim();
    if (!name) {
      showMessage(error, 'Enter a key.');
      key.setAttribute('aria-invalid', 'true');
      key.focus();
      return;
    }
    const typed = parseValue(value.value);
    const result = await page.edit({ error, inputs: { data: value, key, value }, button: set },
      (version) => api.patchData(page.name, { [name]: typed }, version));
    if (!result) return;
    key.value = '';
    value.value = '';
    notify(`Set ${name}.`);
    key.focus();
  }

  async function removeKey(name, button) {
    const result = await page.edit({ error, button }, (version) => api.patchData(page.name, { [name]: null }, version));
    if (result) notify(`Removed ${name}.`);
  }

  return {
    element: h('section', { class: 'card', 'aria-labelledby': 'data-heading' },
      h('h2', { id: 'data-heading', text: 'Data' }),
      list,
      page.canEdit ? h('form', { class: 'inline-form data-form', onsubmit: setKey },
        field('Key', key),
        field('Value', value),
        h('div', { class: 'form-actions' }, set),
        h('p', { class: 'hint form-hint', text: 'Numbers and true/false are stored as such; anything else as text.' })) : null,
      error),
    update: (feature) => render(feature),
  };
}
