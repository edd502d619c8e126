// History events in plain words ("alice changed percentage from 10 to 25"), shared by the
// feature page's timeline and the global history, so both read the same.

import { h, timeStamp, featureHref, formatCount } from '../dom.js';
import { showValue } from '../parse.js';

// Text is quoted so its edges show; numbers and booleans read bare, as they are stored.
const quote = (value) => {
  const text = showValue(value);
  const shortened = text.length > 80 ? `${text.slice(0, 77)}…` : text;
  return typeof value === 'string' ? `“${shortened}”` : shortened;
};

const count = (items, one, many) => `${formatCount(items.length)} ${items.length === 1 ? one : many}`;

function membersWords(field, added, removed) {
  const words = [];
  if (field === 'users') {
    if (added.length) words.push(`added ${count(added, 'user', 'users')}`);
    if (removed.length) words.push(`removed ${count(removed, 'user', 'users')}`);
  } else if (field === 'excluded_users') {
    if (added.length) words.push(`excluded ${count(added, 'user', 'users')}`);
    if (removed.length) words.push(`stopped excluding ${count(removed, 'user', 'users')}`);
  } else if (field === 'groups') {
    if (added.length) words.push(`added ${added.length === 1 ? 'group' : 'groups'} ${added.join(', ')}`);
    if (removed.length) words.push(`removed ${removed.length === 1 ? 'group' : 'groups'} ${removed.join(', ')}`);
  } else {
    words.push(`changed ${field}`);
  }
  return words;
}

function valueWords({ field, before, after }) {
  if (field === 'percentage') return `changed percentage from ${before ?? 0} to ${after ?? 0}`;
  if (field === 'stage') return `moved stage from ${before} to ${after}`;
  const key = field.startsWith('data.') ? field.slice(5) : field;
  if (before === null || before === undefined) return `set ${key} to ${quote(after)}`;
  if (after === null || after === undefined) return `removed ${key} (was ${quote(before)})`;
  return `changed ${key} from ${quote(before)} to ${quote(after)}`;
}

function joinWords(parts) {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** The event as one sentence, starting with who did it. */
export function describeEvent(event) {
  if (event.action === 'created') return `${event.actor} created the feature`;
  if (event.action === 'deleted') return `${event.actor} deleted the feature`;
  const parts = (event.changes || []).flatMap((change) =>
    change.kind === 'members' ? membersWords(change.field, change.added, change.removed) : [valueWords(change)]);
  return `${event.actor} ${parts.length ? joinWords(parts) : 'saved without changing anything'}`;
}

// Long id lists stay out of the sentence but can be opened.
function memberDetails(event) {
  const lists = (event.changes || []).filter((change) => change.kind === 'members' && change.field !== 'groups');
  const shown = [];
  for (const change of lists) {
    const label = change.field === 'users' ? ['Added', 'Removed'] : ['Excluded', 'No longer excluded'];
    if (change.added.length) shown.push([label[0], change.added]);
    if (change.removed.length) shown.push([label[1], change.removed]);
  }
  if (!shown.length) return null;
  return h('details', { class: 'event-ids' },
    h('summary', { text: 'Show user ids' }),
    shown.map(([label, ids]) => h('p', {},
      h('strong', { text: `${label}: ` }),
      ids.slice(0, 200).join(', '),
      ids.length > 200 ? ` … and ${formatCount(ids.length - 200)} more` : '')));
}

/**
 * A timeline entry: `li[data-event=ID]` with the sentence, relative and absolute time, any
 * comment, and a revert button when `onRevert` is given.
 */
export function eventItem(event, { showFeature = false, onRevert = null } = {}) {
  const sentence = describeEvent(event);
  return h('li', { class: `event event-${event.action}`, dataset: { event: String(event.id) } },
    h('div', { class: 'event-body' },
      h('p', { class: 'event-text' },
        showFeature ? h('a', { href: featureHref(event.feature), class: 'event-feature', text: event.feature }) : null,
        showFeature ? ': ' : null,
        h('span', { text: sentence })),
      h('p', { class: 'event-meta' }, timeStamp(event.time)),
      event.comment ? h('p', { class: 'event-comment', text: `“${event.comment}”` }) : null,
      memberDetails(event)),
    onRevert ? h('button', {
      type: 'button', class: 'revert secondary small', text: 'Undo',
      'aria-label': `Undo: ${sentence}`, onclick: (click) => onRevert(event, sentence, click.currentTarget),
    }) : null);
}

/** What reverting an event will do, for the confirmation question. */
export function revertQuestion(event, sentence) {
  if (event.action === 'created') {
    return `Undo “${sentence}”? Reverting the creation deletes the feature “${event.feature}” (its history is kept).`;
  }
  if (event.action === 'deleted') return `Undo “${sentence}”? The feature “${event.feature}” comes back as it was.`;
  return `Undo “${sentence}”? Only this change is undone; changes made after it stay.`;
}
