// Monthly statements over real HTTP, on SQLite and on PostgreSQL (issue 3, acceptance 6): a month of
// mixed activity — a purchase, an auto-reload, grants (promotional, adjustment, monthly SDK credit),
// usage on two models, two surfaces and two members, a void, an expiry, a hold carried over from
// the previous month — reconciles with the ledger and with the sum of its own lines, in JSON and CSV.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;

const CARD_OK = "4242424242424242";
const MAY = Date.parse("2026-05-01T00:00:00Z");

const isCustomer = (account: string) => account.startsWith("grant:") || account.startsWith("hold:") || account.startsWith("debt:");

function parseCsv(text: string): Array<Record<string, string>> {
  const [head, ...rows] = text.trimEnd().split("\r\n");
  const cols = (head ?? "").split(",");
  return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [cols[i] ?? `c${i}`, v])));
}

for (const backend of backends()) {
  describe(`statements on ${backend.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase());
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    const base = (orgId: string) => `/v1/organizations/${orgId}`;
    const ok = async (method: string, path: string, body?: unknown, key?: string): Promise<Json> => {
      const r = await h.request(method, path, { ...(body !== undefined ? { body } : {}), ...(key !== undefined ? { key } : {}) });
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const holdId = (r: Json) => String((r["hold"] as Json)["id"]);

    /** Every transaction of the org, oldest first, through the paged API. */
    const allTransactions = async (orgId: string): Promise<Json[]> => {
      const out: Json[] = [];
      let cursor: unknown = null;
      do {
        const r = await ok("GET", `${base(orgId)}/transactions?limit=50${cursor ? `&before=${encodeURIComponent(String(cursor))}` : ""}`);
        out.push(...(r["data"] as Json[]));
        cursor = r["next_cursor"];
      } while (cursor);
      return out.reverse();
    };
    const customerBalanceBefore = (txs: Json[], at: number) =>
      txs
        .filter((t) => Date.parse(String(t["created_at"])) < at)
        .flatMap((t) => t["entries"] as Json[])
        .filter((e) => isCustomer(String(e["account"])))
        .reduce((sum, e) => sum + Number(e["amount"]), 0);

    test("acceptance 6: a month of mixed activity reconciles with ledger verify and with the sum of its own lines; CSV totals equal JSON totals", async () => {
      const { orgId, ownerId, ownerKey } = await createOrg(h, { plan: "pro", usageCredits: true });
      const dev = await addMember(h, orgId, { role: "member" }, "sdk");

      // March: $30 of promotional credit, and a $2 fast-mode hold still pending at the month's end.
      await grant(h, orgId, { amount: String(30 * USD) });
      h.clock.set(Date.parse("2026-03-31T23:00:00Z"));
      const carried = await ok("POST", `${base(orgId)}/authorize`, { model: "claude-opus-4-5", amount: String(2 * USD), speed: "fast", ttl_seconds: 7200 }, ownerKey);

      // April: the March hold settles for $1 just after midnight (its usage belongs to April).
      h.clock.set(Date.parse("2026-04-01T00:30:00Z"));
      await ok("POST", `${base(orgId)}/holds/${holdId(carried)}/settle`, { amount: String(1 * USD) }, ownerKey);
      h.clock.set(Date.parse("2026-04-02T10:00:00Z"));
      const pm = String((await ok("POST", `${base(orgId)}/payment_methods`, { card_number: CARD_OK }, ownerKey))["id"]);
      const bought = await ok("POST", `${base(orgId)}/purchases`, { amount: String(20 * USD), payment_method_id: pm }, ownerKey);
      assert.equal(bought["status"], "succeeded");
      await grant(h, orgId, { amount: String(5 * USD), expires_at: "2026-04-10T00:00:00Z" });
      const adjustment = await grant(h, orgId, { kind: "adjustment", amount: String(3 * USD) });
      await ok("POST", `${base(orgId)}/grants/${String(adjustment["id"])}/void`);
      await ok("POST", `${base(orgId)}/members/${dev.memberId}/sdk_credits/claim`, undefined, dev.key); // +$20 monthly SDK credit

      // Usage: the developer's SDK traffic on Sonnet ($4, from the monthly credit); the owner's
      // interactive fast mode on Haiku ($1.50, usage credits); a plan-paid interactive request (no
      // money moves).
      await ok("POST", `${base(orgId)}/usage_events`, { event_id: "ev-sdk-1", model: "claude-sonnet-4-5", amount: String(4 * USD) }, dev.key);
      const fast = await ok("POST", `${base(orgId)}/authorize`, { model: "claude-haiku-4-5", amount: String(1.5 * USD), speed: "fast" }, ownerKey);
      await ok("POST", `${base(orgId)}/holds/${holdId(fast)}/settle`, { amount: String(1.5 * USD) }, ownerKey);
      await ok("POST", `${base(orgId)}/usage_events`, { event_id: "ev-plan-1", model: "claude-sonnet-4-5", amount: "250000" }, ownerKey);

      // An auto-reload: the balance is below the $60 threshold, so the next settle buys $10 blocks.
      await ok("PUT", `${base(orgId)}/auto_reload`, { enabled: true, threshold: String(60 * USD), mode: "amount", amount: String(10 * USD), payment_method_id: pm }, ownerKey);
      await ok("POST", `${base(orgId)}/usage_events`, { event_id: "ev-sdk-2", model: "claude-sonnet-4-5", amount: "500000" }, dev.key);
      await h.app.services.moneyIn.idle();
      const payments = (await ok("GET", `${base(orgId)}/purchases`))["data"] as Json[];
      const reloaded = payments.filter((p) => p["purpose"] === "auto_reload" && p["status"] === "succeeded").reduce((t, p) => t + Number(p["credit_amount"]), 0);
      assert.ok(reloaded > 0, `an auto-reload happened: ${JSON.stringify(payments)}`);

      // The $5 promotional grant expires on the 10th; the sweep moves its rest to breakage.
      h.clock.set(Date.parse("2026-04-11T00:00:00Z"));
      assert.equal(await h.app.runJobs(), true);

      // May 2nd (no jobs run since): April's statement.
      h.clock.set(Date.parse("2026-05-02T08:00:00Z"));
      const r = await h.request("GET", `${base(orgId)}/statements/2026-04`, { key: ownerKey });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const s = r.body;
      assert.equal(s["type"], "statement");
      assert.equal(s["month"], "2026-04");
      assert.equal(s["complete"], true);
      assert.equal(s["reconciled"], true);
      const lines = Object.fromEntries((s["lines"] as Json[]).map((l) => [String(l["category"]), Number(l["amount"])]));
      const opening = Number(s["opening_balance"]);
      const closing = Number(s["closing_balance"]);

      // Its own lines: closing − opening = Σ lines.
      assert.equal(Object.values(lines).reduce((t, v) => t + v, 0), closing - opening);
      // What each line says.
      assert.equal(opening, 30 * USD, "March: $30 granted, $2 of it held");
      assert.deepEqual(s["opening"], { grants: String(28 * USD), held: String(2 * USD), debt: "0" });
      assert.equal(lines["purchases"], 20 * USD);
      assert.equal(lines["reloads"], reloaded);
      assert.equal(lines["grants"], 28 * USD, "promotional $5 + adjustment $3 + monthly SDK credit $20");
      assert.deepEqual(s["grants_by_kind"], { promotional: String(5 * USD), adjustment: String(3 * USD), monthly: String(20 * USD) });
      assert.equal(lines["voids"], -3 * USD);
      assert.equal(lines["usage"], -(4 + 1.5 + 1 + 0.5) * USD);
      assert.equal(lines["expiries"], -3.5 * USD, "the $5 grant burnt first ($1.50 of fast mode), $3.50 expired");
      assert.equal(lines["other"], 0);

      // The ledger: closing equals the customer-side ledger balance at the month's end, computed here
      // from /transactions, and the live balances (nothing has moved since).
      const txs = await allTransactions(orgId);
      assert.equal(customerBalanceBefore(txs, MAY), closing);
      assert.equal(Number(s["ledger_balance"]), closing);
      assert.equal(customerBalanceBefore(txs, Date.parse("2026-04-01T00:00:00Z")), opening);
      const liveGrants = ((await ok("GET", `${base(orgId)}/grants`))["data"] as Json[]).reduce((t, g) => t + Number(g["remaining"]), 0);
      assert.deepEqual(s["closing"], { grants: String(liveGrants), held: "0", debt: "0" });

      // Usage by model, surface and member: two of each, adding up to the usage line.
      const usage = s["usage"] as Json;
      assert.equal(Number(usage["total"]), -lines["usage"]);
      assert.deepEqual((usage["by_model"] as Json[]).map((u) => [u["model"], u["amount"]]), [
        ["claude-haiku-4-5", String(1.5 * USD)],
        ["claude-opus-4-5", String(1 * USD)],
        ["claude-sonnet-4-5", String(4.5 * USD)],
      ]);
      assert.deepEqual(
        (usage["by_surface"] as Json[]).map((u) => [u["surface"], u["amount"]]),
        [
          ["interactive", String(2.5 * USD)],
          ["sdk", String(4.5 * USD)],
        ],
      );
      const byMember = Object.fromEntries((usage["by_member"] as Json[]).map((u) => [String(u["member_id"]), [u["requests"], u["amount"]]]));
      assert.deepEqual(byMember, { [ownerId]: [2, String(2.5 * USD)], [dev.memberId]: [2, String(4.5 * USD)] });
      const devRow = (usage["rows"] as Json[]).find((u) => u["member_id"] === dev.memberId);
      assert.equal(devRow?.["included_credits"], String(4.5 * USD), "paid by the monthly SDK credit");
      assert.equal(usage["plan_value"], "250000", "plan-paid usage is reported, not counted as money");

      // CSV: the same totals.
      const csvRes = await fetch(`${h.url}${base(orgId)}/statements/2026-04?format=csv`, { headers: { "x-api-key": ownerKey } });
      assert.equal(csvRes.status, 200);
      assert.match(csvRes.headers.get("content-type") ?? "", /^text\/csv/);
      const csv = await csvRes.text();
      const rows = parseCsv(csv);
      const lineRows = rows.filter((x) => x["section"] === "line");
      assert.deepEqual(
        lineRows.map((x) => [x["category"], Number(x["amount_micros"])]),
        (s["lines"] as Json[]).map((l) => [l["category"], Number(l["amount"])]),
      );
      const one = (section: string, category: string) => Number(rows.find((x) => x["section"] === section && x["category"] === category)?.["amount_micros"]);
      assert.equal(one("opening", "opening_balance"), opening);
      assert.equal(one("closing", "closing_balance"), closing);
      assert.equal(one("ledger", "ledger_balance"), closing);
      assert.equal(lineRows.reduce((t, x) => t + Number(x["amount_micros"]), 0), closing - opening);
      assert.equal(rows.filter((x) => x["section"] === "usage").reduce((t, x) => t + Number(x["amount_micros"]), 0), lines["usage"]);
      assert.equal(rows.find((x) => x["category"] === "purchases")?.["amount_usd"], "20");
      // Accept: text/csv and the .csv suffix give the same document.
      const viaAccept = await fetch(`${h.url}${base(orgId)}/statements/2026-04`, { headers: { "x-api-key": ownerKey, accept: "text/csv" } });
      assert.equal(await viaAccept.text(), csv);
      const viaSuffix = await fetch(`${h.url}${base(orgId)}/statements/2026-04.csv`, { headers: { "x-api-key": ownerKey } });
      assert.equal(await viaSuffix.text(), csv);

      // Months chain: March's closing is April's opening; the ledger verifies.
      const march = await ok("GET", `${base(orgId)}/statements/2026-03`);
      assert.equal(march["reconciled"], true);
      assert.equal(Number(march["closing_balance"]), opening);
      const v = await verifyLedger(h);
      assert.deepEqual(v.violations, []);
      assert.equal(v.ok, true);
    });

    test("the running month covers up to now; bad and future months are refused; another org's statement is not found", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(7 * USD) });
      const running = await ok("GET", `${base(orgId)}/statements/2026-05`, undefined, ownerKey);
      assert.equal(running["complete"], false);
      assert.equal(running["reconciled"], true);
      assert.equal(running["closing_balance"], String(7 * USD));
      for (const month of ["2026-13", "26-05", "2026-5", "1999-12"]) {
        const bad = await h.request("GET", `${base(orgId)}/statements/${month}`, { key: ownerKey });
        assert.equal(bad.status, 400, month);
        assert.equal((bad.body["error"] as Json)["code"], "invalid_request");
      }
      const future = await h.request("GET", `${base(orgId)}/statements/2026-06`, { key: ownerKey });
      assert.equal(future.status, 400);
      const other = await createOrg(h, { plan: "pro" });
      assert.equal((await h.request("GET", `${base(orgId)}/statements/2026-05`, { key: other.ownerKey })).status, 404);
      assert.equal((await h.request("GET", `${base(orgId)}/statements/2026-05?format=xml`, { key: ownerKey })).status, 400);
    });
  });
}
