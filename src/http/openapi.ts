// The OpenAPI 3.1 document, generated from the route table and the same zod schemas that validate
// requests, so the document cannot drift from what the server accepts.

import { z } from "zod";
import { FIELD_RENAMES } from "../core/legacy-names.js";
import { ERROR_STATUS } from "./error-status.js";
import type { OpenApiDocument } from "../schemas/responses.js";
import type { AnyRoute } from "./server.js";

const ERROR_SCHEMA = {
  type: "object",
  required: ["type", "error"],
  properties: {
    type: { const: "error" },
    error: {
      type: "object",
      required: ["type", "code", "message", "request_id", "details"],
      properties: {
        type: { type: "string", enum: [...new Set(Object.values(ERROR_STATUS).map((e) => e.type))] },
        code: { type: "string", enum: Object.keys(ERROR_STATUS) },
        message: { type: "string" },
        request_id: { type: "string" },
        details: { type: "object" },
      },
    },
  },
} as const;

function jsonSchema(schema: z.ZodType, io: "input" | "output" = "input"): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" }) as Record<string, unknown>;
  delete s["$schema"];
  return s;
}

/**
 * The rename's old field names in a JSON schema: "old" renames every renamed property (a deprecated
 * alias operation); "both" adds the old name beside the new one, marked deprecated.
 */
function legacyNames(schema: unknown, mode: "old" | "both"): unknown {
  if (Array.isArray(schema)) return schema.map((s) => legacyNames(s, mode));
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === "properties" || k === "required" ? v : legacyNames(v, mode);
  const props = (schema as { properties?: Record<string, unknown> }).properties;
  if (props && typeof props === "object") {
    const next: Record<string, unknown> = {};
    for (const [name, p] of Object.entries(props)) {
      const old = Object.hasOwn(FIELD_RENAMES, name) ? FIELD_RENAMES[name] : undefined;
      const inner = legacyNames(p, mode);
      if (old === undefined) next[name] = inner;
      else if (mode === "old") next[old] = { ...(inner as object), deprecated: true };
      else {
        next[name] = inner;
        next[old] = { ...(inner as object), deprecated: true, description: `Deprecated: the old name of ${name}.` };
      }
    }
    out["properties"] = next;
    const required = (schema as { required?: string[] }).required;
    if (required) out["required"] = mode === "old" ? required.map((r) => (Object.hasOwn(FIELD_RENAMES, r) ? (FIELD_RENAMES[r] ?? r) : r)) : required;
  }
  return out;
}

export function buildOpenApi(routes: readonly AnyRoute[]): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([a-z_]+)/g, "{$1}");
    const params: unknown[] = [...r.path.matchAll(/:([a-z_]+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    if (r.query) {
      const q = legacyNames(jsonSchema(r.query), r.successor ? "old" : "both") as { properties?: Record<string, { deprecated?: boolean }>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        params.push({ name, in: "query", required: q.required?.includes(name) ?? false, schema, ...(schema.deprecated ? { deprecated: true } : {}) });
      }
    }
    if (r.method === "POST") {
      params.push({ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 255 }, description: "Same key + same body → the original response; different body → 409 idempotency_conflict." });
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.successor ? "deprecated_" : ""}${r.method.toLowerCase()}${r.path.replace(/[/:]+([a-z_])/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "")}`,
      parameters: params,
      responses: {
        [String(r.success ?? 200)]: { description: "Success", content: { "application/json": { schema: r.response ? legacyNames(jsonSchema(r.response, "output"), r.successor ? "old" : "both") : { type: "object" } } } },
        "4XX": { description: "A client error; `error.code` says which.", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        "5XX": { description: "A server or database error.", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      },
      ...(r.auth === "public" ? { security: [] } : {}),
      ...(r.auth !== "public" && r.auth !== "authenticated" ? { "x-permission": r.auth } : {}),
      ...(r.deprecated ? { deprecated: true } : {}),
    };
    if (r.body) op["requestBody"] = { required: true, content: { "application/json": { schema: legacyNames(jsonSchema(r.body), r.successor ? "old" : "both") } } };
    if (r.successor) op["x-successor"] = r.successor.replace(/:([a-z_]+)/g, "{$1}");
    paths[path] = { ...(paths[path] ?? {}), [r.method.toLowerCase()]: op };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "usage-credits",
      version: "0.1.0",
      description:
        "Plans with usage windows, prepaid usage credits, spending limits and an exact double-entry ledger. Money is integer micro-dollars, sent as strings (1 USD = \"1000000\").",
    },
    servers: [{ url: "/" }],
    security: [{ apiKey: [] }, { bearer: [] }],
    components: {
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: "x-api-key" },
        bearer: { type: "http", scheme: "bearer" },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
    paths,
  };
}
