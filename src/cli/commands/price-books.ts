// `usage-credits price-books …`: list, review (diff) and publish price books.

import { formatUsd } from "../../core/money.js";
import { parseInstant, type PriceBookSpec as PriceBookSpecType } from "../../core/price-book.js";
import { reviewPriceBook, type PriceBookReview } from "../../app/price-books.js";
import { PriceBookSpec as PriceBookSpecSchema } from "../../schemas/requests.js";
import type { Services } from "../../app/services.js";
import { CliError, readInput, str, opt, unwrap, table, ORG, type Command } from "./shared.js";

const PRICE_BOOK_DETAILS = `The file is one price book as JSON (docs/pricing-and-batches.md describes every field; GET
/v1/price_books shows the books in force). It is compared with the book it would replace — the one in
force at its effective_from — model by model and rate by rate. The model names clients sent in the
last 30 days are priced under both books; every name priced differently (or no longer priced: a new
book drops every model it omits) is listed with the organizations that sent it, their requests and
what those cost. effective_from must be now or later: prices never change retroactively.`;


export const PRICE_BOOK_COMMANDS: readonly Command[] = [
  {
    name: "price-books list",
    summary: "List the price books (the one in force now is marked).",
    options: {},
    run: async (s) => {
      const specs = await s.catalog.listPriceBookSpecs();
      const inForce = await s.catalog.priceBook(s.clock.now());
      const rows = specs.map((b) => ({ id: b.id, version: b.version, effective_from: b.effective_from, models: b.models.length, in_force: inForce?.id === b.id && inForce.version === b.version }));
      return {
        json: rows,
        text: table([["ID", "VERSION", "EFFECTIVE FROM", "MODELS", "IN FORCE"], ...rows.map((r) => [r.id, String(r.version), r.effective_from, String(r.models), r.in_force ? "yes" : ""])]),
      };
    },
  },
  {
    name: "price-books diff",
    summary: "Show what a price book file would change, and for whom, against the book it would replace; writes nothing.",
    positional: { name: "file", help: "the price book (JSON, the format of docs/pricing-and-batches.md)" },
    options: {
      file: { type: "string", help: "the price book file (or give it as the positional FILE)" },
      since: { type: "string", help: "look for affected organizations from this ISO 8601 time (default: 30 days ago)" },
    },
    details: PRICE_BOOK_DETAILS,
    run: async (s, o) => renderReview(await reviewFile(s, str(o, "file"), opt(o, "since")), "dry run: nothing was written"),
  },
  {
    name: "price-books import",
    summary: "Publish a price book from a file (--dry-run: only show what changes for whom). Books are immutable: publish a new version.",
    positional: { name: "file", help: "the price book (JSON, the format of docs/pricing-and-batches.md)" },
    options: {
      file: { type: "string", help: "the price book file (or give it as the positional FILE)" },
      "dry-run": { type: "boolean", help: "validate and show the changes and the affected organizations; write nothing" },
      since: { type: "string", help: "look for affected organizations from this ISO 8601 time (default: 30 days ago)" },
    },
    details: PRICE_BOOK_DETAILS,
    run: async (s, o) => {
      const file = str(o, "file");
      const { spec, review } = await reviewFile(s, file, opt(o, "since"));
      if (o["dry-run"] === true) return renderReview({ spec, review }, "dry run: nothing was written");
      unwrap(await s.admin.addPriceBook(spec));
      return renderReview({ spec, review }, `published ${spec.id} version ${spec.version}, in force from ${spec.effective_from}`);
    },
  },
];

async function reviewFile(s: Services, file: string, sinceText?: string): Promise<{ spec: PriceBookSpecType; review: PriceBookReview }> {
  const since = sinceText === undefined ? undefined : parseInstant(sinceText);
  if (since === null) throw new CliError(`--since must be an ISO 8601 date-time with a zone, got ${JSON.stringify(sinceText)}`);
  const text = (await readInput(file)).toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const shape = PriceBookSpecSchema.safeParse(json);
  if (!shape.success) {
    throw new CliError(`${file} is not a valid price book:\n${shape.error.issues.map((i) => `  ${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("\n")}`);
  }
  const spec = shape.data as unknown as PriceBookSpecType;
  const r = await reviewPriceBook(s.store, s.clock, spec, since);
  if (!r.ok) throw new CliError(`${file} is not a valid price book:\n${r.problems.map((p) => `  ${p}`).join("\n")}`);
  return { spec, review: r.review };
}

function renderReview({ review }: { spec: PriceBookSpecType; review: PriceBookReview }, outcome: string): { json: unknown; text: string } {
  const c = review.candidate;
  const lines = [`price book ${c.id} version ${c.version} (effective ${c.effective_from}) ${review.replaces ? `replaces ${review.replaces.id} version ${review.replaces.version}` : "replaces no book"}`];
  lines.push("", `changes (rates in USD per million tokens):${review.changes.length === 0 ? " none" : ""}`);
  if (review.changes.length > 0) lines.push(table([["MODEL", "FIELD", "FROM", "TO"], ...review.changes.map((x) => [x.model ?? "(book)", x.field, x.from ?? "-", x.to ?? "-"])]));
  lines.push("", `model names sent since ${review.since} that would be priced differently:${review.names.length === 0 ? " none" : ""}`);
  if (review.names.length > 0) lines.push(table([["NAME", "PRICED AS", "WOULD BE", "CHANGE"], ...review.names.map((x) => [x.name, x.from ?? "-", x.to ?? "refused", x.change])]));
  lines.push("", `organizations that sent them:${review.organizations.length === 0 ? " none" : ""}`);
  if (review.organizations.length > 0) {
    lines.push(table([["ORG", "REQUESTS", "COST (OLD PRICES)", "MODELS"], ...review.organizations.map((o) => [o.orgId, String(o.requests), formatUsd(o.cost), o.models.map((m) => `${m.name} ×${m.requests}`).join(", ")])]));
  }
  lines.push("", outcome);
  return {
    json: {
      ...review,
      organizations: review.organizations.map((o) => ({ org_id: o.orgId, requests: o.requests, cost: String(o.cost), models: o.models.map((m) => ({ name: m.name, requests: m.requests, cost: String(m.cost) })) })),
      outcome,
    },
    text: lines.join("\n"),
  };
}
