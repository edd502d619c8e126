// The login screen: username and password, exchanged for a session cookie and CSRF token.

import * as api from '../api.js';
import { h, appendChildren, errorBox, field, showError, showMessage, clearError, whileBusy } from '../dom.js';

export function renderLogin(root, { message, onLoggedIn }) {
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', {
    id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const submit = h('button', { id: 'login-submit', type: 'submit', text: 'Log in' });
  const error = errorBox('login-error');
  if (message) showMessage(error, message);

  async function logIn(event) {
    event.preventDefault();
    clearError(error);
    await whileBusy(submit, async () => {
      try {
        onLoggedIn(await api.logIn(username.value.trim(), password.value));
      } catch (failure) {
        if (failure.status === 401) {
          showMessage(error, 'Wrong username or password.');
          password.select();
        } else {
          showError(error, failure);
        }
      }
    });
  }

  appendChildren(root, h('section', { class: 'login card' },
    h('h1', { text: 'Log in to Ramp' }),
    h('form', { onsubmit: logIn },
      field('Username', username),
      field('Password', password),
      error,
      submit)));
  username.focus();
}
