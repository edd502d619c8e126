// Small SVG charts drawn by the page itself (no library: the CSP lets only Ramp's own files
// run): an SVG element builder, round axis ticks, time ticks on the browser's local clock, a
// stacked bar chart over time with numbered markers, and the features list's sparklines.
// Colours and text sizes come from classes in style.css; only geometry is set here, as SVG
// attributes, which the CSP allows (inline `style` is not).

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Builds an SVG element: `class`, `text`, `dataset` and any other key as an attribute
 * (`null`/`undefined`/`false` leave it out). Children as for `h` in dom.js.
 */
export function s(tag, props = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') element.textContent = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// Coordinates with at most one decimal keep the markup short.
const round = (value) => Math.round(value * 10) / 10;

/** Whole-number ticks from 0 to at least `max`, about `count` steps of 1, 2 or 5 × 10ⁿ. */
export function countTicks(max, count = 4) {
  if (!(max > 0)) return [0, 1];
  const raw = Math.max(1, max / count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= raw);
  const ticks = [];
  for (let value = 0; value < max + step; value += step) ticks.push(value);
  return ticks;
}

const compactNumber = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
export const compactCount = (count) => compactNumber.format(count);

/**
 * Ticks on the browser's local clock between `from` and `to` (milliseconds): every `every`
 * minutes, hours or days counted from local midnight, so they fall on round times.
 */
export function timeTicks(from, to, { unit, every }, format) {
  const ticks = [];
  const time = new Date(from);
  time.setHours(0, 0, 0, 0);
  for (let guard = 0; time.getTime() <= to && guard < 2000; guard += 1) {
    if (time.getTime() >= from) ticks.push({ at: time.getTime(), label: format(time) });
    if (unit === 'day') time.setDate(time.getDate() + every);
    else time.setMinutes(time.getMinutes() + every * (unit === 'hour' ? 60 : 1));
  }
  return ticks;
}

/**
 * A bar chart over time, each bar stacked from `series` (bottom first), drawn at `width` ×
 * `height` in its own units (the viewBox), so the page draws it at the width it is shown and
 * its text stays readable on a phone; CSS scales it if it is not redrawn.
 *
 * `from`, `to`, `step`: the period and one bar's span (milliseconds; bars start at `from` +
 * n × `step`). `bars`: `[{start, values: [...], title, dataset}]`. `series`: `[{className}]`
 * per value. `markers`: `[{at, label, title, dataset}]`, a vertical line each, numbered.
 * `yTitle`, `xTitle`: the axes' words; `ticks`: `[{at, label}]` for the time axis.
 */
export function timeBarChart({
  width, height, from, to, step, bars, series, markers = [], ticks = [], yTitle, xTitle, title, id, dataset,
}) {
  const slots = Math.max(1, Math.ceil((to - from) / step));
  const end = from + slots * step;
  const max = Math.max(0, ...bars.map((bar) => bar.values.reduce((sum, value) => sum + value, 0)));
  const yTicks = countTicks(max);
  const yMax = yTicks[yTicks.length - 1];
  const labelWidth = Math.max(...yTicks.map((tick) => compactCount(tick).length)) * 7 + 10;
  const left = Math.max(30, labelWidth);
  const top = 30;
  const right = 12;
  const bottom = 44;
  const plotWidth = Math.max(10, width - left - right);
  const plotHeight = Math.max(10, height - top - bottom);
  const xAt = (time) => left + ((time - from) / (end - from)) * plotWidth;
  const yAt = (value) => top + plotHeight - (value / yMax) * plotHeight;
  const slotWidth = plotWidth / slots;
  const barWidth = slotWidth >= 4 ? slotWidth * 0.8 : Math.max(1, slotWidth);

  const grid = yTicks.map((tick) => s('g', { class: 'y-tick' },
    s('line', { class: 'grid-line', x1: left, x2: left + plotWidth, y1: round(yAt(tick)), y2: round(yAt(tick)) }),
    s('text', { class: 'tick-label', x: left - 6, y: round(yAt(tick) + 4), 'text-anchor': 'end', text: compactCount(tick) })));

  const drawnBars = bars.map((bar) => {
    const index = Math.floor((bar.start - from) / step);
    if (index < 0 || index >= slots) return null;
    const x = round(left + index * slotWidth + (slotWidth - barWidth) / 2);
    let base = 0;
    const parts = bar.values.map((value, part) => {
      if (!value) return null;
      const y0 = yAt(base);
      base += value;
      const y1 = yAt(base);
      return s('rect', {
        class: series[part].className, x, y: round(y1), width: round(barWidth), height: round(Math.max(0.5, y0 - y1)),
      });
    });
    return s('g', { class: 'exposure-bar', dataset: bar.dataset }, s('title', { text: bar.title }), parts);
  });

  // Time labels may not crowd: keep every nth so that each has about 56 units of room.
  const room = 56;
  const stride = Math.max(1, Math.ceil((ticks.length * room) / plotWidth));
  const timeAxis = ticks.filter((tick, index) => index % stride === 0).map((tick) => {
    const x = round(xAt(tick.at));
    // A label at either end stays inside the picture, ending (or starting) at its edge.
    const half = tick.label.length * 3.2;
    const [anchor, textX] = x + half > width ? ['end', width - 1] : x - half < 0 ? ['start', 1] : ['middle', x];
    return s('g', { class: 'x-tick' },
      s('line', { class: 'axis-line', x1: x, x2: x, y1: top + plotHeight, y2: top + plotHeight + 4 }),
      s('text', { class: 'tick-label', x: textX, y: top + plotHeight + 16, 'text-anchor': anchor, text: tick.label }));
  });

  // Markers closer than a badge's width share one badge, numbered "1–3", on the last of
  // them; each keeps its own line and title.
  const placed = markers.map((marker) => ({ ...marker, x: round(Math.min(left + plotWidth, Math.max(left, xAt(marker.at)))) }));
  const clusters = [];
  for (const marker of placed) {
    const last = clusters[clusters.length - 1];
    if (last && marker.x - last[last.length - 1].x < 16) last.push(marker);
    else clusters.push([marker]);
  }
  const drawnMarkers = clusters.flatMap((cluster) => cluster.map((marker, index) => {
    const { x } = marker;
    const badge = index === cluster.length - 1;
    const label = cluster.length > 1 ? `${cluster[0].label}–${marker.label}` : marker.label;
    const badgeWidth = Math.max(14, label.length * 5.6 + 6);
    const badgeX = Math.min(left + plotWidth + right - badgeWidth, Math.max(0, x - badgeWidth / 2));
    return s('g', { class: 'change-marker', dataset: marker.dataset },
      s('title', { text: marker.title }),
      s('rect', { class: 'marker-hit', x: x - 6, y: top - 14, width: 12, height: plotHeight + 14 }),
      s('line', { class: 'marker-line', x1: x, x2: x, y1: top - 6, y2: top + plotHeight }),
      badge ? [
        s('rect', { class: 'marker-dot', x: round(badgeX), y: top - 19, width: round(badgeWidth), height: 14, rx: 7 }),
        s('text', { class: 'marker-label', x: round(badgeX + badgeWidth / 2), y: top - 8.5, 'text-anchor': 'middle', text: label }),
      ] : null);
  }));

  return s('svg', {
    id, class: 'chart', viewBox: `0 0 ${round(width)} ${height}`, role: 'img', 'aria-label': title,
    preserveAspectRatio: 'xMinYMin meet', dataset,
  },
  s('title', { text: title }),
  s('text', { class: 'axis-title', x: 0, y: 12, text: yTitle }),
  grid,
  s('g', { class: 'bars' }, drawnBars),
  s('line', { class: 'axis-line', x1: left, x2: left + plotWidth, y1: top + plotHeight, y2: top + plotHeight }),
  timeAxis,
  s('text', { class: 'axis-title', x: left + plotWidth / 2, y: height - 6, 'text-anchor': 'middle', text: xTitle }),
  drawnMarkers);
}

/**
 * A tiny bar chart of a series (e.g. checks per hour), `width` × `height`; `label` is its
 * accessible name and hover text. Zeros leave a gap on the baseline.
 */
export function sparkline(values, { label, width = 96, height = 22, className = 'sparkline', dataset } = {}) {
  const count = Math.max(1, values.length);
  const max = Math.max(0, ...values);
  const slot = width / count;
  const bars = values.map((value, index) => {
    if (!(value > 0)) return null;
    const barHeight = Math.max(1.5, (value / max) * (height - 2));
    return s('rect', {
      class: 'spark-bar', x: round(index * slot + slot * 0.1), y: round(height - 1 - barHeight),
      width: round(Math.max(0.8, slot * 0.8)), height: round(barHeight),
    });
  });
  return s('svg', {
    class: className, viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label, dataset,
  },
  s('title', { text: label }),
  s('line', { class: 'spark-base', x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5 }),
  bars);
}
