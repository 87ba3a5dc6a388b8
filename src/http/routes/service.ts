// Service routes: liveness, readiness and this API's OpenAPI document.

import * as R from "../../schemas/responses.js";
import type { AnyRoute } from "../server.js";
import { typed } from "./define.js";

export const healthz = typed({
  method: "GET",
  path: "/healthz",
  summary: "Liveness: the process is up.",
  tag: "Service",
  auth: "public",
  response: R.Health,
  handler: async (ctx) => ctx.ok({ status: "ok" }),
});

export const readyz = typed({
  method: "GET",
  path: "/readyz",
  summary: "Readiness: 200 while the database answers and the server is not shutting down; 503 while draining or when the database is unreachable.",
  tag: "Service",
  auth: "public",
  response: R.Ready,
  handler: async (ctx) => {
    const store = ctx.services.store.capabilities.name;
    // Draining: say so at once, so the load balancer stops sending before the listener closes.
    if (ctx.services.lifecycle.draining) return { status: 503, body: { status: "draining", store } };
    // An unreachable database is a StoreUnavailable: the edge answers 503 service_unavailable.
    const version = await ctx.services.store.schemaVersion();
    return ctx.ok({ status: "ready", store, schema_version: version });
  },
});

/** GET /openapi.json answers `document()`, built once the whole route table is known. */
export const openapiRoute = (document: () => R.OpenApiDocument): AnyRoute =>
  typed({
    method: "GET",
    path: "/openapi.json",
    summary: "This API's OpenAPI 3.1 document.",
    tag: "Service",
    auth: "public",
    response: R.OpenApiDocument,
    handler: async (ctx) => ctx.ok(document()),
  });
