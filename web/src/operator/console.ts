// The operator console (/dashboard/#/operator): the platform operator's back office, signed in
// with the platform key. The key is kept in this tab's sessionStorage only and sent as x-api-key
// (never as a cookie, so no other site can make the browser use it). The console has its own
// navigation, OPERATOR_PAGES: another page is added with one entry there (as the pricing lab was).

import { api, ApiError } from "../api.js";
import { field, h, messageBox } from "../dom.js";
import { setServerTime } from "../format.js";
import { customersPage, orgPage } from "./customers.js";
import { planPage, plansPage } from "./plans.js";
import { labPage } from "./lab.js";
import { priceBooksPage } from "./price-books.js";

const KEY = "uc.operator.key";

export interface OperatorCtx {
  /** A request with the platform key. */
  readonly call: <T>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<T>;
  /** What follows the page id ("#/operator/org/<id>" → "<id>"). */
  readonly param: string;
  readonly reload: () => void;
}
export type OperatorPage = (ctx: OperatorCtx, view: HTMLElement) => Promise<void>;

/** id, title, page, shown in the navigation. Add a page here (and nothing else) to extend the console. */
export const OPERATOR_PAGES: Array<readonly [string, string, OperatorPage, boolean]> = [
  ["customers", "Customers", customersPage, true],
  ["org", "Organization", orgPage, false],
  ["price-books", "Plans and price books", priceBooksPage, true],
  ["plans", "Plans", plansPage, true],
  ["plan", "Plan", planPage, false],
  ["lab", "Pricing lab", labPage, true],
];

const root = (): HTMLElement => document.getElementById("app") ?? document.body;
const ready = (name: string): void => {
  document.body.dataset["ready"] = name;
};
export const errText = (err: unknown): string => (err instanceof ApiError || err instanceof Error ? err.message : String(err));

function storedKey(): string {
  try {
    return sessionStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

function signIn(): void {
  document.title = "Operator sign-in · Usage credits";
  const key = h("input", { type: "password", name: "platform_key", autocomplete: "off", required: true, maxlength: 200 });
  const msg = messageBox();
  const button = h("button", { type: "submit" }, "Open the operator console");
  const form = h(
    "form",
    { class: "signin card", novalidate: true },
    h("h1", {}, "Operator console"),
    h("p", { class: "muted" }, "Sign in with an operator (platform) key: usage-credits operator-keys create. It is kept in this tab only."),
    field("Platform key", key),
    msg,
    button,
    h("p", {}, h("a", { href: "#/overview" }, "Organization sign-in")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    const k = key.value.trim();
    if (k === "") return msg.error("Paste the platform key.");
    button.disabled = true;
    api("GET", "/v1/operator/customers?limit=1", undefined, { "x-api-key": k })
      .then(() => {
        sessionStorage.setItem(KEY, k);
        operatorConsole();
      })
      .catch((err: unknown) => msg.error(err instanceof ApiError && (err.status === 401 || err.status === 403) ? "That is not a platform key." : errText(err)))
      .finally(() => {
        button.disabled = false;
      });
  });
  root().replaceChildren(h("main", { class: "signin-wrap", id: "main" }, form));
  ready("operator-signin");
  key.focus();
}

/** Opens the console (or its sign-in) for the current "#/operator/…" address. */
export function operatorConsole(): void {
  const key = storedKey();
  if (!key) return signIn();
  const call = <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> => api<T>(method, path, body, { "x-api-key": key, ...headers });
  const signOut = h("button", { type: "button", class: "link" }, "Sign out");
  signOut.addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    signIn();
  });
  const nav = h(
    "nav",
    { "aria-label": "Operator console" },
    h("ul", {}, ...OPERATOR_PAGES.filter(([, , , shown]) => shown).map(([id, label]) => h("li", {}, h("a", { href: `#/operator/${id}`, "data-page": `operator-${id}` }, label)))),
  );
  const main = h("main", { id: "main", tabindex: -1 });
  root().replaceChildren(
    h("a", { href: "#main", class: "skip" }, "Skip to content"),
    h("header", { class: "top" }, h("div", { class: "brand" }, h("strong", {}, "Usage credits"), h("span", { class: "muted" }, "Operator console")), h("div", { class: "who" }, h("span", {}, "Platform operator"), signOut)),
    nav,
    main,
  );
  let rendering = 0;
  let timed = false;
  const render = (): void => {
    const parts = location.hash.replace(/^#\/?operator\/?/, "").split("/");
    // "#/operator/<page>/<param>?<query>": the query belongs to the page (customers ?q=, lab ?org=).
    const id = (parts[0] ?? "").split("?")[0] || "customers";
    const entry = OPERATOR_PAGES.find(([p]) => p === id) ?? OPERATOR_PAGES[0];
    if (!entry) return;
    const [pageId, label, page] = entry;
    const mine = ++rendering;
    delete document.body.dataset["ready"];
    document.title = `${label} · Operator console`;
    for (const a of nav.querySelectorAll("a")) a.toggleAttribute("aria-current", a.dataset["page"] === `operator-${pageId}`);
    for (const a of nav.querySelectorAll(`a[data-page="operator-${pageId}"]`)) a.setAttribute("aria-current", "page");
    const view = h("div", { class: "page" }, h("h1", {}, label), h("p", { class: "muted loading" }, "Loading…"));
    main.replaceChildren(view);
    // Months and dates follow the server's clock, learnt once from the customer list.
    const clock = timed
      ? Promise.resolve()
      : call<{ server_time: string }>("GET", "/v1/operator/customers?limit=1").then((r) => {
          setServerTime(r.server_time);
          timed = true;
        });
    clock
      .then(() => page({ call, param: decodeURIComponent(parts.slice(1).join("/")), reload: render }, view))
      .catch((err: unknown) => {
        if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
          rendering++;
          sessionStorage.removeItem(KEY);
          return signIn();
        }
        view.append(h("p", { class: "message error", role: "alert" }, errText(err)));
      })
      .finally(() => {
        if (mine !== rendering) return;
        view.querySelector(".loading")?.remove();
        ready(`operator-${pageId}`);
      });
  };
  window.onhashchange = (): void => {
    if (!location.hash.startsWith("#/operator")) return location.reload();
    render();
  };
  render();
}
