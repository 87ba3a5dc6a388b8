// A tiny DOM builder: elements from tag, attributes and children. Text is always set as text
// (never parsed as HTML), so data from the API can never inject markup.

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Attr = string | number | boolean | null | undefined | ((e: Event) => void);

let nextId = 0;
/** A unique element id, for label/for and aria-describedby pairs. */
export const uid = (prefix: string): string => `${prefix}-${++nextId}`;

function append(el: Element, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child as readonly Child[]) append(el, c);
    return;
  }
  el.append(child instanceof Node ? child : document.createTextNode(String(child)));
}

function setAttrs(el: Element, attrs: Record<string, Attr>): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "value" && el instanceof HTMLInputElement) el.value = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, Attr> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const c of children) append(el, c);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, Attr> = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  for (const c of children) append(el, c);
  return el;
}

/** A labelled form control: <label for> + control + optional hint (described-by). */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: Child): HTMLElement {
  control.id ||= uid("f");
  const hintEl = hint ? h("small", { id: uid("hint"), class: "hint" }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

export function select(name: string, options: ReadonlyArray<readonly [string, string]>, value?: string, attrs: Record<string, Attr> = {}): HTMLSelectElement {
  const el = h("select", { name, ...attrs }, ...options.map(([v, text]) => h("option", { value: v }, text)));
  if (value !== undefined) el.value = value;
  return el;
}

/** A message area for a form: role=alert, so screen readers announce server refusals. */
export interface MessageBox extends HTMLElement {
  error(text: string): void;
  ok(text: string): void;
  clear(): void;
}

export function messageBox(): MessageBox {
  const box = h("p", { class: "message", role: "alert", hidden: true });
  const show = (kind: string, text: string): void => {
    box.className = `message ${kind}`;
    box.textContent = text;
    box.hidden = false;
  };
  return Object.assign(box, {
    error: (text: string) => show("error", text),
    ok: (text: string) => show("ok", text),
    clear: () => {
      box.hidden = true;
      box.textContent = "";
    },
  });
}

export function table(head: readonly string[], rows: ReadonlyArray<readonly Child[]>, options: { caption?: string; empty?: string; foot?: readonly Child[]; label?: string } = {}): HTMLElement {
  const t = h(
    "table",
    {},
    options.caption ? h("caption", {}, options.caption) : null,
    h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, ...(rows.length === 0 ? [h("tr", {}, h("td", { colspan: head.length, class: "empty" }, options.empty ?? "Nothing yet."))] : rows.map((r) => h("tr", {}, ...r.map((c, i) => h("td", { "data-label": head[i] ?? "" }, c)))))),
    options.foot ? h("tfoot", {}, h("tr", {}, ...options.foot.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c) : h("td", { "data-label": head[i] ?? "" }, c))))) : null,
  );
  return h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": options.label ?? options.caption ?? "table" }, t);
}

export function section(title: string, ...children: Child[]): HTMLElement {
  const id = uid("sec");
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

/** <body data-ready="<page>"> once a page's data is on screen (tests and the benchmark wait for it). */
export const markReady = (page: string): void => {
  document.body.dataset["ready"] = page;
};
export const clearReady = (): void => {
  delete document.body.dataset["ready"];
};
