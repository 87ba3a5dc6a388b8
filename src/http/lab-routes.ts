// The pricing lab's route (operators): replay a month under a proposed price book and/or plans and
// compare with what happened (app/lab.ts). Registered by one line in routes.ts.

import type { z } from "zod";
import { Lab, type LabReport } from "../app/lab.js";
import type { Spend } from "../core/lab.js";
import type { PriceBookSpec } from "../core/price-book.js";
import { MONEY_FORMAT } from "./presenters.js";
import { toPlan } from "./routes.js";
import * as S from "./schemas.js";
import { HttpError, route, type AnyRoute } from "./server.js";

const iso = (t: number): string => new Date(t).toISOString();
const money = (m: number): string => String(m);

export const presentSpend = (s: Spend) => ({
  plan_window: money(s.planWindow),
  sdk_credits: money(s.sdkCredits),
  usage_credits: money(s.usageCredits),
  total: money(s.total),
  revenue: money(s.revenue),
  breakage: money(s.breakage),
});

export const presentLabReport = (r: LabReport) => ({
  object: "lab_replay",
  period: { from: iso(r.from), to: iso(r.to) },
  records: r.records,
  records_without_token_classes: r.recordsWithoutTokenClasses,
  entries: r.entries,
  totals: { actual: presentSpend(r.totals.actual), replayed: presentSpend(r.totals.replayed), difference: presentSpend(r.totals.difference) },
  organizations: r.organizations.map((o) => ({
    org_id: o.orgId,
    name: o.name,
    actual: presentSpend(o.actual),
    replayed: presentSpend(o.replayed),
    difference: presentSpend(o.difference),
    refusals: o.refusals,
    windows_exhausted: o.windowsExhausted.map((w) => ({ window: w.window, at: iso(w.at) })),
    closing_balance: { actual: money(o.closingBalance.actual), replayed: money(o.closingBalance.replayed) },
    admitted_without_usage: o.admittedWithoutUsage,
    dropped_settles: o.droppedSettles,
    members: o.members.map((m) => ({ member_id: m.memberId, actual: presentSpend(m.actual), replayed: presentSpend(m.replayed) })),
  })),
  histogram: r.histogram.map((b) => ({ from: money(b.from), to: money(b.to), organizations: b.organizations })),
  ...MONEY_FORMAT,
});

export function labRoutes(): AnyRoute[] {
  return [
    route<z.infer<typeof S.LabReplay>>({
      method: "POST",
      path: "/v1/lab/replays",
      summary:
        "Pricing lab (platform key): replay a month of recorded usage under a proposed price book and/or plans, from each organization's state at the start of the month, through the same charge rules; nothing is written. Spend by payer, refusals, windows that run out and closing balances, actual beside replayed, organizations sorted by the absolute change.",
      tag: "Pricing lab",
      auth: "platform",
      body: S.LabReplay,
      handler: async (ctx) => {
        const b = ctx.body;
        const out = await new Lab(ctx.services.store).replay({
          period: b.period,
          ...(b.org_ids ? { orgIds: b.org_ids } : {}),
          ...(b.price_book ? { priceBook: b.price_book as unknown as PriceBookSpec } : {}),
          ...(b.plans ? { plans: Object.entries(b.plans).map(([id, spec]) => toPlan(id, spec)) } : {}),
        });
        if (!out.ok) throw new HttpError(out.error);
        return { status: 200, body: presentLabReport(out.value) };
      },
    }),
  ];
}
