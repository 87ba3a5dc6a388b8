// The dashboard's entry: sign-in, the page shell (header, navigation, main) and a hash router.
// Each page marks <body data-ready="<page>"> once its data is on screen (tests and the
// benchmark wait for it).

import { api, ApiError, setCsrf } from "./api.js";
import type { Page, PageCtx } from "./context.js";
import { field, h, messageBox } from "./dom.js";
import { setServerTime } from "./format.js";
import { overviewPage } from "./pages/overview.js";
import { usagePage } from "./pages/usage.js";
import { creditsPage } from "./pages/credits.js";
import { limitsPage } from "./pages/limits.js";
import { membersPage } from "./pages/members.js";
import { webhooksPage } from "./pages/webhooks.js";
import { auditPage } from "./pages/audit.js";
import { paymentsPage, receiptPage } from "./pages/payments.js";
import type { Session } from "./wire.js";
import { operatorConsole } from "./operator/console.js";

/** id, title, page, and the permission it needs (none: every member reads it, read-only where they cannot change it). */
const PAGES: ReadonlyArray<readonly [string, string, Page, string?]> = [
  ["overview", "Overview", overviewPage],
  ["usage", "Usage", usagePage],
  ["credits", "Usage credits", creditsPage],
  ["payments", "Payments", paymentsPage, "billing"],
  ["limits", "Limits", limitsPage],
  ["members", "Members and keys", membersPage],
  ["webhooks", "Webhooks", webhooksPage],
  ["audit", "Audit log", auditPage, "audit"],
];
/** Pages reached by a link, not from the navigation: "#/<id>/<param>". */
const LINKED: ReadonlyArray<readonly [string, string, Page, string?]> = [["receipt", "Receipt", receiptPage, "billing"]];
const allowed = (session: Session, need: string | undefined): boolean => need === undefined || session.permissions.includes(need);

const root = (): HTMLElement => document.getElementById("app") ?? document.body;
const ready = (name: string): void => {
  document.body.dataset["ready"] = name;
};

function signInView(): void {
  document.title = "Sign in · Usage credits";
  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "username", maxlength: 254 });
  const password = h("input", { type: "password", name: "password", required: true, autocomplete: "current-password", maxlength: 256 });
  const msg = messageBox();
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "signin card", novalidate: true },
    h("h1", {}, "Usage credits"),
    h("p", { class: "muted" }, "Sign in with your organization account."),
    field("Email", email),
    field("Password", password),
    msg,
    button,
    h("p", { class: "muted" }, h("a", { href: "#/operator" }, "Operator console")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    if (!email.checkValidity()) return msg.error("Enter your email address.");
    if (password.value === "") return msg.error("Enter your password.");
    button.disabled = true;
    api<{ csrf_token: string }>("POST", "/v1/dashboard/session", { email: email.value.trim(), password: password.value })
      .then(() => {
        location.hash = "#/overview";
        return boot();
      })
      .catch((err: unknown) => msg.error(err instanceof ApiError ? err.message : String(err)))
      .finally(() => {
        button.disabled = false;
      });
  });
  root().replaceChildren(h("main", { class: "signin-wrap", id: "main" }, form));
  window.onhashchange = (): void => {
    if (location.hash.startsWith("#/operator")) operatorConsole();
  };
  ready("signin");
  email.focus();
}

function shell(session: Session): { main: HTMLElement; nav: HTMLElement } {
  const signOut = h("button", { type: "button", class: "link" }, "Sign out");
  signOut.addEventListener("click", () => {
    void api("DELETE", "/v1/dashboard/session").finally(() => {
      setCsrf("");
      location.hash = "";
      signInView();
    });
  });
  const nav = h("nav", { "aria-label": "Dashboard" }, h("ul", {}, ...PAGES.filter(([, , , need]) => allowed(session, need)).map(([id, label]) => h("li", {}, h("a", { href: `#/${id}`, "data-page": id }, label)))));
  const main = h("main", { id: "main", tabindex: -1 });
  root().replaceChildren(
    h("a", { href: "#main", class: "skip" }, "Skip to content"),
    h(
      "header",
      { class: "top" },
      h("div", { class: "brand" }, h("strong", {}, "Usage credits"), h("span", { class: "muted" }, session.organization.name)),
      h("div", { class: "who" }, h("span", {}, `${session.member.email} (${session.member.role})`), signOut),
    ),
    nav,
    main,
  );
  return { main, nav };
}

async function boot(): Promise<void> {
  // The operator console has its own sign-in (the platform key) and navigation.
  if (location.hash.startsWith("#/operator")) return operatorConsole();
  let session: Session;
  try {
    const s = await api<Session | { signed_in: false }>("GET", "/v1/dashboard/session");
    if (!s.signed_in) return signInView();
    session = s;
  } catch (err) {
    root().replaceChildren(h("p", { class: "message error", role: "alert" }, err instanceof Error ? err.message : String(err)));
    return;
  }
  setCsrf(session.csrf_token);
  setServerTime(session.server_time);
  const { main, nav } = shell(session);
  const base = `/v1/organizations/${session.organization.id}`;
  let rendering = 0;
  const render = (): void => {
    const [id = "", ...rest] = (location.hash.replace(/^#\/?/, "") || "overview").split("/");
    const entry = PAGES.find(([p]) => p === id) ?? LINKED.find(([p]) => p === id) ?? PAGES[0];
    if (!entry) return;
    const [pageId, label, page, need] = entry;
    const param = decodeURIComponent(rest.join("/"));
    const mine = ++rendering;
    delete document.body.dataset["ready"];
    document.title = `${label} · Usage credits`;
    for (const a of nav.querySelectorAll("a")) a.toggleAttribute("aria-current", a.dataset["page"] === pageId);
    for (const a of nav.querySelectorAll(`a[data-page="${pageId}"]`)) a.setAttribute("aria-current", "page");
    const ctx: PageCtx = { session, base, param, canBill: session.permissions.includes("billing"), canManage: session.permissions.includes("manage"), reload: render };
    if (!allowed(session, need)) {
      // Opened by its address: say so plainly instead of asking the server for a certain 403.
      main.replaceChildren(h("div", { class: "page" }, h("h1", {}, label), h("p", { class: "message error", role: "alert" }, `The ${label} page is not available for your role (${session.member.role}).`)));
      ready(pageId);
      return;
    }
    const view = h("div", { class: "page" }, h("h1", {}, label), h("p", { class: "muted loading" }, "Loading…"));
    main.replaceChildren(view);
    page(ctx, view)
      .then(() => {
        if (mine !== rendering) return;
        view.querySelector(".loading")?.remove();
        ready(pageId);
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401) return signInView();
        view.querySelector(".loading")?.remove();
        view.append(h("p", { class: "message error", role: "alert" }, err instanceof Error ? err.message : String(err)));
        ready(pageId);
      });
  };
  window.onhashchange = (): void => {
    if (location.hash.startsWith("#/operator")) return operatorConsole();
    render();
  };
  render();
}

void boot();
