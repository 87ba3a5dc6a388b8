// Charts as inline SVG drawn here (no library): vertical bars over days, horizontal bars per
// category, and a utilization gauge. Values are plain numbers used only for geometry (display);
// every amount printed comes from the exact formatter.

import { h, s } from "./dom.js";

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** The exact text for this bar (tooltip and screen readers). */
  readonly text: string;
  /** Split bars: the part paid with money (drawn solid); the rest is plan-included value (drawn light). */
  readonly paid?: number;
}

/** A "nice" top for the y axis: 1, 2 or 5 × a power of ten, at or above `max`. */
function niceTop(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/**
 * Bars over time (one per day) with a y axis (0, half, top, labelled by `axis`), date labels
 * under up to six evenly spaced bars, a tooltip per bar, and — for money — each bar split into
 * the part paid with usage credits and the plan-included rest, with a legend.
 */
export function columnChart(title: string, bars: readonly Bar[], total: string, options: { axis?: (v: number) => string; legend?: readonly [string, string] } = {}): HTMLElement {
  const W = 600;
  const H = 200;
  const pad = { l: 64, r: 8, t: 12, b: 26 };
  const top = niceTop(Math.max(0, ...bars.map((b) => b.value)));
  const axis = options.axis ?? ((v: number) => String(v));
  const plotH = H - pad.t - pad.b;
  const bw = (W - pad.l - pad.r) / Math.max(1, bars.length);
  const y = (v: number): number => H - pad.b - (plotH * v) / top;
  const every = Math.max(1, Math.ceil(bars.length / 6));
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}: total ${total}`, class: "chart" },
    ...[0, top / 2, top].map((v) => [
      s("line", { x1: pad.l, y1: y(v), x2: W - pad.r, y2: y(v), class: v === 0 ? "axis" : "grid-line" }),
      s("text", { x: pad.l - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, axis(v)),
    ]),
    ...bars.map((b, i) => {
      const x = pad.l + i * bw + bw * 0.1;
      const w = Math.max(1, bw * 0.8);
      const tip = s("title", {}, `${b.label}: ${b.text}`);
      if (b.paid === undefined) return s("rect", { x, y: y(b.value), width: w, height: y(0) - y(b.value), class: "bar" }, tip);
      const paid = Math.min(b.paid, b.value);
      return s(
        "g",
        { class: "stack" },
        tip,
        s("rect", { x, y: y(b.value), width: w, height: y(paid) - y(b.value), class: "bar plan" }),
        s("rect", { x, y: y(paid), width: w, height: y(0) - y(paid), class: "bar" }),
      );
    }),
    // Date labels (MM-DD) under up to six bars; the last one ends at the right edge so it is never cut.
    ...bars.map((b, i) => {
      const last = i === bars.length - 1;
      if (!(last || (i % every === 0 && i + every / 2 < bars.length - 1))) return null;
      return s("text", { x: last ? W - pad.r : pad.l + i * bw + bw / 2, y: H - 8, class: "tick", "text-anchor": last ? "end" : "middle" }, b.label.slice(5));
    }),
  );
  const legend = options.legend
    ? h("p", { class: "legend" }, h("span", { class: "swatch paid" }), options.legend[0], " ", h("span", { class: "swatch plan" }), options.legend[1])
    : null;
  return h("figure", { class: "chart-box" }, h("figcaption", {}, h("span", {}, title), h("strong", {}, total)), svg, legend);
}

/** Horizontal bars, one per category, with the exact figure beside each. */
export function barList(title: string, bars: readonly Bar[]): HTMLElement {
  const max = Math.max(1, ...bars.map((b) => b.value));
  return h(
    "figure",
    { class: "chart-box" },
    h("figcaption", {}, h("span", {}, title)),
    bars.length === 0
      ? h("p", { class: "muted" }, "No usage in this range.")
      : h(
          "ul",
          { class: "bar-list" },
          ...bars.map((b) => {
            const svg = s("svg", { viewBox: "0 0 100 8", preserveAspectRatio: "none", "aria-hidden": "true", class: "hbar" }, s("rect", { x: 0, y: 0, width: Math.max(0.5, (100 * b.value) / max), height: 8, class: "bar" }));
            return h("li", {}, h("span", { class: "bar-label" }, b.label), svg, h("span", { class: "bar-value" }, b.text));
          }),
        ),
  );
}

/** A window's utilization as a meter: the bar, the percentage and when it resets. */
export function gauge(label: string, percent: number, caption: string, exhausted: boolean): HTMLElement {
  const p = Math.max(0, Math.min(100, percent));
  const svg = s(
    "svg",
    { viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true", class: "gauge-svg" },
    s("rect", { x: 0, y: 0, width: 100, height: 10, class: "gauge-track" }),
    s("rect", { x: 0, y: 0, width: p, height: 10, class: exhausted ? "gauge-fill full" : p >= 80 ? "gauge-fill high" : "gauge-fill" }),
  );
  return h(
    "div",
    { class: "gauge", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": p, "aria-label": `${label} utilization` },
    h("div", { class: "gauge-head" }, h("span", {}, label), h("strong", {}, `${p}%`)),
    svg,
    h("small", { class: "muted" }, caption),
  );
}

export interface Bin {
  /** The bin's bounds, as exact text (the x axis labels). */
  readonly from: string;
  readonly to: string;
  /** How many fall in it (an integer: the bar's height). */
  readonly count: number;
  /** "down" (below zero), "up" (above zero) or "even" (spans zero): the bar's colour. */
  readonly side: "down" | "up" | "even";
}

/**
 * A histogram: one bar per bin, the y axis counting (0, half when whole, top), the x axis the bins'
 * bounds (up to five, the last bound at the right edge), a tooltip per bar, and a legend for the
 * colours. `unit` names what is counted ("organizations").
 */
export function histogram(title: string, bins: readonly Bin[], unit: string, legend: readonly [string, string, string]): HTMLElement {
  const W = 600;
  const H = 220;
  const pad = { l: 44, r: 8, t: 12, b: 30 };
  const top = Math.max(1, Math.ceil(niceTop(Math.max(0, ...bins.map((b) => b.count)))));
  const plotH = H - pad.t - pad.b;
  const bw = (W - pad.l - pad.r) / Math.max(1, bins.length);
  const y = (v: number): number => H - pad.b - (plotH * v) / top;
  const ticks = top % 2 === 0 ? [0, top / 2, top] : [0, top];
  const every = Math.max(1, Math.ceil(bins.length / 4));
  const total = bins.reduce((n, b) => n + b.count, 0);
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}: ${total} ${unit} in ${bins.length} bins`, class: "chart histogram" },
    ...ticks.map((v) => [
      s("line", { x1: pad.l, y1: y(v), x2: W - pad.r, y2: y(v), class: v === 0 ? "axis" : "grid-line" }),
      s("text", { x: pad.l - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, String(v)),
    ]),
    ...bins.map((b, i) =>
      s(
        "rect",
        { x: pad.l + i * bw + 1, y: y(b.count), width: Math.max(1, bw - 2), height: y(0) - y(b.count), class: `bar ${b.side}` },
        s("title", {}, `${b.from} to ${b.to}: ${b.count} ${unit}`),
      ),
    ),
    // Bounds under the bars' left edges (up to four), and the last bound at the right edge.
    ...bins.map((b, i) => (i % every === 0 && i + every / 2 < bins.length ? s("line", { x1: pad.l + i * bw, y1: y(0), x2: pad.l + i * bw, y2: y(0) + 5, class: "axis" }) : null)),
    ...bins.map((b, i) => (i % every === 0 && i + every / 2 < bins.length ? s("text", { x: pad.l + i * bw, y: H - 8, class: "tick", "text-anchor": i === 0 ? "start" : "middle" }, b.from) : null)),
    bins.length > 0 ? s("text", { x: W - pad.r, y: H - 8, class: "tick", "text-anchor": "end" }, bins[bins.length - 1]?.to ?? "") : null,
  );
  return h(
    "figure",
    { class: "chart-box" },
    h("figcaption", {}, h("span", {}, title), h("strong", {}, `${total} ${unit}`)),
    bins.length === 0 ? h("p", { class: "muted" }, `No ${unit} in this replay.`) : svg,
    h("p", { class: "legend" }, h("span", { class: "swatch down" }), legend[0], " ", h("span", { class: "swatch even" }), legend[1], " ", h("span", { class: "swatch up" }), legend[2]),
  );
}
