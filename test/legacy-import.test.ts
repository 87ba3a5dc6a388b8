// The legacy ("extra usage") importer against the real databases: a generated export of 200
// accounts imports with zero differences in the reconciliation (read back from the database),
// the ledger verifies, a re-run changes nothing, a dry run writes nothing, changed data is a
// conflict; malformed rows reject exactly their accounts with line numbers and reasons; carried
// spend blocks the monthly limit exactly as before. (100,000 accounts: npm run bench:import.)

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { LegacyImporter, type ImportReport } from "../src/app/legacy-import.js";
import { accountRecords, csvHeader, formatRecords, generateLegacyExport } from "../bench/legacy-export.js";
import { backends } from "./support/backends.js";
import { startHarness, T0, USD, verifyLedger, type Harness } from "./support/harness.js";

const enc = new TextEncoder();
const bytesOf = (lines: readonly string[]) => enc.encode(`${lines.join("\n")}\n`);

for (const backend of backends()) {
  describe(`legacy import (${backend.name})`, () => {
    let h: Harness;
    let importer: LegacyImporter;
    const run = (lines: readonly string[], opts: { dryRun?: boolean; format?: "jsonl" | "csv" } = {}): Promise<ImportReport> =>
      importer.run({ file: "test", bytes: bytesOf(lines), format: opts.format ?? "jsonl", dryRun: opts.dryRun ?? false });
    const counts = () =>
      h.app.services.store.read(async (tx) => ({ orgs: (await tx.listOrgs(500, 0)).length, ledger: (await tx.ledgerAggregates()).transactionCount }));

    before(async () => {
      h = await startHarness(await backend.createDatabase());
      const s = h.app.services;
      importer = new LegacyImporter(s.store, s.admin, s.catalog, s.clock);
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    test("200 accounts: dry run writes nothing; import reconciles to zero differences; a re-run changes nothing", async () => {
      const lines = generateLegacyExport({ accounts: 200, now: T0, format: "jsonl", idPrefix: "gen" });
      const start = await counts();
      const dry = await run(lines, { dryRun: true });
      assert.equal(dry.imported, 200);
      assert.deepEqual(await counts(), start, "a dry run writes nothing");

      const r = await run(lines);
      assert.deepEqual([r.imported, r.unchanged, r.rejected, r.conflicts, r.failed, r.differences], [200, 0, 0, 0, 0, 0], JSON.stringify(r.errors));
      const one = r.details.find((d) => d.legacy_id === "gen_000000");
      assert.ok(one?.fields?.some((f) => f.field === "balance" && f.old === f.new && f.new !== null), "balances compared field by field");
      assert.ok((one?.fields?.length ?? 0) >= 8);
      assert.equal((await verifyLedger(h)).ok, true);
      const afterImport = await counts();
      assert.equal(afterImport.orgs, start.orgs + 200);

      const again = await run(lines);
      assert.deepEqual([again.imported, again.unchanged, again.differences], [0, 200, 0]);
      assert.deepEqual(await counts(), afterImport, "a re-run changes nothing");

      // The same account with other data is a conflict, never a silent change.
      const changed = lines.map((l) => (l.includes('"type":"account","id":"gen_000003"') ? l.replace(/"name":"[^"]*"/, '"name":"Renamed"') : l));
      const conflict = await run(changed);
      assert.equal(conflict.conflicts, 1);
      assert.equal(conflict.errors[0]?.accountId, "gen_000003");
      assert.deepEqual(await counts(), afterImport);
    });

    test("CSV export imports with zero differences", async () => {
      const lines = generateLegacyExport({ accounts: 20, now: T0, format: "csv", idPrefix: "csv", seed: 7 });
      const r = await run(lines, { format: "csv" });
      assert.deepEqual([r.imported, r.rejected, r.differences], [20, 0, 0], JSON.stringify(r.errors));
    });

    test("malformed rows reject exactly their accounts, with line numbers and reasons; the others import", async () => {
      const rand = () => 0.42;
      const recs = Array.from({ length: 8 }, (_, i) => accountRecords(i, { accounts: 8, now: T0, format: "jsonl", idPrefix: "bad" }, rand));
      const lines: string[] = [];
      const expect: Array<{ account: string; reason: RegExp; line?: number }> = [];
      const at = (account: string, reason: RegExp) => expect.push({ account, reason, line: lines.length });
      recs.forEach((rs, i) => {
        const id = `bad_${String(i).padStart(6, "0")}`;
        for (const r of rs) {
          const rec = { ...r };
          if (i === 1 && rec["type"] === "lot") rec["remaining"] = "12.3.4";
          if (i === 2 && rec["type"] === "limit") rec["currency"] = "EUR";
          if (i === 3 && rec["type"] === "account") rec["balance"] = "-5.00";
          if (i === 6 && rec["type"] === "lot") rec["amount"] = 12.5 as unknown as string;
          lines.push(...formatRecords([rec], "jsonl"));
          if (i === 1 && rec["type"] === "lot") at(id, /remaining is not an amount/);
          if (i === 2 && rec["type"] === "limit") at(id, /unknown currency "EUR"/);
          if (i === 3 && rec["type"] === "account") at(id, /balance is negative/);
          if (i === 6 && rec["type"] === "lot") at(id, /amount must be a decimal string/);
        }
        if (i === 4) {
          lines.push(JSON.stringify(rs[0]));
          at(id, /duplicate account id "bad_000004" \(first on line \d+\)/);
        }
      });
      // Account 5: a member row whose name is not valid UTF-8.
      const memberLine = lines.findIndex((l) => l.includes('"type":"member","account_id":"bad_000005"'));
      expect.push({ account: "bad_000005", reason: /invalid UTF-8/, line: memberLine + 1 });
      const chunks = lines.map((l, i) => (i === memberLine ? Buffer.concat([Buffer.from(l.replace('"name":"', '"name":"\u0001').split("\u0001")[0] ?? ""), Buffer.from([0xc3, 0x28]), Buffer.from(l.split('"name":"')[1] ?? "")]) : Buffer.from(l)));
      const bytes = Buffer.concat(chunks.flatMap((c) => [c, Buffer.from("\n")]));

      const start = await counts();
      const r = await importer.run({ file: "bad.jsonl", bytes, format: "jsonl", dryRun: false });
      assert.equal(r.rejected, 6, JSON.stringify(r.errors, null, 1));
      assert.equal(r.imported, 2);
      assert.equal(r.differences, 0);
      for (const e of expect) {
        const found = r.errors.find((x) => x.accountId === e.account && x.line === e.line);
        assert.ok(found, `an error for ${e.account} on line ${e.line}: ${JSON.stringify(r.errors)}`);
        assert.match(found.reason, e.reason);
      }
      assert.deepEqual(r.details.filter((d) => d.outcome === "imported").map((d) => d.legacy_id).sort(), ["bad_000000", "bad_000007"]);
      const end = await counts();
      assert.equal(end.orgs, start.orgs + 2, "rejected accounts are untouched");
      const recorded = await h.app.services.store.read((tx) => tx.legacyImport.findImports(["bad_000001", "bad_000002", "bad_000003", "bad_000004", "bad_000005", "bad_000006"]));
      assert.deepEqual(recorded, []);
      assert.equal((await verifyLedger(h)).ok, true);
    });

    test("carried spend and limit block exactly as before; lots keep purchase dates and expiries", async () => {
      const id = "limit_acct";
      const lines = [
        { type: "account", id, name: "Limited", plan: "enterprise_usage", currency: "USD", balance: "80.000001", extra_usage_enabled: true, created_at: "2025-01-01T00:00:00Z" },
        { type: "member", account_id: id, id: "m1", email: "o@limited.test", name: "O", role: "owner", extra_usage_enabled: true },
        { type: "lot", account_id: id, id: "l1", amount: "100", remaining: "50.000001", currency: "USD", purchased_at: "2026-01-15T00:00:00Z", expires_at: "2027-01-15T00:00:00Z" },
        { type: "lot", account_id: id, id: "l2", amount: "30", remaining: "30", currency: "USD", purchased_at: "2026-02-01T00:00:00Z", expires_at: null },
        { type: "limit", account_id: id, monthly_limit: "100", currency: "USD" },
        { type: "period_spend", account_id: id, period: "2026-03", spent: "90", currency: "USD" },
        { type: "hold", account_id: id, id: "h1", amount: "1", currency: "USD" },
      ].map((r) => JSON.stringify(r));
      const r = await run(lines);
      assert.deepEqual([r.imported, r.differences], [1, 0], JSON.stringify(r.errors));
      const orgId = r.details[0]?.org_id ?? "";
      const s = h.app.services;
      const grants = await s.store.read((tx) => tx.listGrants(orgId));
      assert.deepEqual(
        grants.map((g) => [g.kind, g.remaining, new Date(g.createdAt).toISOString(), g.expiresAt === null ? null : new Date(g.expiresAt).toISOString()]),
        [["migrated", 50_000_001, "2026-01-15T00:00:00.000Z", "2027-01-15T00:00:00.000Z"], ["migrated", 30 * USD, "2026-02-01T00:00:00.000Z", null]],
      );
      const owner = (await s.store.read((tx) => tx.listMembers(orgId)))[0];
      assert.ok(owner);
      const key = await s.admin.createApiKey(orgId, { memberId: owner.id, name: "k", surface: "interactive" });
      assert.equal(key.kind, "fresh");
      const secret = key.kind === "fresh" && key.result.ok ? key.result.value.secret : "";
      const authorize = (amount: number) => h.request("POST", `/v1/organizations/${orgId}/authorize`, { key: secret, body: { model: "claude-sonnet-4-5", amount: String(amount) } });
      const over = await authorize(10 * USD + 1);
      assert.equal((over.body["error"] as Record<string, unknown> | undefined)?.["code"], "spend_limit_reached", JSON.stringify(over.body));
      const fits = await authorize(10 * USD);
      assert.equal(fits.status, 201, JSON.stringify(fits.body));
      const status = (await h.request("GET", `/v1/organizations/${orgId}/usage_credits`, { key: secret })).body;
      assert.deepEqual([status["balance"], status["monthly_limit"], status["used_this_month"]], ["70000001", String(100 * USD), String(90 * USD)], "the $10 hold is out of the balance, not yet spent");
      assert.equal((await verifyLedger(h)).ok, true);
    });

    test("the CSV flavour rejects a bad header and reports it", async () => {
      const r = await run(["type,account,bogus", ...formatRecords([], "csv")], { format: "csv" });
      assert.match(r.errors[0]?.reason ?? "", /CSV header/);
      assert.equal(r.errors[0]?.line, 1);
      assert.ok(csvHeader().startsWith("type,"));
    });
  });
}
