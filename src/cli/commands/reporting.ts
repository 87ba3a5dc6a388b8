// `usage-credits sdk-credits|statements …`: SDK credits and monthly statements.

import { formatUsd } from "../../core/money.js";
import { presentClaim, presentMemberSdkCredit, presentOrgSdkCredits } from "../../presenters/sdk-credits.js";
import { sdkCreditsOf } from "../../app/sdk-credits.js";
import { presentStatement } from "../../presenters/statements.js";
import { Statements } from "../../app/statements.js";
import { statementCsv } from "../../core/statements.js";
import { str, opt, unwrap, table, ORG, type Command } from "./shared.js";

export const REPORTING_COMMANDS: readonly Command[] = [
  {
    name: "sdk-credits claim",
    summary: "Claim (opt in to) a member's monthly SDK credit: granted now for this billing cycle and every cycle after.",
    options: { ...ORG, member: { type: "string", help: "member id (mem_…)", required: true } },
    run: async (s, o) => {
      const r = unwrap(await sdkCreditsOf(s).claim(str(o, "org"), str(o, "member"), { kind: "platform" }));
      const c = r.status.current;
      const what = c ? `${formatUsd(c.record.amount)} for ${r.status.cycle.label}${c.record.pooled ? " (pooled)" : ""}, grant ${c.record.grantId ?? "(none: the pool is full)"}` : "nothing this cycle";
      return { json: presentClaim(r), text: `${r.alreadyClaimed ? "already claimed" : "claimed"}: ${what}` };
    },
  },
  {
    name: "sdk-credits status",
    summary: "Show an organization's monthly SDK credits (pooled or per member, this cycle's grants), or one member's.",
    options: { ...ORG, member: { type: "string", help: "member id (mem_…); without it, the whole organization" } },
    run: async (s, o) => {
      const member = opt(o, "member");
      if (member !== undefined) {
        const m = unwrap(await sdkCreditsOf(s).memberSdkCredit(str(o, "org"), member));
        const g = m.current?.grant;
        const text = m.claim === null
          ? `not claimed (the seat includes ${formatUsd(m.seatAmount)} per cycle)`
          : `claimed; ${m.cycle.label}: ${g ? `${formatUsd(g.remaining)} left of ${formatUsd(g.amount)}${g.memberId === null ? " (pooled)" : ""}, expires ${new Date(g.expiresAt ?? 0).toISOString()}` : "no credit this cycle"}`;
        return { json: presentMemberSdkCredit(m), text };
      }
      const org = unwrap(await sdkCreditsOf(s).orgSdkCredits(str(o, "org")));
      const head = `${org.settings.pooled ? `pooled, cap ${formatUsd(org.settings.poolCap)}` : "per member"}; cycle ${org.cycle.label}`;
      const rows = org.members.map((m) => [m.claim.memberId, formatUsd(m.seatAmount), m.record ? formatUsd(m.record.amount) : "-", m.record?.grantId ?? "-"]);
      return { json: presentOrgSdkCredits(org), text: `${head}\n${table([["MEMBER", "SEAT AMOUNT", "THIS CYCLE", "GRANT"], ...rows])}` };
    },
  },
  {
    name: "statements get",
    summary: "An organization's statement for a calendar month (UTC): opening, lines, usage, closing (reconciled with the ledger).",
    options: {
      ...ORG,
      month: { type: "string", help: "YYYY-MM", required: true },
      csv: { type: "boolean", help: "print the statement as CSV" },
    },
    run: async (s, o) => {
      const st = unwrap(await new Statements(s.store, s.clock).get(str(o, "org"), str(o, "month")));
      if (o["csv"] === true) return { json: presentStatement(st), text: statementCsv(st).trimEnd() };
      const rows = [
        ["opening balance", formatUsd(st.openingBalance)],
        ...st.lines.map((l) => [`  ${l.category}`, formatUsd(l.amount)]),
        ["closing balance", formatUsd(st.closingBalance)],
        ["ledger balance", `${formatUsd(st.ledgerBalance)}${st.reconciled ? " (reconciled)" : " (NOT RECONCILED)"}`],
      ];
      return { json: presentStatement(st), text: `${st.orgId} ${st.month}${st.complete ? "" : " (month in progress)"}\n${table(rows)}` };
    },
  },
];
