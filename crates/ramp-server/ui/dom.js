// Small DOM helpers shared by every view: an element builder (the CSP forbids inline handlers
// and styles, so everything is built and wired from here), the confirmation dialog, error
// display next to the field concerned, times, numbers and the stage pill.

/**
 * Builds an element. `props`: `class`, `text`, `dataset`, `onEVENT` functions, `value`/`checked`
 * /`selected` (set as properties so they reflect what the user sees), any other key as an
 * attribute (`true` gives an empty attribute; `false`/`null` leaves it out).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else if (key === 'value' || key === 'checked' || key === 'selected') element[key] = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/**
 * Appends children, skipping null, undefined and false (the native `append` would write them
 * as the words "null" and "undefined"), flattening arrays.
 */
export function appendChildren(parent, ...children) {
  append(parent, children);
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function replaceChildren(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/**
 * A table cell that can stack on phones: `data-label` names its column there, and the content
 * sits in one box so several pieces stay on one line beside the label.
 */
export function tableCell(label, ...content) {
  const present = content.flat().filter((part) => part !== null && part !== undefined && part !== false && part !== '');
  return h('td', { 'data-label': label, class: present.length ? null : 'empty-cell' },
    h('div', { class: 'cell-content' }, ...present));
}

/** A label and its control, stacked; `hiddenLabel` keeps the label for screen readers only. */
export function field(labelText, control, { hint, hiddenLabel = false } = {}) {
  return h('div', { class: 'field' },
    h('label', { for: control.id, class: hiddenLabel ? 'visually-hidden' : null, text: labelText }),
    control,
    hint ? h('p', { class: 'hint', text: hint }) : null);
}

/** An empty error element for a section; errors are read out as they appear. */
export function errorBox(id) {
  return h('div', { id, class: 'error', role: 'alert', hidden: true });
}

const FIELD_WORDS = { name: 'Name', percentage: 'Percentage', users: 'User ids', stage: 'Stage', data: 'Data', groups: 'Groups' };

// `rules[2]` is the third line of a textarea: say so in the words the form uses.
function fieldPrefix(field) {
  const rule = /^rules\[(\d+)\]$/.exec(field || '');
  if (rule) return `Rule on line ${Number(rule[1]) + 1}: `;
  const user = /^(?:users|members)\[(\d+)\]$/.exec(field || '');
  if (user) return `Id number ${Number(user[1]) + 1}: `;
  return '';
}

function plainWords(error) {
  if (error.status === 403 && error.code === 'forbidden') return 'Your role does not allow this change.';
  if (error.status === 403 && error.code.startsWith('csrf_token')) {
    return 'Your session changed in another tab. Reload the page and try again.';
  }
  // The server's own words, unchanged: they name who changed what ("changed by alice at ...").
  return error.message || 'Something went wrong.';
}

/**
 * Shows an error in a section's error element, and marks the input the server's `field`
 * names (looked up in `inputs` by the field name without its index).
 */
export function showError(box, error, inputs = {}) {
  clearError(box, inputs);
  box.hidden = false;
  box.append(h('p', { text: fieldPrefix(error.field) + plainWords(error) }));
  const base = (error.field || '').replace(/\[\d+\]$/, '').replace(/^data\..*/, 'data');
  const input = inputs[error.field] || inputs[base];
  if (input) input.setAttribute('aria-invalid', 'true');
  return box;
}

/** Shows a plain message (not from the server) in an error element. */
export function showMessage(box, message) {
  box.replaceChildren(h('p', { text: message }));
  box.hidden = false;
  return box;
}

export function clearError(box, inputs = {}) {
  box.replaceChildren();
  box.hidden = true;
  for (const input of Object.values(inputs)) input?.removeAttribute('aria-invalid');
}

/** Asks before a consequential action; resolves true only if the user chose the action. */
export function confirmAction(message, { okLabel = 'Confirm', cancelLabel = 'Cancel', danger = false } = {}) {
  const dialog = document.getElementById('confirm-dialog');
  const ok = document.getElementById('confirm-ok');
  document.getElementById('confirm-message').textContent = message;
  document.getElementById('confirm-cancel').textContent = cancelLabel;
  ok.textContent = okLabel;
  ok.classList.toggle('danger', danger);
  dialog.returnValue = '';
  dialog.showModal();
  ok.focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

/**
 * Asks for a reason (when the server answers `reason_required`, e.g. graduating a feature that
 * is not fully on); resolves to the trimmed text, or null when cancelled or left empty.
 */
export function askReason(message) {
  const dialog = document.getElementById('reason-dialog');
  const input = document.getElementById('reason-input');
  document.getElementById('reason-message').textContent = message;
  input.value = '';
  dialog.returnValue = '';
  dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const reason = input.value.trim();
      resolve(dialog.returnValue === 'ok' && reason ? reason : null);
    }, { once: true });
  });
}

let toastTimer = null;

/** A short, polite notice at the bottom of the screen, optionally with one action (Undo). */
export function notify(message, action) {
  const toast = document.getElementById('toast');
  const children = [h('span', { text: message })];
  if (action) {
    children.push(h('button', {
      type: 'button',
      class: 'link-button',
      text: action.label,
      onclick: () => { toast.hidden = true; action.run(); },
    }));
  }
  replaceChildren(toast, children);
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, action ? 10000 : 4000);
}

const numberFormat = new Intl.NumberFormat('en');
export const formatCount = (count) => numberFormat.format(count);
export const plural = (count, one, many = `${one}s`) => `${formatCount(count)} ${count === 1 ? one : many}`;
// One formatter for every call: `toLocaleString` with options builds a new one each time,
// which a page of 100 rows pays 100 times.
const percentageFormat = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });
export const formatPercentage = (value) => `${percentageFormat.format(Number(value))} %`;

const absoluteFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60]];

export function relativeTime(iso, now = Date.now()) {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relativeFormat.format(Math.round(seconds / size), unit);
  }
  return 'just now';
}

export const absoluteTime = (iso) => absoluteFormat.format(new Date(iso));

/** "5 minutes ago", with the exact time on hover; app.js keeps the words current. */
export const relativeTimeElement = (iso) =>
  h('time', { datetime: iso, title: absoluteTime(iso), 'data-relative': '', text: relativeTime(iso) });

/** "5 minutes ago · 29 Nov 2025, 10:04" */
export function timeStamp(iso) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  return h('span', { class: 'timestamp' }, relativeTimeElement(iso), h('span', { class: 'muted', text: ` · ${absoluteTime(iso)}` }));
}

export function refreshRelativeTimes() {
  for (const time of document.querySelectorAll('time[data-relative]')) {
    time.textContent = relativeTime(time.getAttribute('datetime'));
  }
}

export const STAGES = [
  ['development', 'Development'],
  ['beta', 'Beta'],
  ['rolling_out', 'Rolling out'],
  ['everyone', 'Everyone'],
  ['graduated', 'Graduated'],
];

export const stageLabel = (stage) => STAGES.find(([value]) => value === stage)?.[1] || stage;

export const stagePill = (stage) => h('span', { class: `pill stage-${stage}`, text: stageLabel(stage) });

/**
 * A "stage mismatch" badge when the server says the feature's state contradicts its stage
 * (`stage_mismatch: {kind, message}`), else null; the message is its title.
 */
export const mismatchBadge = (feature) => (feature.stage_mismatch ? h('span', {
  class: 'badge badge-mismatch', title: feature.stage_mismatch.message, text: 'stage mismatch',
  dataset: { mismatch: feature.stage_mismatch.kind },
}) : null);

/** A select of the five stages with `selected` chosen. */
export function stageOptions(selected) {
  return STAGES.map(([value, label]) => h('option', { value, text: label, selected: value === selected }));
}

export const featureHref = (name) => `#/features/${encodeURIComponent(name)}`;

/** Calls `run` once input has paused for `wait` ms; `.cancel()` drops a pending call. */
export function debounce(run, wait) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => run(...args), wait);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

/** Disables a button while `work` runs, so a double click cannot send an edit twice. */
export async function whileBusy(button, work) {
  const buttons = Array.isArray(button) ? button : [button];
  for (const each of buttons) if (each) each.disabled = true;
  try {
    return await work();
  } finally {
    for (const each of buttons) if (each && each.isConnected) each.disabled = false;
  }
}
