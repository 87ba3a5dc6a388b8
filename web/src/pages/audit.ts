// Audit log: who changed what and when, newest first: the actor (member names from the member
// list), the action, the object, the fields that changed (before → after) and the request id.
// Filtered by action and object type, paged with the API's cursor ("Load more"). Owners, admins
// and billing members read it (the "audit" permission); the shell keeps it from everyone else.

import { api, ApiError } from "../api.js";
import type { Page, PageCtx } from "../context.js";
import { field, h, messageBox, section, select, type Child } from "../dom.js";
import { pretty, usd, when } from "../format.js";
import { AUDIT_ACTIONS, AUDIT_TARGETS } from "../../../src/core/audit.js";
import type { AuditEntry, List, Member } from "../wire.js";

const errText = (err: unknown): string => (err instanceof ApiError || err instanceof Error ? err.message : String(err));
const HEAD = ["When", "Who", "Action", "Object", "Changes", "Request"] as const;
const PAGE_SIZE = 50;
/** Snapshot fields that hold money (strings of micro-dollars in every presenter). */
const MONEY = new Set(["amount", "remaining", "debt", "threshold", "target_balance", "monthly_cap", "credit_amount", "balance", "pool_cap", "settled_amount", "price"]);
/** Bookkeeping that changes with every write and says nothing about the change itself. */
const NOISE = new Set(["id", "type", "org_id", "created_at", "updated_at", "currency", "decimal_places"]);

function show(key: string, v: unknown, names: ReadonlyMap<string, string>): string {
  if (v === null || v === undefined) return "—";
  if (MONEY.has(key) && typeof v === "string" && /^-?\d+$/.test(v)) return usd(v);
  if (typeof v === "boolean") return v ? "on" : "off";
  if (typeof v === "string") return names.get(v) ?? v;
  return JSON.stringify(v);
}

/** The fields that differ between the snapshots, as "field: before → after" lines (member ids shown as the member). */
function changes(e: AuditEntry, names: ReadonlyMap<string, string>): Child {
  const before = e.before ?? {};
  const after = e.after ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !NOISE.has(k));
  const changed = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  const line = (k: string): HTMLElement => {
    if (e.before === null) return h("li", {}, h("span", { class: "muted" }, `${pretty(k)}: `), show(k, after[k], names));
    if (e.after === null) return h("li", {}, h("span", { class: "muted" }, `${pretty(k)}: `), h("del", {}, show(k, before[k], names)));
    return h("li", {}, h("span", { class: "muted" }, `${pretty(k)}: `), show(k, before[k], names), " → ", h("strong", {}, show(k, after[k], names)));
  };
  const label = e.before === null && e.after !== null ? "Created" : e.after === null && e.before !== null ? "Removed" : null;
  if (changed.length === 0) return label ?? h("span", { class: "muted" }, "No field changed");
  return [label ? h("span", { class: "muted" }, label) : null, h("ul", { class: "diff" }, ...changed.map(line))];
}

function entries(ctx: PageCtx, members: readonly Member[]): { el: HTMLElement; first: Promise<void> } {
  const nameOf: ReadonlyMap<string, string> = new Map(members.map((m) => [m.id, m.name ? `${m.name} (${m.email})` : m.email]));
  const who = (e: AuditEntry): Child => {
    const member = e.actor.member_id ? (nameOf.get(e.actor.member_id) ?? e.actor.member_id) : null;
    const how = `${pretty(e.actor.type)}${e.actor.id && e.actor.type !== "session" ? ` ${e.actor.id}` : ""}`;
    return member ? [member, h("br", {}), h("small", { class: "muted" }, how)] : h("span", { class: "mono" }, how);
  };
  const action = select("action", [["", "All actions"], ...AUDIT_ACTIONS.map((a) => [a, a] as const)]);
  const target = select("target_type", [["", "All objects"], ...AUDIT_TARGETS.map((t) => [t, pretty(t)] as const)]);
  const body = h("tbody", {});
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  const msg = messageBox();
  let cursor: string | null = null;
  let shown = 0;
  let latest = 0;
  const page = async (reset: boolean): Promise<void> => {
    msg.clear();
    const mine = ++latest;
    if (reset) cursor = null;
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (action.value) q.set("action", action.value);
    if (target.value) q.set("target_type", target.value);
    if (cursor) q.set("before", cursor);
    const r = await api<List<AuditEntry>>("GET", `${ctx.base}/audit_log?${q.toString()}`);
    if (mine !== latest) return; // a newer filter choice answered (or will answer) instead
    if (reset) {
      body.replaceChildren();
      shown = 0;
    }
    for (const e of r.data) {
      const cells: Child[] = [
        when(e.at),
        who(e),
        h("code", { class: "action" }, e.action),
        [pretty(e.target.type), h("br", {}), h("small", { class: "mono" }, e.target.id)],
        changes(e, nameOf),
        h("small", { class: "mono" }, e.request_id ?? "—"),
      ];
      body.append(h("tr", { "data-entry": e.id }, ...cells.map((c, i) => h("td", { "data-label": HEAD[i] ?? "" }, h("div", {}, c)))));
    }
    shown += r.data.length;
    if (shown === 0) body.append(h("tr", {}, h("td", { colspan: HEAD.length, class: "empty" }, "No audit entries match.")));
    cursor = r.next_cursor ?? null;
    more.hidden = cursor === null;
  };
  const run = (reset: boolean): void => {
    more.disabled = true;
    page(reset)
      .catch((err: unknown) => msg.error(errText(err)))
      .finally(() => {
        more.disabled = false;
      });
  };
  action.addEventListener("change", () => run(true));
  target.addEventListener("change", () => run(true));
  more.addEventListener("click", () => run(false));
  const t = h("table", {}, h("thead", {}, h("tr", {}, ...HEAD.map((c) => h("th", { scope: "col" }, c)))), body);
  const el = section(
    "Changes",
    h("p", { class: "muted" }, "Every change to money, limits, auto-reload, members and roles, settings, API keys and webhook endpoints, newest first. Entries cannot be edited or deleted."),
    h("div", { class: "controls" }, field("Action", action), field("Object type", target)),
    h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Audit entries" }, t),
    more,
    msg,
  );
  return { el, first: page(true) };
}

export const auditPage: Page = async (ctx, view) => {
  const members = await api<List<Member>>("GET", `${ctx.base}/members`);
  const log = entries(ctx, members.data);
  view.append(log.el);
  await log.first;
};
