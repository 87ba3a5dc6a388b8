// Response schemas (src/schemas/responses.ts) are the one declaration of the API's JSON shapes:
// the OpenAPI document's success responses are generated from them, and what the server really
// answers matches them field for field (no field missing, none extra, none of another type).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { z } from "zod";
import { apiRoutes } from "../src/http/routes.js";
import type { AnyRoute } from "../src/http/server.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;
const PLAN = { name: "Schemas", seats: { standard: { windows: [{ key: "five_hour", kind: "session", duration_seconds: 5 * 3600, quota: String(USD), families: ["opus"] }], monthly_sdk_credit: "0" }, premium: { windows: [], monthly_sdk_credit: String(USD) } } };
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
const routeOf = (method: string, path: string) => {
  const r = routes.find((d) => d.method === method && d.path === path && d.successor === undefined);
  assert.ok(r?.response, `${method} ${path}: a route with a response schema`);
  return r;
};
/** `body`, a real answer of route `r`, matches the route's response schema and declares nothing the document does not. */
function answersItsShape(doc: Doc, r: AnyRoute, body: unknown, label: string): void {
  const parsed = (r.response as z.ZodType).safeParse(body);
  assert.ok(parsed.success, `${label}: ${parsed.success ? "" : JSON.stringify(parsed.error.issues)}`);
  // Against the document's schema: it also lists the rename's old names, sent beside the new ones.
  const documented = doc.paths[r.path.replace(/:([a-z_]+)/g, "{$1}")]?.[r.method.toLowerCase()]?.responses[String(r.success ?? 200)]?.content["application/json"]?.schema as Schema;
  assert.deepEqual(undeclared(body, documented), [], `${label}: fields the document does not declare`);
}

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

    test("/openapi.json's success responses are the declared schemas, and every route of the API declares one", async () => {
      const doc = (await h.request("GET", "/openapi.json", { key: null })).body as Doc;
      // The API's own table (the composition root adds the gateway's vendor-shaped routes and /metrics' text apart).
      assert.deepEqual(routes.filter((r) => r.response === undefined).map((r) => `${r.method} ${r.path}`), [], "routes without a response schema");
      assert.ok(declared.length >= 80, `routes with a response schema: ${declared.length}`);
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
      const member = await addMember(h, orgId, { role: "member" });
      // A credit request writes an event to the outbox (GET …/events).
      const asked = await h.request("POST", `/v1/organizations/${orgId}/credit_requests`, { key: member.key, body: { amount: String(20 * USD) } });
      assert.equal(asked.status, 201, JSON.stringify(asked.body));
      await h.request("POST", `/v1/organizations/${orgId}/workspaces`, { body: { name: "W" } });
      await h.request("POST", `/v1/organizations/${orgId}/spend_limits`, { key: ownerKey, body: { scope: "organization", period: "monthly", amount: String(100 * USD) } });
      const hook = await h.request("POST", `/v1/organizations/${orgId}/webhook_endpoints`, { key: ownerKey, body: { url: "http://127.0.0.1:9/hook" } });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      await h.request("POST", `/v1/organizations/${orgId}/payment_methods`, { key: ownerKey, body: { card_number: "4242424242424242" } });
      const doc = (await h.request("GET", "/openapi.json", { key: null })).body as Doc;
      assert.equal((await h.request("PUT", "/v1/plans/rs", { body: PLAN })).status, 200);
      assert.equal((await h.request("POST", "/v1/plans/rs/versions", { body: { ...PLAN, effective_at: new Date(h.clock.now() + 86_400_000).toISOString() } })).status, 201);
      const params: Record<string, string> = { org_id: orgId, member_id: ownerId, endpoint_id: String(hook.body["id"]), plan_id: "rs" };
      const checked: string[] = [];
      for (const r of declared.filter((d) => d.method === "GET")) {
        const names = [...r.path.matchAll(/:([a-z_]+)/g)].map((m) => m[1] as string);
        if (names.some((n) => params[n] === undefined)) continue;
        const path = r.path.replace(/:([a-z_]+)/g, (_, n: string) => params[n] as string);
        const res = await h.request("GET", path, { key: r.auth === "platform" ? undefined : ownerKey });
        assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
        answersItsShape(doc, r, res.body, path);
        if (JSON.stringify(res.body).includes('"data":[]')) continue;
        checked.push(r.path);
      }
      assert.ok(checked.length >= 10, `GETs checked with data: ${checked.join(", ")}`);
      for (const path of ["/v1/plans", "/v1/plans/:plan_id/versions", "/v1/price_books", "/v1/organizations/:org_id/events", "/v1/ledger/verify", "/openapi.json"]) {
        assert.ok(checked.includes(path), `${path} checked, with data: ${checked.join(", ")}`);
      }
    });

    test("the catalog's, the lab's and the dashboard session's changes answer exactly their shapes", async () => {
      const doc = (await h.request("GET", "/openapi.json", { key: null })).body as Doc;
      const { orgId, ownerId, ownerKey } = await createOrg(h, { usageCredits: true });
      await grant(h, orgId, { amount: String(5 * USD) });
      const member = await addMember(h, orgId, { role: "member" });
      for (let i = 0; i < 3; i++) {
        const used = await h.request("POST", `/v1/organizations/${orgId}/usage_events`, { key: member.key, body: { event_id: `rs-${i}`, model: "claude-sonnet-4-5", amount: String(2 * USD) } });
        assert.equal(used.status, 201, JSON.stringify(used.body));
      }
      const book = ((await h.request("GET", "/v1/price_books")).body["data"] as Json[])[0] as Json;
      const later = new Date(h.clock.now() + 86_400_000).toISOString();
      const password = "correct horse battery staple";
      const email = String((await h.request("GET", `/v1/organizations/${orgId}/members/${ownerId}`, { key: ownerKey })).body["email"]);
      const calls: Array<[method: string, pattern: string, path: string, options: { key?: string; body?: unknown }]> = [
        ["PUT", "/v1/plans/:plan_id", "/v1/plans/rs_put", { body: PLAN }],
        ["POST", "/v1/plans/:plan_id/versions", "/v1/plans/rs_put/versions", { body: { ...PLAN, effective_at: later } }],
        ["POST", "/v1/price_books", "/v1/price_books", { body: { ...book, version: Number(book["version"]) + 1, effective_from: later } }],
        ["POST", "/v1/lab/replays", "/v1/lab/replays", { body: { period: new Date(h.clock.now()).toISOString().slice(0, 7), org_ids: [orgId] } }],
        ["PUT", "/v1/organizations/:org_id/members/:member_id/password", `/v1/organizations/${orgId}/members/${ownerId}/password`, { key: ownerKey, body: { password } }],
        ["POST", "/v1/dashboard/session", "/v1/dashboard/session", { body: { email, password } }],
        ["DELETE", "/v1/dashboard/session", "/v1/dashboard/session", { key: ownerKey }],
      ];
      for (const [method, pattern, path, options] of calls) {
        const r = routeOf(method, pattern);
        const res = await h.request(method, path, options);
        assert.equal(res.status, r.success ?? 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
        answersItsShape(doc, r, res.body, `${method} ${path}`);
        if (pattern === "/v1/lab/replays") {
          // Not an empty replay: the organization, its member and their spend are in the answer checked.
          const orgs = res.body["organizations"] as Json[];
          assert.equal(orgs.length, 1, JSON.stringify(res.body));
          assert.equal(((orgs[0] as Json)["actual"] as Json)["total"], String(6 * USD), JSON.stringify(orgs[0]));
          assert.ok(((orgs[0] as Json)["members"] as Json[]).length >= 1, JSON.stringify(orgs[0]));
        }
      }
    });
  });
}
