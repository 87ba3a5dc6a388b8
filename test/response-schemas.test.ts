// Response schemas (src/schemas/responses.ts) are the one declaration of the API's JSON shapes:
// the OpenAPI document's success responses are generated from them, and what the server really
// answers matches them field for field (no field missing, none extra, none of another type).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { z } from "zod";
import { apiRoutes } from "../src/http/routes.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;
type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: Schema }> }> }>> };
type Schema = { type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[] };

/** Paths (dotted) of fields in `value` that the JSON schema does not declare. */
function undeclared(value: unknown, schema: Schema, at = "$"): string[] {
  if (schema.anyOf) return schema.anyOf.map((s) => undeclared(value, s, at)).reduce((a, b) => (a.length <= b.length ? a : b));
  if (Array.isArray(value)) return schema.items ? value.flatMap((v, i) => undeclared(v, schema.items as Schema, `${at}[${i}]`)) : [];
  if (value === null || typeof value !== "object" || !schema.properties) return [];
  const props = schema.properties;
  return Object.entries(value).flatMap(([k, v]) => (props[k] ? undeclared(v, props[k], `${at}.${k}`) : [`${at}.${k}`]));
}

const routes = apiRoutes();
const declared = routes.filter((r) => r.response !== undefined && r.successor === undefined);

for (const backend of backends()) {
  describe(`response schemas match the real answers (${backend.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    test("/openapi.json's success responses are the declared schemas", async () => {
      const doc = (await h.request("GET", "/openapi.json", { key: null })).body as Doc;
      assert.ok(declared.length >= 35, `routes with a response schema: ${declared.length}`);
      for (const r of declared) {
        const op = doc.paths[r.path.replace(/:([a-z_]+)/g, "{$1}")]?.[r.method.toLowerCase()];
        const schema = op?.responses[String(r.success ?? 200)]?.content["application/json"]?.schema;
        assert.ok(schema?.properties, `${r.method} ${r.path}: a documented response schema`);
        const expected = z.toJSONSchema(r.response as z.ZodType, { io: "output" }) as Schema;
        assert.deepEqual(Object.keys(schema.properties).filter((k) => expected.properties?.[k]), Object.keys(expected.properties ?? {}), `${r.method} ${r.path}`);
      }
    });

    test("every GET with a response schema answers exactly that shape", async () => {
      const { orgId, ownerId, ownerKey } = await createOrg(h, { usageCredits: true });
      await grant(h, orgId, { amount: String(5 * USD) });
      await addMember(h, orgId, { role: "member" });
      await h.request("POST", `/v1/organizations/${orgId}/workspaces`, { body: { name: "W" } });
      await h.request("POST", `/v1/organizations/${orgId}/spend_limits`, { key: ownerKey, body: { scope: "organization", period: "monthly", amount: String(100 * USD) } });
      const hook = await h.request("POST", `/v1/organizations/${orgId}/webhook_endpoints`, { key: ownerKey, body: { url: "http://127.0.0.1:9/hook" } });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      await h.request("POST", `/v1/organizations/${orgId}/payment_methods`, { key: ownerKey, body: { card_number: "4242424242424242" } });
      const doc = (await h.request("GET", "/openapi.json", { key: null })).body as Doc;
      const params: Record<string, string> = { org_id: orgId, member_id: ownerId, endpoint_id: String(hook.body["id"]) };
      let checked = 0;
      for (const r of declared.filter((d) => d.method === "GET")) {
        const names = [...r.path.matchAll(/:([a-z_]+)/g)].map((m) => m[1] as string);
        if (names.some((n) => params[n] === undefined)) continue;
        const path = r.path.replace(/:([a-z_]+)/g, (_, n: string) => params[n] as string);
        const res = await h.request("GET", path, { key: r.auth === "platform" ? undefined : ownerKey });
        assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
        const parsed = (r.response as z.ZodType).safeParse(res.body);
        assert.ok(parsed.success, `${path}: ${parsed.success ? "" : JSON.stringify(parsed.error.issues)}`);
        // Against the document's schema: it also lists the rename's old names, sent beside the new ones.
        const documented = doc.paths[r.path.replace(/:([a-z_]+)/g, "{$1}")]?.[r.method.toLowerCase()]?.responses["200"]?.content["application/json"]?.schema as Schema;
        assert.deepEqual(undeclared(res.body, documented), [], `${path}: fields the document does not declare`);
        if (JSON.stringify(res.body).includes('"data":[]')) continue;
        checked++;
      }
      assert.ok(checked >= 10, `GETs checked with data: ${checked}`);
    });
  });
}
