// Overview: plan, each window's utilization and reset time, the usage-credit balance, this
// period's spend against each applicable spending limit, fast mode, auto-reload, recent alerts.

import { api, ApiError } from "../api.js";
import { gauge } from "../charts.js";
import type { Page } from "../context.js";
import { h, messageBox, section, table } from "../dom.js";
import { pretty, until, usd, when } from "../format.js";
import { reasonText } from "./payments.js";
import type { AutoReload, Event, List, Plan, SdkCredit, Summary, UsageRecords, Window } from "../wire.js";

const ALERTS = new Set([
  "credits.low_balance",
  "credits.depleted",
  "auto_reload.failed",
  "auto_reload.suspended",
  "auto_reload.succeeded",
  "purchase.failed",
  "spend_limit.threshold",
  "spend_limit.reached",
  "spend_limit.exceeded",
  "window.exhausted",
  "credit_request.created",
]);

const WINDOW_NAMES: Record<string, string> = { five_hour: "Session (5 hours)", seven_day: "Weekly (7 days)" };
const windowName = (key: string): string => WINDOW_NAMES[key] ?? `Weekly, ${key.replace(/^seven_day_/, "")} models`;

export function isWindow(v: unknown): v is Window {
  return typeof v === "object" && v !== null && "utilization" in v && "status" in v;
}

/** An alert's figures in words: the amount, and why a payment failed ("purchase failed: $20.00, the card was declined…"). */
function alertDetail(e: Event): string {
  const d = e.data;
  const parts: string[] = [];
  const money = (k: string): string | null => (typeof d[k] === "string" && /^-?\d+$/.test(d[k]) ? usd(d[k]) : null);
  const amount = money("amount");
  if (amount) parts.push(amount);
  if (typeof d["failure_code"] === "string") parts.push(reasonText(d["failure_code"]));
  else if (typeof d["reason"] === "string") parts.push(pretty(d["reason"]));
  const balance = money("balance");
  if (balance && e.type.startsWith("credits.")) parts.push(`balance ${balance}`);
  return parts.length > 0 ? `: ${parts.join(", ")}` : "";
}

export const limitLabel = (scope: string): string => (scope === "organization" ? "Organization" : scope === "workspace" ? "Workspace" : "Member");

/** What the usage-credit balance counts, said wherever it is shown (the "two balances" question). */
export const BALANCE_INCLUDES =
  "Counts the organization's purchased, promotional and adjustment credits that have not expired, minus any debt. Members' monthly SDK credits are not in it: each pays only for its member's SDK traffic (the monthly statement's closing balance includes them, and amounts held for requests in flight).";

/** The first instant of the server's current UTC month. */
export const monthStart = (nowIso: string): string => `${nowIso.slice(0, 7)}-01T00:00:00.000Z`;

export const overviewPage: Page = async (ctx, view) => {
  const me = ctx.session.member.id;
  const [summary, plans, reload, events, mine, sdk] = await Promise.all([
    api<Summary>("GET", `${ctx.base}/usage_summary`),
    api<List<Plan>>("GET", "/v1/plans"),
    api<AutoReload>("GET", `${ctx.base}/auto_reload`),
    api<List<Event>>("GET", `${ctx.base}/events?limit=50`),
    api<UsageRecords>("GET", `${ctx.base}/usage?member_id=${me}&from=${monthStart(ctx.session.server_time)}`),
    api<SdkCredit>("GET", `${ctx.base}/members/${me}/sdk_credits`),
  ]);
  const plan = plans.data.find((p) => p.id === summary.plan_id);
  const credits = summary.usage_credits;
  const windows = Object.entries(summary).filter((e): e is [string, Window] => isWindow(e[1]));

  const gauges = windows.map(([key, w]) => {
    const caption =
      w.status === "idle" ? (key === "five_hour" ? "Starts with your next request" : "Starts with your next request in this window") : `Resets ${when(w.resets_at)} (${until(w.resets_at)})`;
    return gauge(windowName(key), w.utilization, caption, w.status === "exhausted");
  });

  const limits = credits.limits.map((l) => [
    `${limitLabel(l.scope)} · ${l.period}`,
    l.amount === null ? "Unlimited" : usd(l.amount),
    usd(l.spent),
    l.amount === null ? "—" : usd(l.headroom),
    when(l.resets_at),
  ]);

  const alerts = events.data.filter((e) => ALERTS.has(e.type)).slice(0, 8);

  view.append(
    h(
      "div",
      { class: "grid" },
      section(
        "Plan",
        h("p", { class: "big" }, plan?.name ?? summary.plan_id),
        h("p", { class: "muted" }, `Seat: ${ctx.session.member.seat_tier}`),
        gauges.length > 0 ? h("div", { class: "gauges" }, ...gauges) : h("p", {}, "No usage windows on this plan: every request is paid with usage credits."),
      ),
      yourUsage(mine),
      section(
        "Usage credits",
        h("p", { class: "big", "data-testid": "balance" }, usd(credits.balance)),
        h("p", { class: "hint", "data-testid": "balance-includes" }, BALANCE_INCLUDES),
        h("p", {}, credits.is_enabled ? "Usage credits are on for you." : `Usage credits are off (${pretty(credits.disabled_reason ?? "disabled")}).`),
        ctx.canBill ? h("p", { class: "muted" }, "Organization's spend paid with usage credits this month: ", h("span", { "data-testid": "org-month-spend" }, usd(credits.used_credits))) : null,
        h("p", {}, h("a", { href: "#/credits" }, ctx.canBill ? "Add funds" : "Request usage credits")),
      ),
      sdkCredit(ctx.base, me, sdk, ctx.reload),
      section(
        "Fast mode and auto-reload",
        h("dl", { class: "facts" },
          h("dt", {}, "Fast mode"),
          h("dd", {}, summary.fast_mode.is_enabled ? (summary.fast_mode.fallback_to_standard ? "On (falls back to standard)" : "On") : "Off"),
          h("dt", {}, "Auto-reload"),
          h("dd", { "data-testid": "auto-reload-status" }, reload.enabled ? `${pretty(reload.status)}: below ${usd(reload.threshold)}` : "Off"),
        ),
      ),
    ),
    section("Spending limits that apply to you", table(["Limit", "Amount", "Spent", "Left", "Resets"], limits, { empty: "No spending limit applies to you.", label: "Spending limits" })),
    section(
      "Recent alerts",
      alerts.length === 0
        ? h("p", { class: "muted" }, "No recent alerts.")
        : h("ul", { class: "alerts" }, ...alerts.map((e) => h("li", {}, h("strong", {}, e.type.replace(/[._]/g, " ")), alertDetail(e), " ", h("span", { class: "muted" }, when(e.created_at))))),
    ),
  );
};

/** The signed-in member's own figures for this month: what they used, and who paid. */
function yourUsage(u: UsageRecords): HTMLElement {
  const total = BigInt(u.total_cost);
  const credits = BigInt(u.total_credit_cost);
  return section(
    "Your usage this month",
    h("p", { class: "big", "data-testid": "my-usage" }, usd(u.total_cost)),
    h("p", { class: "hint" }, `At API prices, ${u.data.length} requests by you since the 1st (UTC).`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Paid with usage credits"),
      h("dd", { "data-testid": "my-paid" }, usd(u.total_credit_cost)),
      h("dt", {}, "Covered by your plan and SDK credits"),
      h("dd", { "data-testid": "my-plan-value" }, usd(String(total - credits))),
    ),
  );
}

/** The member's monthly SDK credit: claim it once (opt-in), then see this cycle's credit and what is left. */
function sdkCredit(base: string, me: string, s: SdkCredit, reload: () => void): HTMLElement {
  const msg = messageBox();
  const grant = s.current_cycle?.grant ?? null;
  if (BigInt(s.seat_amount) === 0n && !s.claimed) {
    return section("Your monthly SDK credit", h("p", { class: "muted" }, "Your plan and seat include no monthly SDK credit."));
  }
  if (!s.claimed) {
    const claim = h("button", { type: "button" }, `Claim ${usd(s.seat_amount)} of SDK credit`);
    claim.addEventListener("click", () => {
      claim.disabled = true;
      msg.clear();
      // The claim is idempotent on the server (claimed once per member); the key guards a retried click.
      api<SdkCredit>("POST", `${base}/members/${me}/sdk_credits/claim`, undefined, { "idempotency-key": `sdk-claim-${me}-${s.cycle.month}` })
        .then(() => reload())
        .catch((err: unknown) => {
          claim.disabled = false;
          msg.error(err instanceof ApiError || err instanceof Error ? err.message : String(err));
        });
    });
    return section(
      "Your monthly SDK credit",
      h("p", {}, `Your seat includes ${usd(s.seat_amount)} a month for ${s.surfaces.map(pretty).join(", ")} traffic, drained before usage credits. Claim it once; it then refreshes every billing cycle (no rollover).`),
      claim,
      msg,
    );
  }
  return section(
    "Your monthly SDK credit",
    grant
      ? h("p", { class: "big", "data-testid": "my-sdk-left" }, usd(grant.remaining))
      : h("p", { class: "muted" }, s.pooled ? "Pooled: the organization's SDK credit pool pays for your SDK traffic." : "No SDK credit in this cycle yet."),
    grant ? h("p", { class: "hint" }, `Left of ${usd(grant.amount)} for ${s.cycle.month} (${s.surfaces.map(pretty).join(", ")} traffic only); expires ${when(grant.expires_at)}. Yours only: not part of the organization's balance.`) : null,
  );
}
