// "Check a user" on the feature page: would this user (with these attributes) get the feature,
// and why. A read, so viewers have it too; it re-runs when the feature changes.

import * as api from '../api.js';
import { h, field, errorBox, showError, showMessage, clearError, whileBusy } from '../dom.js';
import { parseAttributes } from '../parse.js';

/**
 * The context a user id input and a `key=value` attributes box describe, or null after showing
 * why the attributes cannot be read. Shared with the user lookup.
 */
export function readContext(user, attributes, error) {
  clearError(error, { attributes, user_id: user });
  try {
    return { user_id: user.value.trim() || null, attributes: parseAttributes(attributes.value) };
  } catch (problem) {
    showMessage(error, problem.message);
    attributes.setAttribute('aria-invalid', 'true');
    return null;
  }
}

const EXPLANATIONS = {
  excluded: 'The user is on the excluded list, which beats every other rule.',
  user: 'The user is on the users list.',
  group: 'The user belongs to a group the feature is on for.',
  percentage: 'The user falls within the percentage.',
  outside_percentage: 'The user is not in the percentage the feature is rolling out to.',
  everyone: 'The feature is on for everyone (100 %).',
  off: 'No rule matches this user, and the feature reaches nobody else (0 %), or the check has no user id.',
  not_found: 'There is no such feature.',
};

/** "Active — reason: group beta" */
export function decisionWords({ active, reason, group }) {
  return `${active ? 'Active' : 'Not active'} — reason: ${reason}${reason === 'group' && group ? ` ${group}` : ''}`;
}

/** Why, in words; with the feature's `percentage`, "not in the 25 %" names the share. */
export function explanation({ reason, group }, percentage = null) {
  if (reason === 'group' && group) return `The user belongs to the group “${group}”.`;
  if (reason === 'outside_percentage' && percentage !== null && percentage !== undefined) {
    return `The user is not in the ${percentage} % who have it.`;
  }
  return EXPLANATIONS[reason] || '';
}

export function checkSection(page) {
  const user = h('input', { id: 'check-user', autocomplete: 'off', placeholder: '42' });
  const attributes = h('textarea', { id: 'check-attributes', rows: 3, spellcheck: 'false', placeholder: 'plan=pro\nage=30' });
  const submit = h('button', { id: 'check-submit', type: 'submit', text: 'Check' });
  const result = h('p', { id: 'check-result', class: 'check-result', role: 'status' });
  const why = h('p', { class: 'muted check-explanation' });
  const error = errorBox('check-error');
  let lastContext = null;

  async function run(context) {
    try {
      const decision = await api.checkUser(page.name, context);
      if (!page.alive) return;
      result.textContent = decisionWords(decision);
      result.className = `check-result ${decision.active ? 'active' : 'inactive'}`;
      why.textContent = explanation(decision, page.feature?.percentage);
    } catch (failure) {
      showError(error, failure, { attributes, user_id: user });
    }
  }

  async function check(event) {
    event.preventDefault();
    const context = readContext(user, attributes, error);
    if (!context) return;
    lastContext = context;
    await whileBusy(submit, () => run(lastContext));
  }

  return {
    element: h('section', { class: 'card', 'aria-labelledby': 'check-heading' },
      h('h2', { id: 'check-heading', text: 'Check a user' }),
      h('form', { onsubmit: check },
        field('User id', user),
        field('Attributes', attributes, { hint: 'One key=value per line, like plan=pro.' }),
        h('div', { class: 'form-actions' }, submit),
        error),
      result, why),
    // The answer shown must match the feature shown: ask again for the same user.
    update: () => { if (lastContext) run(lastContext); },
  };
}
