// Receipts and statement PDFs over real HTTP, on SQLite and on PostgreSQL (issue 15, acceptance 4):
// succeeded payments get gapless receipt numbers with the configured seller's details; a declined
// payment has none. The receipt PDF and the statement PDF are opened by an independent reader
// (pdf.js) and the totals read from them equal the ledger's: the grant each receipt paid for, the
// statement's own JSON, the customer-side ledger balance, and the live balance.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { formatUsd } from "../src/core/money.js";
import { backends } from "./support/backends.js";
import { createOrg, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";
import { amountAfter, pdfLines, printedAfter } from "./support/pdf-text.js";

type Json = Record<string, unknown>;

const SELLER = {
  USAGE_CREDITS_SELLER_NAME: "Example Compute GmbH",
  USAGE_CREDITS_SELLER_ADDRESS: "Hauptstrasse 1 | 10115 Berlin | Germany",
  USAGE_CREDITS_SELLER_EMAIL: "billing@example.test",
  USAGE_CREDITS_SELLER_TAX_ID: "DE123456789",
  USAGE_CREDITS_RECEIPT_PREFIX: "EC-",
};

for (const backend of backends()) {
  describe(`receipts and statement PDFs on ${backend.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase(), SELLER);
    });
    after(async () => {
      const v = await verifyLedger(h);
      assert.deepEqual(v.violations, []);
      await h.close();
      await backend.cleanup();
    });

    const ok = async (method: string, path: string, body?: unknown): Promise<Json> => {
      const r = await h.request(method, path, body !== undefined ? { body } : {});
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const pdf = async (path: string): Promise<{ bytes: Uint8Array; type: string | null; disposition: string | null }> => {
      const res = await fetch(`${h.url}${path}`, { headers: { "x-api-key": h.platformKey } });
      assert.equal(res.status, 200, `${path}: ${res.status} ${await res.clone().text()}`);
      return { bytes: new Uint8Array(await res.arrayBuffer()), type: res.headers.get("content-type"), disposition: res.headers.get("content-disposition") };
    };

    test("succeeded payments get gapless numbered receipts (JSON and PDF) whose totals are the ledger's; a declined one has none", async () => {
      const a = await createOrg(h, { plan: "pro", usageCredits: true });
      const b = await createOrg(h, { plan: "pro", usageCredits: true });
      const base = (o: string) => `/v1/organizations/${o}`;
      const card = async (o: string, n: string) => String((await ok("POST", `${base(o)}/payment_methods`, { card_number: n }))["id"]);
      const pmA = await card(a.orgId, "4242424242424242");
      const pmB = await card(b.orgId, "4242424242424242");
      const declined = await card(a.orgId, "4000000000000002");
      const p1 = await ok("POST", `${base(a.orgId)}/purchases`, { amount: String(35 * USD), payment_method_id: pmA });
      h.clock.advance(1000);
      const refused = await h.request("POST", `${base(a.orgId)}/purchases`, { body: { amount: String(20 * USD), payment_method_id: declined } });
      assert.equal(refused.status, 402);
      h.clock.advance(1000);
      const p2 = await ok("POST", `${base(b.orgId)}/purchases`, { amount: String(12.5 * USD), payment_method_id: pmB });
      h.clock.advance(1000);
      const p3 = await ok("POST", `${base(a.orgId)}/purchases`, { bundle_id: "bundle_500", payment_method_id: pmA });

      const receipt = (o: string, p: Json) => ok("GET", `${base(o)}/purchases/${String(p["id"])}/receipt`);
      const [r1, r2, r3] = [await receipt(a.orgId, p1), await receipt(b.orgId, p2), await receipt(a.orgId, p3)];
      // One sequence per seller, in the order payments succeeded, across organizations.
      assert.deepEqual([r1["number"], r2["number"], r3["number"]], ["EC-000001", "EC-000002", "EC-000003"]);
      assert.deepEqual(r1["seller"], { name: "Example Compute GmbH", address: ["Hauptstrasse 1", "10115 Berlin", "Germany"], email: "billing@example.test", tax_id: "DE123456789" });
      assert.equal(r3["amount"], String(450 * USD));
      assert.equal(r3["credit_amount"], String(500 * USD));
      assert.equal(r3["discount"], String(50 * USD));

      // The declined payment has no receipt; another organization's payment does not exist here.
      const declinedId = String(((refused.body["error"] as Json)["details"] as Json)["payment_id"]);
      const none = await h.request("GET", `${base(a.orgId)}/purchases/${declinedId}/receipt`);
      assert.equal(none.status, 409);
      assert.match(String((none.body["error"] as Json)["message"]), /no receipt: it failed \(card_declined\)/);
      assert.equal((await h.request("GET", `${base(a.orgId)}/purchases/${String(p2["id"])}/receipt`)).status, 404);

      // The PDF, read back by pdf.js: seller, customer, number, and totals equal to the grant in the ledger.
      const grants = (await ok("GET", `${base(a.orgId)}/grants`))["data"] as Json[];
      for (const [p, r] of [[p1, r1], [p3, r3]] as const) {
        const file = await pdf(`${base(a.orgId)}/purchases/${String(p["id"])}/receipt?format=pdf`);
        assert.equal(file.type, "application/pdf");
        assert.match(file.disposition ?? "", new RegExp(`attachment; filename="receipt-${String(r["number"])}\\.pdf"`));
        const { lines, title, pages } = await pdfLines(file.bytes);
        assert.equal(pages, 1);
        assert.equal(title, `Receipt ${String(r["number"])}`);
        for (const expected of [`Receipt ${String(r["number"])}`, "Example Compute GmbH", "Hauptstrasse 1", "10115 Berlin", "Tax ID: DE123456789", "Acme"]) {
          assert.ok(lines.includes(expected), `${expected} in:\n${lines.join("\n")}`);
        }
        const grant = grants.find((g) => g["id"] === p["grant_id"]);
        assert.ok(grant, "the payment's grant is in the ledger");
        assert.equal(amountAfter(lines, "Total paid (USD)"), BigInt(String(p["amount"])), "total paid = the payment's charge");
        assert.equal(amountAfter(lines, "Usage credits purchase"), BigInt(String(grant["amount"])), "credits on the receipt = the grant in the ledger");
      }
      const bundleLines = (await pdfLines((await pdf(`${base(a.orgId)}/purchases/${String(p3["id"])}/receipt`.concat("?format=pdf"))).bytes)).lines;
      assert.equal(amountAfter(bundleLines, "Bundle discount"), -50n * BigInt(USD));
    });

    test("the month's statement PDF, read back, adds up and its closing balance is the ledger's and the live balance", async () => {
      const o = await createOrg(h, { plan: "pro", usageCredits: true });
      const base = `/v1/organizations/${o.orgId}`;
      const pm = String((await ok("POST", `${base}/payment_methods`, { card_number: "4242424242424242" }))["id"]);
      await ok("POST", `${base}/purchases`, { amount: String(40 * USD), payment_method_id: pm });
      await ok("POST", `${base}/grants`, { amount: String(5 * USD), kind: "promotional", description: "welcome" });
      // Usage past the plan, paid with usage credits (fast mode is billed to credits from the first token).
      await ok("POST", `${base}/usage_events`, { member_id: o.ownerId, event_id: "pdf-1", model: "claude-opus-4-6", speed: "fast", usage: { input_tokens: 10_000, output_tokens: 2_000 } });
      const month = new Date(h.clock.now()).toISOString().slice(0, 7);
      const json = await ok("GET", `${base}/statements/${month}`);
      assert.equal(json["reconciled"], true);
      const live = BigInt(String(((await ok("GET", `${base}/usage_summary?member_id=${o.ownerId}`))["usage_credits"] as Json)["balance"]));

      for (const path of [`${base}/statements/${month}.pdf`, `${base}/statements/${month}?format=pdf`]) {
        const file = await pdf(path);
        assert.equal(file.type, "application/pdf");
        const { lines, title } = await pdfLines(file.bytes);
        assert.equal(title, `Statement ${month}`);
        assert.ok(lines.includes("Example Compute GmbH"));
        // Each printed figure is the statement's own (rounded to the cent for print, by formatUsd)…
        assert.equal(printedAfter(lines, "Opening balance"), formatUsd(Number(json["opening_balance"])));
        assert.equal(printedAfter(lines, "Closing balance"), formatUsd(Number(json["closing_balance"])));
        for (const l of json["lines"] as Json[]) assert.equal(printedAfter(lines, lineLabel(String(l["category"]), Number(l["transactions"]))), formatUsd(Number(l["amount"])));
        const usageLine = BigInt(String(((json["lines"] as Json[]).find((l) => l["category"] === "usage") ?? {})["amount"] ?? "0"));
        assert.ok(usageLine < 0n, "usage was paid from the balance");
        assert.equal(printedAfter(lines, "Usage total"), formatUsd(Number(-usageLine)), "the usage breakdown adds up to the usage line");
        // …and those figures are the ledger's: opening + lines = closing = the ledger balance = the live balance.
        const sum = (json["lines"] as Json[]).reduce((s, l) => s + BigInt(String(l["amount"])), BigInt(String(json["opening_balance"])));
        assert.equal(sum, BigInt(String(json["closing_balance"])));
        assert.equal(BigInt(String(json["closing_balance"])), BigInt(String(json["ledger_balance"])), "the closing balance is the ledger's");
        assert.equal(BigInt(String(json["closing_balance"])), live, "and the live balance (nothing held)");
        assert.ok(lines.some((l) => l.startsWith("Reconciled with the ledger: ledger balance " + formatUsd(Number(json["ledger_balance"])))));
      }
      const bad = await h.request("GET", `${base}/statements/2026-13.pdf`);
      assert.equal(bad.status, 400);
    });
  });
}

const LABELS: Record<string, string> = {
  purchases: "Purchases",
  reloads: "Auto-reloads",
  grants: "Grants (promotional, monthly SDK credits, adjustments)",
  usage: "Usage paid with usage credits",
  expiries: "Expired credits",
  voids: "Voided credits",
  other: "Other",
};
const lineLabel = (category: string, count: number): string => `${LABELS[category] ?? category} (${count} transactions)`;
