// Limits: spending limits per organization, workspace and member, their period, unlimited, what
// each has spent this period and what it would block now. Setting and removing needs billing rights.

import { api, ApiError } from "../api.js";
import { confirmChange } from "../confirm.js";
import type { Page } from "../context.js";
import { field, h, messageBox, section, select, table } from "../dom.js";
import { parseDollars, usd, when } from "../format.js";
import type { Limit, LimitStatus, List, Member, Summary, Workspace } from "../wire.js";
import { limitLabel } from "./overview.js";

const errText = (err: unknown): string => (err instanceof ApiError || err instanceof Error ? err.message : String(err));

export const limitsPage: Page = async (ctx, view) => {
  const [limits, members, workspaces] = await Promise.all([
    api<List<Limit>>("GET", `${ctx.base}/spend_limits`),
    api<List<Member>>("GET", `${ctx.base}/members`),
    api<List<Workspace>>("GET", `${ctx.base}/workspaces`),
  ]);
  // Spend per limit comes from the usage summary of a member it applies to.
  const probe = new Set<string>([ctx.session.member.id]);
  for (const l of limits.data) {
    if (l.scope === "member") probe.add(l.scope_id);
    if (l.scope === "workspace") {
      const m = members.data.find((x) => x.workspace_id === l.scope_id);
      if (m) probe.add(m.id);
    }
  }
  const summaries = await Promise.all([...probe].map((id) => api<Summary>("GET", `${ctx.base}/usage_summary?member_id=${id}`)));
  const status = new Map<string, LimitStatus>();
  for (const s of summaries) for (const l of s.usage_credits.limits) status.set(l.id, l);
  const emailOf = new Map(members.data.map((m) => [m.id, m.email]));
  const wsName = new Map(workspaces.data.map((w) => [w.id, w.name]));
  const target = (l: Limit): string => (l.scope === "organization" ? ctx.session.organization.name : l.scope === "workspace" ? (wsName.get(l.scope_id) ?? l.scope_id) : (emailOf.get(l.scope_id) ?? l.scope_id));
  const blocks = (l: Limit, st: LimitStatus | undefined): string => {
    if (l.amount === null) return "Nothing (unlimited)";
    if (!l.stop_usage) return `Nothing: alert-only budget${st ? ` (${usd(st.spent)} of ${usd(l.amount)} spent; alerts at 50, 75, 90, 100 % and over)` : ""}`;
    if (!st) return "Unknown (no member in scope yet)";
    const who = l.scope === "organization" ? "everyone" : l.scope === "workspace" ? "the workspace's members" : "this member";
    if (BigInt(st.headroom) <= 0n) return `Blocks ${who} now: usage-credit requests are refused until ${when(st.resets_at)}`;
    return `Blocks ${who} once ${usd(st.headroom)} more is spent this period`;
  };
  const msg = messageBox();
  const rows = limits.data.map((l) => {
    const st = status.get(l.id);
    const remove = h("button", { type: "button", class: "link danger", "aria-label": `Remove the ${l.period} limit of ${target(l)}` }, "Remove");
    remove.addEventListener("click", async () => {
      if (!(await confirmChange(`Remove the ${l.period} limit of ${target(l)}?`, `The limit of ${l.amount === null ? "unlimited" : usd(l.amount)} stops applying at once; only other limits and the balance bound spending.`, "Remove limit"))) return;
      api("DELETE", `${ctx.base}/spend_limits/${l.id}`)
        .then(() => ctx.reload())
        .catch((err: unknown) => msg.error(errText(err)));
    });
    return [`${limitLabel(l.scope)}: ${target(l)}`, l.period, l.amount === null ? "Unlimited" : usd(l.amount), st ? usd(st.spent) : "—", blocks(l, st), ctx.canBill ? remove : ""];
  });
  view.append(section("Spending limits", table(["Applies to", "Period", "Limit", "Spent this period", "Would block now", ""], rows, { empty: "No spending limits: usage credits are limited only by the balance.", label: "Spending limits" }), msg));
  if (!ctx.canBill) {
    view.append(h("p", { class: "muted" }, "Only owners, admins and billing members can change spending limits."));
    return;
  }
  const form = limitForm(ctx.base, members.data, workspaces.data, ctx.reload);
  view.append(section("Set a spending limit", form));
};

function limitForm(base: string, members: Member[], workspaces: Workspace[], reload: () => void): HTMLElement {
  const msg = messageBox();
  const scope = select("scope", [["organization", "Organization"], ["workspace", "Workspace"], ["member", "Member"]], "member");
  const member = select("member", members.map((m) => [m.id, m.email] as const));
  const workspace = select("workspace", workspaces.map((w) => [w.id, w.name] as const));
  const period = select("period", [["monthly", "Monthly"], ["weekly", "Weekly"], ["daily", "Daily"]], "monthly");
  const amount = h("input", { type: "text", inputmode: "decimal", name: "limit_amount", placeholder: "100.00", autocomplete: "off" });
  const unlimited = h("input", { type: "checkbox", name: "unlimited" });
  const alertOnly = h("input", { type: "checkbox", name: "alert_only" });
  const memberField = field("Member", member);
  const workspaceField = field("Workspace", workspace);
  const sync = (): void => {
    memberField.hidden = scope.value !== "member";
    workspaceField.hidden = scope.value !== "workspace";
    amount.disabled = unlimited.checked;
  };
  scope.addEventListener("change", sync);
  unlimited.addEventListener("change", sync);
  sync();
  const form = h(
    "form",
    { novalidate: true, "aria-label": "Set a spending limit" },
    field("Scope", scope),
    memberField,
    workspaceField,
    field("Period", period),
    field("Limit (USD)", amount, "Replaces the scope's existing limit for this period."),
    h("label", { class: "choice" }, unlimited, " Unlimited"),
    h("label", { class: "choice" }, alertOnly, " Alert only (never stop usage; send alerts at 50, 75, 90, 100 % and over)"),
    msg,
    h("button", { type: "submit" }, "Save limit"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    const scopeId = scope.value === "member" ? member.value : scope.value === "workspace" ? workspace.value : undefined;
    if (scope.value === "workspace" && !scopeId) return msg.error("There is no workspace to limit yet.");
    let value: string | null = null;
    if (!unlimited.checked) {
      const m = parseDollars(amount.value);
      if (m === null) return msg.error("Enter the limit in dollars, e.g. 100, or tick Unlimited.");
      value = String(m);
    }
    const who = scope.value === "organization" ? "the organization" : scope.value === "workspace" ? (workspace.selectedOptions[0]?.textContent ?? "the workspace") : (member.selectedOptions[0]?.textContent ?? "the member");
    const shown = value === null ? "unlimited" : usd(value);
    void confirmChange(`Set a ${period.value} limit of ${shown} for ${who}?`, `It replaces any ${period.value} limit ${who} has and applies from the next request.`, "Save limit").then((yes) => {
      if (!yes) return;
      send();
    });
  });
  const send = (): void => {
    const scopeId = scope.value === "member" ? member.value : scope.value === "workspace" ? workspace.value : undefined;
    const value = unlimited.checked ? null : String(parseDollars(amount.value));
    api("POST", `${base}/spend_limits`, { scope: scope.value, ...(scopeId ? { scope_id: scopeId } : {}), period: period.value, amount: value, stop_usage: !alertOnly.checked })
      .then(() => reload())
      .catch((err: unknown) => msg.error(errText(err)));
  };
  return form;
}
