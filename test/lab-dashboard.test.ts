// The pricing lab's page (issue 18, acceptance 4) in a real browser: Debian's Chromium driven by
// playwright-core against a real server (SQLite file, loopback HTTP). A month of mixed usage is
// recorded through the API (fast and standard requests, plan windows and usage credits, one
// organization that runs short of credits), then the operator compares the book in force (A) with
// the same book with fast mode doubled (B, uploaded as a file): every amount, count and histogram
// bin on the page must equal the figures of POST /v1/lab/replays for the same two bodies, asked
// again by the test. A replay the API refuses shows the API's message; the page works at 390 px;
// an organization's owner has no way in (no link, 403 from the API, the operator sign-in instead).

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { chromium, type Browser, type Page, type Route } from "playwright-core";
import { formatUsd } from "../src/core/money.js";
import { sqliteBackend } from "./support/backends.js";
import { CHROMIUM, CHROMIUM_ARGS, CLEAR_READY, DESKTOP, OVERFLOW, PHONE, RENDER_DOCS, shotsDir, UNLABELLED, Watch } from "./support/browser.js";
import { setPassword } from "./support/dashboard.js";
import { createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;
const SHOTS = shotsDir();
const PASSWORD = "lab test password";
const PERIOD = "2026-03"; // the harness's clock starts on 2026-03-02; the test moves it into April
const SPEND = ["plan_window", "sdk_credits", "usage_credits", "total", "revenue", "breakage"] as const;

const usd = (micros: unknown): string => formatUsd(Number(micros));
const signed = (micros: bigint): string => (micros > 0n ? `+${usd(micros)}` : usd(micros));
const countText = (n: number): string => n.toLocaleString("en-US");

/** An exact decimal string times two ("6" → "12", "1.5" → "3.0"). */
function doubled(decimal: string): string {
  const [whole = "0", frac = ""] = decimal.split(".");
  const scaled = (BigInt(whole + frac) * 2n).toString().padStart(frac.length + 1, "0");
  return frac ? `${scaled.slice(0, -frac.length)}.${scaled.slice(-frac.length)}` : scaled;
}

describe("pricing lab in Chromium", () => {
  const backend = sqliteBackend();
  let h: Harness;
  let browser: Browser;
  const watch = new Watch();
  const orgs: Array<{ orgId: string; ownerId: string; ownerKey: string; name: string }> = [];
  let inForce: Json;
  let fastDoubled: Json;
  /** Usage records the month holds: the accepted events (a refused one records nothing). */
  let recorded = 0;

  before(async () => {
    h = await startHarness(await backend.createDatabase());
    const event = async (o: { orgId: string; ownerKey: string }, id: string, body: Json): Promise<void> => {
      const r = await h.request("POST", `/v1/organizations/${o.orgId}/usage_events`, { key: o.ownerKey, body: { event_id: id, ...body } });
      // A refusal (e.g. credits run out) is part of the month's mixed activity.
      const code = String((r.body["error"] as Json | undefined)?.["code"] ?? "");
      assert.ok(r.status < 300 || /insufficient|limit|window|exhausted/.test(code), `${id}: ${r.status} ${JSON.stringify(r.body)}`);
      if (r.status < 300) recorded++;
    };
    // Four organizations, a month of mixed activity: fast and standard, plan windows and usage credits.
    const plans = [
      ["Lab Fast Movers", "enterprise_usage", 40],
      ["Lab Pro Windows", "pro", 0],
      ["Lab Steady Haiku", "enterprise_usage", 20],
      ["Lab Short Credits", "enterprise_usage", 2],
    ] as const;
    for (const [name, plan, credits] of plans) {
      const o = await createOrg(h, { plan, usageCredits: true, fastMode: true });
      assert.equal((await h.request("PATCH", `/v1/organizations/${o.orgId}`, { body: { name } })).status, 200);
      if (credits > 0) await grant(h, o.orgId, { amount: String(credits * USD) });
      orgs.push({ ...o, name });
    }
    const [fast, pro, steady, short] = orgs as [(typeof orgs)[0], (typeof orgs)[0], (typeof orgs)[0], (typeof orgs)[0]];
    for (let day = 0; day < 6; day++) {
      await event(fast, `fast-${day}`, { model: "claude-opus-4-6", speed: "fast", usage: { input_tokens: 20_000 + day * 1_000, output_tokens: 4_000 } });
      await event(fast, `std-${day}`, { model: "claude-sonnet-4-6", usage: { input_tokens: 50_000, output_tokens: 2_000 } });
      await event(pro, `pro-${day}`, { model: "claude-sonnet-4-6", speed: day % 2 === 0 ? "fast" : "standard", usage: { input_tokens: 30_000, output_tokens: 3_000 } });
      await event(pro, `pro-${day}-b`, { model: "claude-sonnet-4-6", usage: { input_tokens: 30_000, output_tokens: 3_000 } });
      await event(steady, `haiku-${day}`, { model: "claude-haiku-4-5", usage: { input_tokens: 100_000, output_tokens: 10_000 } });
      await event(short, `short-${day}`, { model: "claude-opus-4-6", speed: day < 2 ? "fast" : "standard", usage: { input_tokens: 10_000, output_tokens: 2_000 } });
      h.clock.advance(86_400_000 + 3_600_000);
    }
    await event(steady, "amount-1", { model: "claude-haiku-4-5", amount: "12345" });
    // Into April: March is a closed month.
    h.clock.advance(31 * 86_400_000);

    const books = (await h.request("GET", "/v1/price_books")).body["data"] as Json[];
    const now = h.clock.now();
    inForce = books.filter((b) => Date.parse(String(b["effective_from"])) <= now).at(-1) ?? {};
    const modifiers = inForce["modifiers"] as Record<string, Json>;
    fastDoubled = {
      ...inForce,
      models: (inForce["models"] as Json[]).map((m) => (typeof m["fast_factor"] === "string" ? { ...m, fast_factor: doubled(m["fast_factor"]) } : m)),
      modifiers: { ...modifiers, fast: { ...modifiers["fast"], factor: doubled(String(modifiers["fast"]?.["factor"])) } },
    };
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterEach(() => watch.check());
  after(async () => {
    await browser?.close();
    if (!RENDER_DOCS) rmSync(SHOTS, { recursive: true, force: true });
    const v = await verifyLedger(h);
    assert.deepEqual(v.violations, [], "the lab wrote nothing that breaks the ledger");
    await h.close();
    await backend.cleanup();
  });

  const text = async (page: Page, testid: string): Promise<string> => ((await page.getByTestId(testid).first().textContent()) ?? "").trim();
  const replay = async (body: Json): Promise<Json> => {
    const r = await h.request("POST", "/v1/lab/replays", { body });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const signInOperator = async (page: Page): Promise<void> => {
    await page.goto(`${h.url}/dashboard/#/operator`);
    await page.waitForSelector('body[data-ready="operator-signin"]');
    await page.getByLabel("Platform key").fill(h.platformKey);
    await page.getByRole("button", { name: "Open the operator console" }).click();
    await page.waitForSelector('body[data-ready="operator-customers"]');
  };
  const compare = async (page: Page): Promise<void> => {
    await page.evaluate(CLEAR_READY);
    await page.getByRole("button", { name: "Compare books" }).click();
    await page.waitForSelector('body[data-ready="operator-lab"]');
  };

  /** Every figure on the page against the API's two replays. */
  const samePage = async (page: Page, a: Json, b: Json): Promise<void> => {
    const at = (r: Json, which: string, k: string): string => String((((r["totals"] as Json)[which] as Json) ?? {})[k]);
    assert.equal(await text(page, "lab-records"), countText(Number(a["records"])));
    assert.equal(await text(page, "lab-orgs"), countText((b["organizations"] as Json[]).length));
    assert.equal(await text(page, "lab-total-a"), usd(at(a, "replayed", "total")));
    assert.equal(await text(page, "lab-total-b"), usd(at(b, "replayed", "total")));
    assert.equal(await text(page, "lab-total-change"), signed(BigInt(at(b, "replayed", "total")) - BigInt(at(a, "replayed", "total"))));
    for (const k of SPEND) {
      assert.equal(await text(page, `total-${k}-actual`), usd(at(a, "actual", k)), `${k}: charged`);
      assert.equal(await text(page, `total-${k}-a`), usd(at(a, "replayed", k)), `${k}: book A`);
      assert.equal(await text(page, `total-${k}-b`), usd(at(b, "replayed", k)), `${k}: book B`);
      assert.equal(await text(page, `total-${k}-change`), signed(BigInt(at(b, "replayed", k)) - BigInt(at(a, "replayed", k))), `${k}: B − A`);
    }
    // Refusals by reason, summed over organizations.
    const refusals = (r: Json, which: "actual" | "replayed"): Map<string, number> => {
      const m = new Map<string, number>();
      for (const o of r["organizations"] as Json[]) for (const [code, n] of Object.entries(((o["refusals"] as Json)[which] as Record<string, number>) ?? {})) m.set(code, (m.get(code) ?? 0) + n);
      return m;
    };
    const codes = new Set([...refusals(a, "actual").keys(), ...refusals(a, "replayed").keys(), ...refusals(b, "actual").keys(), ...refusals(b, "replayed").keys()]);
    for (const code of codes) {
      assert.equal(await text(page, `refused-${code}-actual`), countText(refusals(a, "actual").get(code) ?? 0), `${code}: refused as charged`);
      assert.equal(await text(page, `refused-${code}-a`), countText(refusals(a, "replayed").get(code) ?? 0), `${code}: refused under A`);
      assert.equal(await text(page, `refused-${code}-b`), countText(refusals(b, "replayed").get(code) ?? 0), `${code}: refused under B`);
    }
    const runOut = (r: Json): number => (r["organizations"] as Json[]).reduce((n, o) => n + (o["windows_exhausted"] as unknown[]).length, 0);
    assert.equal(await text(page, "windows-a"), countText(runOut(a)));
    assert.equal(await text(page, "windows-b"), countText(runOut(b)));
    // Customers: the largest |B − A| first (ties by name), each figure the API's.
    const inA = new Map((a["organizations"] as Json[]).map((o) => [String(o["org_id"]), o]));
    const total = (o: Json | undefined, which: string): bigint => BigInt(String(((o?.[which] as Json) ?? {})["total"]));
    const rows = (b["organizations"] as Json[])
      .map((o) => ({ o, oa: inA.get(String(o["org_id"])), change: total(o, "replayed") - total(inA.get(String(o["org_id"])), "replayed") }))
      .sort((x, y) => {
        const ax = x.change < 0n ? -x.change : x.change;
        const ay = y.change < 0n ? -y.change : y.change;
        return ay !== ax ? (ay > ax ? 1 : -1) : String(x.o["name"]).localeCompare(String(y.o["name"])) || String(x.o["org_id"]).localeCompare(String(y.o["org_id"]));
      })
      .slice(0, 20);
    const shown = await page.getByTestId("lab-org").evaluateAll((els) => els.map((e) => e.getAttribute("data-org")));
    assert.deepEqual(shown, rows.map((r) => String(r.o["org_id"])), "the customers, largest change first");
    for (const { o, oa, change } of rows) {
      const id = String(o["org_id"]);
      assert.equal(await text(page, `org-actual-${id}`), usd(total(o, "actual")));
      assert.equal(await text(page, `org-a-${id}`), usd(total(oa, "replayed")));
      assert.equal(await text(page, `org-b-${id}`), usd(total(o, "replayed")));
      assert.equal(await text(page, `org-change-${id}`), signed(change));
      const bal = (x: Json | undefined): string => usd(((x?.["closing_balance"] as Json) ?? {})["replayed"]);
      assert.equal(await text(page, `org-balance-${id}`), `${bal(oa)} → ${bal(o)}`);
      const refused = (x: Json | undefined): number => Object.values(((x?.["refusals"] as Json)?.["replayed"] as Record<string, number>) ?? {}).reduce((n, v) => n + v, 0);
      assert.equal(await text(page, `org-refused-${id}`), `${countText(refused(oa))} → ${countText(refused(o))}`);
      // Each member's total under A and B (in the row's folded list).
      const membersA = new Map(((oa?.["members"] as Json[]) ?? []).map((m) => [String(m["member_id"]), m]));
      for (const m of o["members"] as Json[]) {
        const mid = String(m["member_id"]);
        assert.equal(await page.getByTestId(`member-${id}-${mid}`).evaluate((e) => (e.textContent ?? "").trim()), `${usd(total(membersA.get(mid), "replayed"))} → ${usd(total(m, "replayed"))}`);
      }
    }
    // Each histogram bin (the charts' table form).
    for (const [r, id] of [[a, "histogram-a"], [b, "histogram-b"]] as const) {
      const bins = r["histogram"] as Json[];
      assert.equal(await page.getByTestId(id).locator("tbody tr").count(), Math.max(1, bins.length));
      for (const [i, bin] of bins.entries()) {
        assert.equal(await text(page, `${id}-from-${i}`), usd(bin["from"]));
        assert.equal(await text(page, `${id}-to-${i}`), usd(bin["to"]));
        assert.equal(await text(page, `${id}-count-${i}`), countText(Number(bin["organizations"])));
      }
      assert.equal(await page.getByTestId(id).locator("svg rect").count(), bins.length, "one bar per bin");
    }
  };

  test("an operator compares the book in force with fast mode doubled: every figure on the page is the API's; scope, plans, a refused replay, 390 px", async () => {
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const page = watch.attach(await ctx.newPage());
    try {
      await signInOperator(page);
      await page.getByRole("navigation", { name: "Operator console" }).getByRole("link", { name: "Pricing lab" }).click();
      await page.waitForSelector('body[data-ready="operator-lab"]');
      assert.equal(await page.getByLabel("Period (month)").inputValue(), PERIOD, "last month by the server's clock");
      assert.equal(await page.getByLabel("Price book A", { exact: true }).inputValue(), "in_force");
      // Book B: the fast-doubled book, uploaded as a file.
      const upload = JSON.stringify(fastDoubled, null, 2);
      await page.getByLabel("Price book B", { exact: true }).selectOption("json");
      await page.getByLabel("Price book B: upload a JSON file").setInputFiles({ name: "fast-doubled.json", mimeType: "application/json", buffer: Buffer.from(upload) });
      await page.waitForFunction(`document.querySelector('textarea[name="price_book_b"]').value.length === ${upload.length}`);

      // Loading: the two requests held at the browser until the page says it is replaying, then sent on.
      const held: Route[] = [];
      await page.route("**/v1/lab/replays", (route) => void held.push(route));
      await page.evaluate(CLEAR_READY);
      await page.getByRole("button", { name: "Compare books" }).click();
      await page.getByRole("status").getByText(`Replaying ${PERIOD} under book A and book B…`).waitFor();
      assert.equal(await page.getByRole("button", { name: "Compare books" }).isDisabled(), true, "no second run while one is in flight");
      for (let waited = 0; held.length < 2; waited += 20) {
        assert.ok(waited < 15_000, `both replays asked for (${held.length} of 2)`);
        await page.waitForTimeout(20);
      }
      for (const r of held) await r.continue();
      await page.unroute("**/v1/lab/replays");
      await page.waitForSelector('body[data-ready="operator-lab"]');

      const a = await replay({ period: PERIOD });
      const b = await replay({ period: PERIOD, price_book: fastDoubled });
      assert.equal(a["records"], recorded, "every usage record of the month was replayed");
      assert.ok(recorded >= 20);
      for (const k of SPEND) assert.equal(String(((a["totals"] as Json)["difference"] as Json)[k]), "0", `the book in force reproduces ${k}`);
      assert.ok(BigInt(String(((b["totals"] as Json)["replayed"] as Json)["total"])) > BigInt(String(((a["totals"] as Json)["replayed"] as Json)["total"])), "fast mode doubled costs more");
      await samePage(page, a, b);
      const steady = orgs[2]?.orgId ?? "";
      assert.equal(await text(page, `org-change-${steady}`), "$0.00", "no fast usage, no change");

      for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
        await page.setViewportSize(viewport);
        const overflow = Number(await page.evaluate(OVERFLOW));
        assert.ok(overflow <= 0, `pricing lab at ${label} width overflows by ${overflow}px`);
        assert.deepEqual(await page.evaluate(UNLABELLED), [], "every control has a label");
        await page.screenshot({ path: join(SHOTS, `operator-lab-${label}.png`), fullPage: true });
      }
      await page.setViewportSize(DESKTOP);

      // Some organizations: the two chosen, replayed alone, each figure the API's.
      const chosen = [orgs[0], orgs[3]].map((o) => o?.orgId ?? "");
      await page.getByLabel("Chosen organizations").check();
      await page.getByLabel("Organizations to replay").selectOption(chosen);
      await compare(page);
      const sa = await replay({ period: PERIOD, org_ids: chosen });
      const sb = await replay({ period: PERIOD, org_ids: chosen, price_book: fastDoubled });
      assert.deepEqual(new Set((sb["organizations"] as Json[]).map((o) => o["org_id"])), new Set(chosen));
      await samePage(page, sa, sb);

      // Plans: book B is the book in force with Pro's session window cut to $0.10 (plans JSON, started from the plans in force).
      await page.getByLabel("All organizations").check();
      await page.getByLabel("Price book B", { exact: true }).selectOption("in_force");
      await page.getByText("Plans B (optional)").click();
      await page.getByRole("button", { name: "Start from the plans in force (B)" }).click();
      const plans = JSON.parse(await page.getByLabel("Plans B (JSON)").inputValue()) as Record<string, Json>;
      const proWindows = ((plans["pro"]?.["seats"] as Json)["standard"] as Json)["windows"] as Json[];
      const session = proWindows.find((w) => w["kind"] === "session");
      assert.ok(session, "Pro has a session window");
      session["quota"] = "100000";
      await page.getByLabel("Plans B (JSON)").fill(JSON.stringify(plans, null, 2));
      await compare(page);
      const pa = await replay({ period: PERIOD });
      const pb = await replay({ period: PERIOD, plans });
      await samePage(page, pa, pb);
      const proOrg = (pb["organizations"] as Json[]).find((o) => o["org_id"] === orgs[1]?.orgId) ?? {};
      assert.ok(BigInt(String((proOrg["replayed"] as Json)["plan_window"])) < BigInt(String((proOrg["actual"] as Json)["plan_window"])), "a smaller session window pays for less");
      assert.ok((proOrg["windows_exhausted"] as Json[]).length > 0, "and runs out");
      await page.getByLabel("Plans B (JSON)").fill("");

      // A book the API refuses: the page shows the API's own message, and no stale figures.
      await page.getByLabel("Price book B", { exact: true }).selectOption("json");
      const broken = { ...fastDoubled, models: [{ ...((fastDoubled["models"] as Json[])[0] as Json), output: "lots" }] };
      const refused = await h.request("POST", "/v1/lab/replays", { body: { period: PERIOD, price_book: broken } });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      const apiMessage = String((refused.body["error"] as Json)["message"]);
      watch.expect("/v1/lab/replays", 400);
      await page.getByLabel("Price book B (JSON)").fill(JSON.stringify(broken));
      await compare(page);
      const alert = page.getByRole("alert").filter({ hasText: "The replay was refused." });
      assert.equal(((await alert.textContent()) ?? "").trim(), `The replay was refused. Book B: ${apiMessage}`);
      assert.equal(await page.getByTestId("lab-total-b").count(), 0, "no figures from an earlier run");
      // Not JSON at all: said before anything is sent.
      await page.getByLabel("Price book B (JSON)").fill("{ not json");
      await page.getByRole("button", { name: "Compare books" }).click();
      await page.getByRole("alert").getByText("Price book B is not valid JSON.").waitFor();

      // A customer's row links to the organization's console page.
      await page.getByLabel("Price book B (JSON)").fill(upload);
      await compare(page);
      await page.getByTestId("lab-org").filter({ hasText: orgs[0]?.name ?? "" }).click();
      await page.waitForSelector('body[data-ready="operator-org"]');
      assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), orgs[0]?.name);
      // …and the organization's page links back to the lab with that organization chosen.
      await page.evaluate(CLEAR_READY);
      await page.getByRole("link", { name: "Replay its usage in the pricing lab" }).click();
      await page.waitForSelector('body[data-ready="operator-lab"]');
      assert.equal(await page.getByLabel("Chosen organizations").isChecked(), true);
      assert.deepEqual(await page.evaluate('[...document.querySelector("select[name=org_ids]").selectedOptions].map((o) => o.value)'), [orgs[0]?.orgId]);
    } finally {
      await ctx.close();
    }
  });

  test("an organization's owner cannot reach the lab: no link, the API answers 403, the address asks for the platform key", async () => {
    const owner = orgs[0];
    assert.ok(owner);
    const me = (await h.request("GET", `/v1/organizations/${owner.orgId}/members`)).body["data"] as Json[];
    const ownerEmail = String(me.find((m) => m["id"] === owner.ownerId)?.["email"]);
    await setPassword(h, owner.orgId, owner.ownerId, PASSWORD);
    const ctx = await browser.newContext({ viewport: PHONE });
    const page = watch.attach(await ctx.newPage());
    try {
      await page.goto(`${h.url}/dashboard/`);
      await page.waitForSelector('body[data-ready="signin"]');
      await page.getByLabel("Email").fill(ownerEmail);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForSelector('body[data-ready="overview"]');
      assert.equal(await page.getByRole("link", { name: "Pricing lab" }).count(), 0, "no link in the owner's navigation");
      assert.equal(await page.locator('a[href*="operator/lab"]').count(), 0);
      // The API refuses the owner's key, and the owner's signed-in session.
      assert.equal((await h.request("POST", "/v1/lab/replays", { key: owner.ownerKey, body: { period: PERIOD } })).status, 403);
      watch.expect("/v1/lab/replays", 401);
      watch.expect("/v1/lab/replays", 403);
      const status = await page.evaluate(`fetch("/v1/lab/replays", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ period: "${PERIOD}" }) }).then(async (r) => (await r.text(), r.status))`);
      assert.ok(status === 401 || status === 403, `the owner's session is refused (${String(status)})`);
      // The lab's address opens the operator sign-in, not the lab.
      await page.goto(`${h.url}/dashboard/?v=lab#/operator/lab`);
      await page.waitForSelector('body[data-ready="operator-signin"]');
      assert.equal(await page.getByRole("button", { name: "Compare books" }).count(), 0);
    } finally {
      await ctx.close();
    }
  });
});
