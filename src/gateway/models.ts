// GET /v1/models and GET /v1/models/{model_id}: the models the price book in force prices, in the
// vendor's shape, so clients that list or look up models before they call (Claude Code, the SDKs'
// `models.list()`) see exactly what the gateway will accept. Listed in the book's order (the
// shipped book lists newest first); an alias or a dated id looks up its model.

import { z } from "zod";
import { domainError } from "../core/errors.js";
import { findNamedModel, type ModelPrice } from "../core/price-book.js";
import { HttpError, route, type AnyRoute, type Ctx, type Reply } from "../http/route.js";

/** The vendor's model object. */
export function presentModel(m: ModelPrice): { type: "model"; id: string; display_name: string; created_at: string } {
  return { type: "model", id: m.id, display_name: m.displayName, created_at: new Date(m.createdAt).toISOString() };
}

// `beta` (the SDKs' `?beta=true`) and anything else a client adds is accepted and ignored.
const ListModelsQuery = z.looseObject({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  after_id: z.string().min(1).max(200).optional(),
  before_id: z.string().min(1).max(200).optional(),
});
type ListModelsQuery = z.infer<typeof ListModelsQuery>;
const AnyQuery = z.looseObject({});

function bookOf(ctx: Ctx<unknown, unknown>) {
  const now = ctx.services.clock.now();
  const book = ctx.services.catalog.bookAtCached(now);
  if (!book) throw new HttpError(domainError("service_unavailable", "No price book is in force; an operator must publish one."));
  return book;
}

export function listModels(ctx: Ctx<unknown, ListModelsQuery>): Reply {
  const models = bookOf(ctx).models;
  const { limit, after_id: after, before_id: before } = ctx.query;
  if (after !== undefined && before !== undefined) throw new HttpError(domainError("invalid_request", "Give after_id or before_id, not both."));
  const index = (id: string, field: string) => {
    const i = models.findIndex((m) => m.id === id);
    if (i < 0) throw new HttpError(domainError("invalid_request", `${field}: no model ${JSON.stringify(id)} in the list.`, { field }));
    return i;
  };
  let start = 0;
  let end = models.length;
  if (after !== undefined) start = index(after, "after_id") + 1;
  if (before !== undefined) {
    end = index(before, "before_id");
    start = Math.max(0, end - limit);
  }
  const page = models.slice(start, Math.min(end, start + limit));
  const hasMore = before !== undefined ? start > 0 : start + page.length < end;
  return {
    status: 200,
    body: { data: page.map(presentModel), has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page[page.length - 1]?.id ?? null },
  };
}

export function getModel(ctx: Ctx<unknown, unknown>): Reply {
  const id = ctx.params["model_id"] ?? "";
  const model = findNamedModel(bookOf(ctx), id);
  if (!model) throw new HttpError(domainError("not_found", `model: ${id}`, { model: id }));
  return { status: 200, body: presentModel(model) };
}

export function modelRoutes(): AnyRoute[] {
  return [
    route<undefined, ListModelsQuery>({
      method: "GET",
      path: "/v1/models",
      summary: "Lists the models the price book in force prices (the vendor's shape: data, has_more, first_id, last_id); after_id / before_id / limit page through them.",
      tag: "Gateway",
      auth: "authenticated",
      query: ListModelsQuery,
      handler: async (ctx) => listModels(ctx),
    }),
    route<undefined, Record<string, unknown>>({
      method: "GET",
      path: "/v1/models/:model_id",
      summary: "One model of the price book in force, by id, alias or dated id (404 when it is not priced).",
      tag: "Gateway",
      auth: "authenticated",
      query: AnyQuery,
      handler: async (ctx) => getModel(ctx),
    }),
  ];
}
