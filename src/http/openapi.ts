// The OpenAPI 3.1 document, generated from the route table and the same zod schemas that validate
// requests, so the document cannot drift from what the server accepts.

import { z } from "zod";
import { ERROR_STATUS } from "./error-status.js";
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

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { io: "input", target: "draft-2020-12", unrepresentable: "any" }) as Record<string, unknown>;
  delete s["$schema"];
  return s;
}

export function buildOpenApi(routes: readonly AnyRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([a-z_]+)/g, "{$1}");
    const params: unknown[] = [...r.path.matchAll(/:([a-z_]+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    if (r.query) {
      const q = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) params.push({ name, in: "query", required: q.required?.includes(name) ?? false, schema });
    }
    if (r.method === "POST") {
      params.push({ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 255 }, description: "Same key + same body → the original response; different body → 409 idempotency_conflict." });
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[/:]+([a-z_])/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "")}`,
      parameters: params,
      responses: {
        [String(r.success ?? 200)]: { description: "Success", content: { "application/json": { schema: { type: "object" } } } },
        "4XX": { description: "A client error; `error.code` says which.", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        "5XX": { description: "A server or database error.", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      },
      ...(r.auth === "public" ? { security: [] } : {}),
      ...(r.auth !== "public" && r.auth !== "authenticated" ? { "x-permission": r.auth } : {}),
      ...(r.deprecated ? { deprecated: true } : {}),
    };
    if (r.body) op["requestBody"] = { required: true, content: { "application/json": { schema: jsonSchema(r.body) } } };
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
