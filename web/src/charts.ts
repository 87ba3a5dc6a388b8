// Charts as inline SVG drawn here (no library): vertical bars over days, horizontal bars per
// category, and a utilization gauge. Values are plain numbers used only for geometry (display);
// every amount printed comes from the exact formatter.

import { h, s } from "./dom.js";

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** The exact text for this bar (tooltip and screen readers). */
  readonly text: string;
}

/** Bars over time (one per day); the chart is described by a caption and per-bar titles. */
export function columnChart(title: string, bars: readonly Bar[], total: string): HTMLElement {
  const W = 600;
  const H = 180;
  const pad = { l: 8, r: 8, t: 10, b: 24 };
  const max = Math.max(1, ...bars.map((b) => b.value));
  const bw = (W - pad.l - pad.r) / Math.max(1, bars.length);
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}: total ${total}`, class: "chart", preserveAspectRatio: "none" },
    s("line", { x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b, class: "axis" }),
    ...bars.map((b, i) => {
      const bh = ((H - pad.t - pad.b) * b.value) / max;
      return s("rect", { x: pad.l + i * bw + bw * 0.1, y: H - pad.b - bh, width: Math.max(1, bw * 0.8), height: bh, class: "bar" }, s("title", {}, `${b.label}: ${b.text}`));
    }),
    bars.length > 0 ? s("text", { x: pad.l, y: H - 6, class: "tick" }, bars[0]?.label ?? "") : null,
    bars.length > 1 ? s("text", { x: W - pad.r, y: H - 6, class: "tick", "text-anchor": "end" }, bars[bars.length - 1]?.label ?? "") : null,
  );
  return h("figure", { class: "chart-box" }, h("figcaption", {}, h("span", {}, title), h("strong", {}, total)), svg);
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
