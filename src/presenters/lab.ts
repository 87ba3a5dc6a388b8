// The pricing lab's report as the API and the CLI answer it (money as micro-dollar strings).

import type { LabReport } from "../app/lab.js";
import type { Spend } from "../core/lab.js";
import { isoAt, money, MONEY_FORMAT } from "./format.js";
import type * as R from "../schemas/responses.js";

export const presentSpend = (s: Spend): R.LabSpend => ({
  plan_window: money(s.planWindow),
  sdk_credits: money(s.sdkCredits),
  usage_credits: money(s.usageCredits),
  total: money(s.total),
  revenue: money(s.revenue),
  breakage: money(s.breakage),
});

export const presentLabReport = (r: LabReport): R.LabReplay => ({
  object: "lab_replay",
  period: { from: isoAt(r.from), to: isoAt(r.to) },
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
    windows_exhausted: o.windowsExhausted.map((w) => ({ window: w.window, at: isoAt(w.at) })),
    closing_balance: { actual: money(o.closingBalance.actual), replayed: money(o.closingBalance.replayed) },
    admitted_without_usage: o.admittedWithoutUsage,
    dropped_settles: o.droppedSettles,
    members: o.members.map((m) => ({ member_id: m.memberId, actual: presentSpend(m.actual), replayed: presentSpend(m.replayed) })),
  })),
  histogram: r.histogram.map((b) => ({ from: money(b.from), to: money(b.to), organizations: b.organizations })),
  ...MONEY_FORMAT,
});

