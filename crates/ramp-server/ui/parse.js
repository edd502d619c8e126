// Turning what people type or paste into the values the API takes: user id lists pasted from
// spreadsheets or chat, `key=value` attribute lines, and data values typed as text.

/** Ids separated by newlines, commas, semicolons, tabs or spaces; blanks and repeats dropped. */
export function parseUserIds(text) {
  const ids = text.split(/[\s,;]+/).map((id) => id.trim()).filter(Boolean);
  return [...new Set(ids)];
}

/** Non-empty trimmed lines. */
export function parseLines(text) {
  return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
}

/**
 * A typed value: JSON numbers and booleans become numbers and booleans (so rules like
 * `age >= 18` can compare them); everything else stays the text that was typed.
 */
export function parseValue(text) {
  const trimmed = text.trim();
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(trimmed)) return Number(trimmed);
  return text;
}

/** One `key=value` per line -> an attributes object; throws an Error naming a bad line. */
export function parseAttributes(text) {
  const attributes = {};
  text.split(/\r?\n/).forEach((line, index) => {
    if (!line.trim()) return;
    const separator = line.indexOf('=');
    const key = separator > 0 ? line.slice(0, separator).trim() : '';
    if (!key) throw new Error(`Line ${index + 1}: write attributes as key=value, like plan=pro.`);
    attributes[key] = parseValue(line.slice(separator + 1).trim());
  });
  return attributes;
}

/** A data value as people read it: strings bare, everything else as JSON. */
export function showValue(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
