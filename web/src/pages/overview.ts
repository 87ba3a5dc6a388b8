// Overview: plan, each window's utilization and reset time, the usage-credit balance, this
// period's spend against each applicable spending limit, fast mode, auto-reload, recent alerts.

import { api } from "../api.js";
import { gauge } from "../charts.js";
import type { Page } from "../context.js";
import { h, section, table } from "../dom.js";
import { pretty, until, usd, when } from "../format.js";
import type { AutoReload, Event, List, Plan, Summary, Window } from "../wire.js";

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

export const limitLabel = (scope: string): string => (scope === "organization" ? "Organization" : scope === "workspace" ? "Workspace" : "Member");

export const overviewPage: Page = async (ctx, view) => {
  const [summary, plans, reload, events] = await Promise.all([
    api<Summary>("GET", `${ctx.base}/usage_summary`),
    api<List<Plan>>("GET", "/v1/plans"),
    api<AutoReload>("GET", `${ctx.base}/auto_reload`),
    api<List<Event>>("GET", `${ctx.base}/events?limit=50`),
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
      section(
        "Usage credits",
        h("p", { class: "big", "data-testid": "balance" }, usd(credits.balance)),
        h("p", {}, credits.is_enabled ? "Usage credits are on for you." : `Usage credits are off (${pretty(credits.disabled_reason ?? "disabled")}).`),
        h("p", { class: "muted" }, `Spent this month: ${usd(credits.used_credits)}`),
        h("p", {}, h("a", { href: "#/credits" }, ctx.canBill ? "Add funds" : "Request usage credits")),
      ),
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
    section("Spending limits this period", table(["Limit", "Amount", "Spent", "Left", "Resets"], limits, { empty: "No spending limit applies to you.", label: "Spending limits" })),
    section(
      "Recent alerts",
      alerts.length === 0
        ? h("p", { class: "muted" }, "No recent alerts.")
        : h("ul", { class: "alerts" }, ...alerts.map((e) => h("li", {}, h("strong", {}, e.type.replace(/[._]/g, " ")), " ", h("span", { class: "muted" }, when(e.created_at))))),
    ),
  );
};
