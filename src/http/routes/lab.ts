// The pricing lab's route (operators): replay a month under a proposed price book and/or plans and
// compare with what happened (app/lab.ts). Registered by one line in http/routes.ts.

import { Lab } from "../../app/lab.js";
import type { PriceBookSpec } from "../../core/price-book.js";
import { presentLabReport } from "../../presenters/lab.js";
import * as S from "../../schemas/requests.js";
import { planFromSpec } from "../../schemas/requests.js";
import * as R from "../../schemas/responses.js";
import { HttpError, type AnyRoute } from "../server.js";
import { typed } from "./define.js";

export function labRoutes(): AnyRoute[] {
  return [
    typed({
      method: "POST",
      path: "/v1/lab/replays",
      summary:
        "Pricing lab (platform key): replay a month of recorded usage under a proposed price book and/or plans, from each organization's state at the start of the month, through the same charge rules; nothing is written. Spend by payer, refusals, windows that run out and closing balances, actual beside replayed, organizations sorted by the absolute change.",
      tag: "Pricing lab",
      auth: "platform",
      body: S.LabReplay,
      response: R.LabReplay,
      handler: async (ctx) => {
        const b = ctx.body;
        const out = await new Lab(ctx.services.store).replay({
          period: b.period,
          ...(b.org_ids ? { orgIds: b.org_ids } : {}),
          ...(b.price_book ? { priceBook: b.price_book as unknown as PriceBookSpec } : {}),
          ...(b.plans ? { plans: Object.entries(b.plans).map(([id, spec]) => planFromSpec(id, spec)) } : {}),
        });
        if (!out.ok) throw new HttpError(out.error);
        return ctx.ok(presentLabReport(out.value));
      },
    }),
  ];
}
