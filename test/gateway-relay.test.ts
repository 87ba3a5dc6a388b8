// A single (non-streaming) answer from an HTTP upstream leaves the gateway as the bytes it arrived
// in when metering leaves it unchanged (no parse-and-stringify round trip: the formatting, the
// escapes and the key order are the provider's), and re-serialized only when the gateway must add
// `usage.speed` the provider left out. Either way the usage is charged.

import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { backends } from "./support/backends.js";
import { createOrg, grant, startHarness, USD, type Harness } from "./support/harness.js";

/** The provider's answer, formatted as no JSON.stringify would write it. */
const AS_SENT = `{
  "id": "msg_relay_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
  "content": [ { "type": "text", "text": "caf\\u00e9 \\/ 1.0" } ],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": { "input_tokens": 12, "output_tokens": 30, "speed": "standard", "service_tier": "standard" },
  "ratio": 1.0
}
`;
const WITHOUT_SPEED = AS_SENT.replace(`, "speed": "standard"`, "");

for (const backend of backends()) {
  describe(`gateway relays single answers on ${backend.name}`, () => {
    let h: Harness;
    let upstream: http.Server;
    let answer = AS_SENT;
    before(async () => {
      upstream = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(answer));
      });
      await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
      h = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_UPSTREAM: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` });
    });
    after(async () => {
      await h.close();
      upstream.closeAllConnections();
      await new Promise((r) => upstream.close(r));
      await backend.cleanup();
    });

    async function ask(key: string): Promise<{ status: number; text: string }> {
      const res = await fetch(`${h.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 64, messages: [{ role: "user", content: "Hi" }] }),
      });
      return { status: res.status, text: await res.text() };
    }

    test("an answer the gateway leaves unchanged arrives byte for byte, and is charged", async () => {
      const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, org.orgId, { amount: String(10 * USD) });
      answer = AS_SENT;
      const r = await ask(org.ownerKey);
      assert.equal(r.status, 200);
      assert.equal(r.text, AS_SENT);
      const usage = await h.request("GET", `/v1/organizations/${org.orgId}/usage`, { key: org.ownerKey });
      assert.equal(usage.status, 200);
      // The reported usage, not the hold's worst case: 12 input × $1/MTok + 30 output × $5/MTok.
      assert.equal(usage.body["total_cost"], "162");
    });

    test("an answer without usage.speed gets it (standard) and is otherwise the provider's", async () => {
      const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, org.orgId, { amount: String(10 * USD) });
      answer = WITHOUT_SPEED;
      const r = await ask(org.ownerKey);
      assert.equal(r.status, 200);
      const expected = JSON.parse(WITHOUT_SPEED) as { usage: Record<string, unknown> };
      expected.usage["speed"] = "standard";
      assert.deepEqual(JSON.parse(r.text), expected);
    });
  });
}
