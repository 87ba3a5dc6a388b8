// The dashboard in a real browser: Debian's Chromium driven by playwright-core against a real
// server (SQLite file, loopback HTTP, the sandbox payment provider, the gateway's simulated
// upstream). Each flow is completed end to end through the pages: sign in (with the keyboard),
// add funds (success and decline), auto-reload firing after gateway usage crosses the
// threshold, a member limit that refuses the member, a member's credit request approved by the
// owner, an API key created and revoked, an audited change seen on the Audit log page (before →
// after, filters, Load more; no such page for a plain member), the usage CSV and a statement whose totals equal the
// page's. Every page must load with no console error and no failed request (each expected
// refusal is declared), every control must be labelled, nothing may overflow at phone width, and
// every page is screenshotted at desktop and phone width: into docs/screenshots/ only when asked
// (UC_SCREENSHOTS=1, `npm run screenshots`), otherwise into a temporary directory, so that a plain
// test run changes no tracked file.
// The store is covered on both engines by dashboard-auth.test.ts; this suite is about the UI.

import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { SandboxProvider } from "../src/adapters/payments/sandbox.js";
import { sqliteBackend } from "./support/backends.js";
import { setPassword } from "./support/dashboard.js";
import { addMember, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";
import { amountAfter, pdfLines, printedAfter } from "./support/pdf-text.js";
import { formatUsd } from "../src/core/money.js";
import { CHROMIUM, CHROMIUM_ARGS, CLEAR_READY, DESKTOP, PHONE, RENDER_DOCS, shotsDir, UNLABELLED, Watch } from "./support/browser.js";

const SHOTS = shotsDir();
const PASSWORD = "dashboard test password";
const PAGES = ["overview", "usage", "credits", "payments", "limits", "members", "webhooks"] as const;
const CARD = { ok: "4242424242424242", declined: "4000000000000002" } as const;

type Json = Record<string, unknown>;

describe("dashboard in Chromium", () => {
  const backend = sqliteBackend();
  let h: Harness;
  let browser: Browser;
  let owner: BrowserContext;
  let ownerPage: Page;
  const watch = new Watch();
  let org: { orgId: string; ownerId: string; ownerKey: string; email: string };
  let member: { memberId: string; key: string; email: string };
  let billing: { memberId: string; key: string; email: string };

  before(async () => {
    h = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_SIGNIN_MAX_FAILURES: "50", USAGE_CREDITS_SESSION_HOURS: "720", USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true", USAGE_CREDITS_SELLER_NAME: "Example Compute Inc.", USAGE_CREDITS_SELLER_ADDRESS: "1 Market Street | San Francisco, CA 94105 | USA", USAGE_CREDITS_SELLER_EMAIL: "billing@example.test", USAGE_CREDITS_SELLER_TAX_ID: "US-EIN 12-3456789" });
    // A usage-based plan, so the gateway's requests are paid with usage credits (auto-reload, limits).
    const created = await h.request("POST", "/v1/organizations", {
      body: { name: "Acme Robotics", plan_id: "enterprise_usage", usage_credits_enabled: true, fast_mode_enabled: true, fast_mode_fallback: false, owner: { email: "owner@acme.test", name: "Ada Owner" } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const o = { orgId: String(created.body["id"]), ownerId: String((created.body["owner"] as Json)["id"]), ownerKey: String((created.body["api_key"] as Json)["secret"]) };
    const email = "owner@acme.test";
    org = { ...o, email };
    await setPassword(h, o.orgId, o.ownerId, PASSWORD);
    const m = await addMember(h, o.orgId, { role: "member", email: "dev@acme.test", name: "Dev" });
    member = { ...m, email: "dev@acme.test" };
    const b = await addMember(h, o.orgId, { role: "billing", email: "finance@acme.test", name: "Fin" });
    billing = { ...b, email: "finance@acme.test" };
    await setPassword(h, o.orgId, b.memberId, PASSWORD);
    await h.request("POST", `/v1/organizations/${o.orgId}/workspaces`, { body: { name: "Research" } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    owner = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    ownerPage = watch.attach(await owner.newPage());
  });
  afterEach(async () => {
    await h.app.services.moneyIn.idle();
    watch.check();
  });
  after(async () => {
    await browser?.close();
    if (!RENDER_DOCS) rmSync(SHOTS, { recursive: true, force: true });
    const v = await verifyLedger(h);
    assert.deepEqual(v.violations, []);
    await h.close();
    await backend.cleanup();
  });

  let visit = 0;
  /** A full page load (a fresh query string, so going to the page already shown loads it again). */
  const open = async (page: Page, name: string): Promise<void> => {
    await page.goto(`${h.url}/dashboard/?v=${++visit}#/${name}`);
    await page.waitForSelector(`body[data-ready="${name}"]`);
  };
  const reopen = async (page: Page, name: string): Promise<void> => {
    await page.evaluate(CLEAR_READY);
    await page.reload();
    await page.waitForSelector(`body[data-ready="${name}"]`);
  };
  const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? "").trim();
  const balance = async (): Promise<number> => Number(((await h.request("GET", `/v1/organizations/${org.orgId}/usage_summary`, { key: org.ownerKey })).body["usage_credits"] as Json)["balance"]);
  const signInWith = async (page: Page, email: string): Promise<void> => {
    await page.goto(`${h.url}/`);
    await page.waitForSelector('body[data-ready="signin"]');
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForSelector('body[data-ready="overview"]');
  };
  const gateway = (key: string) =>
    h.request("POST", "/v1/messages", {
      key,
      // 4,000 output tokens of Sonnet: $0.06 a request.
      headers: { "anthropic-version": "2023-06-01", "x-simulate": "output_tokens:4000" },
      body: { model: "claude-sonnet-4-6", max_tokens: 4096, messages: [{ role: "user", content: "Write a long answer about usage credits, please." }] },
    });

  test("sign in with the keyboard alone; a wrong password shows the server's message", async () => {
    const page = ownerPage;
    await page.goto(`${h.url}/`);
    await page.waitForSelector('body[data-ready="signin"]');
    assert.equal(await page.evaluate('document.activeElement?.getAttribute("name")'), "email", "the email field has focus");
    watch.expect("/v1/dashboard/session", 401);
    await page.keyboard.type(org.email);
    await page.keyboard.press("Tab");
    await page.keyboard.type("not my password");
    await page.keyboard.press("Enter");
    await page.getByText("The email or password is not right.").waitFor();
    await page.getByLabel("Password").fill("");
    await page.getByLabel("Password").focus();
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await page.waitForSelector('body[data-ready="overview"]');
    assert.equal(await text(page, "header .brand .muted"), "Acme Robotics");
    // The navigation is reachable and usable by keyboard.
    await page.locator('nav a[data-page="usage"]').focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('body[data-ready="usage"]');
    assert.equal(await page.locator('nav a[aria-current="page"]').textContent(), "Usage");
  });

  test("add funds with the sandbox: a succeeded purchase grants credits; a declined card shows the server's refusal and grants nothing", async () => {
    const page = ownerPage;
    await open(page, "credits");
    await page.getByLabel("Card number (sandbox test card)").fill(CARD.ok);
    await page.getByRole("button", { name: "Add card" }).click();
    await page.waitForSelector('body[data-ready="credits"]');
    await page.getByLabel("Payment method", { exact: true }).first().waitFor();
    await page.getByLabel("Custom amount (USD)").fill("50");
    // Client-side validation first: not whole cents.
    await page.getByLabel("Custom amount (USD)").fill("12.345");
    await page.getByRole("button", { name: "Add funds" }).click();
    await page.getByText("at most two decimals").first().waitFor();
    await page.getByLabel("Custom amount (USD)").fill("50");
    await page.getByRole("button", { name: "Add funds" }).click();
    await page.getByText("Added $50.00 of usage credits (charged $50.00).").waitFor();
    assert.equal(await balance(), 50 * USD);
    await reopen(page, "credits");
    assert.equal(await text(page, '[data-testid="balance"]'), "$50.00");

    // Above $1,000 the confirmation appears, and is required before anything is sent.
    await page.getByLabel(/\$2,000.00 of usage credits for \$1,400.00/).check();
    await page.getByText("I confirm a charge of $1,400.00").waitFor();
    await page.getByRole("button", { name: "Add funds" }).click();
    await page.getByText("Tick the box to confirm a charge of $1,400.00.").waitFor();
    assert.ok(await page.getByText(/You can add up to \$2,000.00 per day/).isVisible(), "the daily cap is explained before it is hit");

    await page.getByLabel("Card number (sandbox test card)").fill(CARD.declined);
    await page.getByRole("button", { name: "Add card" }).click();
    await page.waitForSelector('body[data-ready="credits"]');
    await page.getByLabel("A custom amount").check();
    await page.getByLabel("Custom amount (USD)").fill("20");
    await page.locator('select[name="payment_method"]').selectOption({ label: "visa •••• 0002" });
    watch.expect("/purchases", 402);
    await page.getByRole("button", { name: "Add funds" }).click();
    const refusal = page.locator(".message.error").filter({ hasText: /declined/i });
    await refusal.waitFor();
    assert.equal(await balance(), 50 * USD, "a declined card grants nothing");
  });

  test("auto-reload set in the dashboard fires after gateway usage crosses the threshold, and the page shows the attempt", async () => {
    const page = ownerPage;
    await open(page, "credits");
    await page.getByLabel("Reload automatically").check();
    await page.getByLabel("When the balance falls to (USD)").fill("49.90");
    await page.getByLabel("How").selectOption("amount");
    await page.getByLabel("Reload amount (USD)").fill("25");
    await page.locator('select[name="reload_payment_method"]').selectOption({ label: "visa •••• 4242" });
    await page.getByRole("button", { name: "Save auto-reload" }).click();
    await page.getByText("Auto-reload is active.").waitFor();
    // The page re-renders itself 800 ms after a save; let that finish, or the reload below would
    // abort its requests (a race that depends only on how fast the server answers).
    await page.waitForTimeout(900);
    await page.waitForSelector('body[data-ready="credits"]');
    const before = await balance();
    let reloaded = false;
    for (let i = 0; i < 10 && !reloaded; i++) {
      const r = await gateway(org.ownerKey);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await h.app.services.moneyIn.idle();
      const attempts = (await h.request("GET", `/v1/organizations/${org.orgId}/auto_reload/attempts`)).body["data"] as Json[];
      reloaded = attempts.some((a) => a["outcome"] === "succeeded");
    }
    assert.ok(reloaded, "the gateway's spend crossed the threshold and auto-reload charged");
    assert.ok((await balance()) > before, "the balance went up by the reload");
    await reopen(page, "credits");
    const attempts = page.getByRole("region", { name: "Auto-reload attempts" });
    await attempts.getByText("succeeded").waitFor();
    assert.match((await attempts.locator("tbody tr").first().textContent()) ?? "", /\$25\.00/);
    assert.equal(await text(page, '[data-testid="reload-status"] strong'), "active");
    await open(page, "overview");
    assert.match(await text(page, '[data-testid="auto-reload-status"]'), /^active: below \$49\.90$/);
    await page.getByText("auto reload succeeded").first().waitFor();
  });

  test("re-clicking Add funds and reloading mid-purchase charges once (ledger and provider); the outcome stays until dismissed", async () => {
    const page = ownerPage;
    const provider = h.app.services.moneyIn.provider;
    assert.ok(provider instanceof SandboxProvider);
    const AMOUNT = 35 * USD;
    const charged = () => provider.charges().filter((c) => c.metadata["org_id"] === org.orgId && c.amount === AMOUNT).length;
    const granted = async () => ((await h.request("GET", `/v1/organizations/${org.orgId}/grants`)).body["data"] as Json[]).filter((g) => g["kind"] === "purchase" && g["amount"] === String(AMOUNT)).length;
    const paid = async () => ((await h.request("GET", `/v1/organizations/${org.orgId}/purchases`)).body["data"] as Json[]).filter((p) => p["amount"] === String(AMOUNT)).length;
    assert.deepEqual([charged(), await granted(), await paid()], [0, 0, 0]);
    const start = await balance();

    await open(page, "credits");
    await page.getByLabel("A custom amount").check();
    await page.getByLabel("Custom amount (USD)").fill("35");
    await page.locator('select[name="payment_method"]').selectOption({ label: "visa •••• 4242" });
    // The server takes the purchase and charges the card; its answer never reaches the page, which reloads.
    let reached!: () => void;
    const atServer = new Promise<void>((resolve) => (reached = resolve));
    await page.route("**/purchases", async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      await route.fetch();
      // The connection drops after the server answered: the page never learns the outcome.
      await route.abort("connectionreset");
      reached();
    });
    watch.expectAborted("/purchases");
    await page.getByRole("button", { name: "Add funds" }).click();
    await atServer;
    await page.unroute("**/purchases");
    await reopen(page, "credits");
    assert.equal(charged(), 1, "the card was charged once");
    const notice = page.getByTestId("purchase-result");
    assert.match(await notice.innerText(), /A purchase of \$35\.00 was sent at .* its answer did not arrive/);
    assert.equal(await page.getByLabel("Custom amount (USD)").inputValue(), "35.00", "the form is restored to the same intent");

    // An unsure user clicks twice (two submits before the first answer): same key, same payment.
    const posts: string[] = [];
    page.on("request", (r) => void (r.method() === "POST" && r.url().endsWith("/purchases") && posts.push(r.headers()["idempotency-key"] ?? "")));
    await page.evaluate('const f = document.querySelector("form[aria-label=\'Add funds\']"); f.requestSubmit(); f.requestSubmit();');
    await notice.getByText("Added $35.00 of usage credits (charged $35.00).").waitFor();
    await page.waitForSelector('body[data-ready="credits"]');
    // The outcome survives another reload, and a third click after it still charges nothing new.
    await reopen(page, "credits");
    await notice.getByText("Added $35.00 of usage credits (charged $35.00).").waitFor();
    await page.getByRole("button", { name: "Add funds" }).click();
    await page.waitForSelector('body[data-ready="credits"]');
    await h.app.services.moneyIn.idle();
    assert.ok(posts.length >= 2, `the re-clicks were sent (${posts.length})`);
    assert.equal(new Set(posts).size, 1, "every re-click carried the same Idempotency-Key");
    assert.equal(charged(), 1, "the payment provider's record: one charge of $35.00");
    assert.equal(await granted(), 1, "the ledger: one purchase grant of $35.00");
    assert.equal(await paid(), 1, "one payment");
    assert.equal((await balance()) - start, AMOUNT);

    // Dismissed, the same amount is a new purchase (a new key): a second, deliberate charge.
    await notice.getByRole("button", { name: "Dismiss" }).click();
    assert.equal(await notice.isHidden(), true);
    await page.getByLabel("Custom amount (USD)").fill("35");
    await page.locator('select[name="payment_method"]').selectOption({ label: "visa •••• 4242" });
    await page.getByRole("button", { name: "Add funds" }).click();
    await notice.waitFor();
    assert.equal(await notice.locator("p").innerText(), "Added $35.00 of usage credits (charged $35.00).");
    await page.waitForSelector('body[data-ready="credits"]');
    assert.equal(charged(), 2);
    assert.equal(await granted(), 2);
    await notice.getByRole("button", { name: "Dismiss" }).click();
  });

  test("role and permission changes ask first; Cancel changes nothing", async () => {
    const page = ownerPage;
    await open(page, "members");
    const role = page.getByLabel(`Role of ${member.email}`);
    await role.selectOption("admin");
    const dialog = page.getByRole("dialog", { name: `Change the role of ${member.email}?` });
    await dialog.getByText("becomes admin (was member)").waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    assert.equal(await role.inputValue(), "member", "the control is put back");
    const credits = page.getByLabel(`Usage credits for ${member.email}`);
    await credits.uncheck();
    await page.getByRole("dialog", { name: `Stop usage credits for ${member.email}?` }).getByRole("button", { name: "Cancel" }).click();
    assert.equal(await credits.isChecked(), true);
    const m = (await h.request("GET", `/v1/organizations/${org.orgId}/members/${member.memberId}`)).body;
    assert.equal(m["role"], "member");
    assert.equal(m["usage_credits_enabled"], true);
    // Confirmed, the change is made.
    await role.selectOption("billing");
    await page.getByTestId("confirm-ok").click();
    await page.getByText(`Saved ${member.email}.`).waitFor();
    assert.equal((await h.request("GET", `/v1/organizations/${org.orgId}/members/${member.memberId}`)).body["role"], "billing");
    await role.selectOption("member");
    await page.getByTestId("confirm-ok").click();
    await page.getByText(`Saved ${member.email}.`).waitFor();
    assert.equal((await h.request("GET", `/v1/organizations/${org.orgId}/members/${member.memberId}`)).body["role"], "member");
  });

  test("a member limit set on the Limits page refuses the member's next request", async () => {
    const page = ownerPage;
    assert.equal((await gateway(member.key)).status, 200, "the member can spend before the limit");
    await open(page, "limits");
    await page.getByLabel("Scope").selectOption("member");
    await page.getByLabel("Member", { exact: true }).selectOption({ label: member.email });
    await page.getByLabel("Limit (USD)").fill("0");
    await page.getByRole("button", { name: "Save limit" }).click();
    // A limit applies at once: the dialog says what will change, and nothing is sent before Confirm.
    await page.getByRole("dialog", { name: `Set a monthly limit of $0.00 for ${member.email}?` }).waitFor();
    await page.getByTestId("confirm-ok").click();
    await page.waitForSelector('body[data-ready="limits"]');
    const row = page.getByRole("region", { name: "Spending limits" }).locator("tr", { hasText: member.email });
    await row.waitFor();
    assert.match((await row.textContent()) ?? "", /\$0\.00.*Blocks this member now/);
    const refused = await gateway(member.key);
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal((refused.body["error"] as Json)["type"], "rate_limit_error");
    const again = await h.request("POST", `/v1/organizations/${org.orgId}/usage_events`, { key: member.key, body: { event_id: "after-limit", model: "claude-sonnet-4-6", amount: "10000" } });
    assert.equal((again.body["error"] as Json)["code"], "spend_limit_reached");
    assert.equal((await gateway(org.ownerKey)).status, 200, "the owner is not limited by the member's limit");
  });

  test("a member without billing rights sees read-only pages, requests credits, cannot replay money requests; the owner approves", async () => {
    // The owner gives the member a password in the dashboard.
    await open(ownerPage, "members");
    await ownerPage.getByLabel("Member", { exact: true }).last().selectOption({ label: member.email });
    await ownerPage.getByLabel("New password").fill(PASSWORD);
    await ownerPage.getByRole("button", { name: "Set password" }).click();
    await ownerPage.getByText("Password set").waitFor();

    const ctx = await browser.newContext({ viewport: DESKTOP });
    const page = watch.attach(await ctx.newPage());
    try {
      await signInWith(page, member.email);
      await open(page, "credits");
      assert.equal(await page.getByRole("button", { name: "Add funds" }).count(), 0, "no add-funds form");
      assert.equal(await page.getByRole("button", { name: "Save auto-reload" }).count(), 0, "auto-reload is read-only");
      await page.getByLabel("Amount (USD)").fill("30");
      await page.getByLabel("Note for your admin (optional)").fill("load test next week");
      await page.getByRole("button", { name: "Request credits" }).click();
      await page.getByText("Requested $30.00 of usage credits").waitFor();
      await open(page, "limits");
      assert.equal(await page.getByRole("button", { name: "Save limit" }).count(), 0, "no limit form");
      await page.getByText("Only owners, admins and billing members can change spending limits.").waitFor();

      // Replaying the dashboard's own requests, with the session's CSRF token, is refused by the role checks.
      const pm = ((await h.request("GET", `/v1/organizations/${org.orgId}/payment_methods`)).body["data"] as Json[])[0]?.["id"];
      watch.expect(`/v1/organizations/${org.orgId}/`, 403);
      const statuses = await page.evaluate(
        async ({ base, pm, memberId }) => {
          const session = (await (await fetch("/v1/dashboard/session")).json()) as { csrf_token: string };
          const send = async (method: string, path: string, body: unknown) =>
            (await fetch(`${base}${path}`, { method, headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token }, body: JSON.stringify(body) })).status;
          return [
            await send("POST", "/purchases", { amount: "20000000", payment_method_id: pm }),
            await send("PUT", "/auto_reload", { enabled: true, threshold: "1000000", amount: "5000000", payment_method_id: pm }),
            await send("POST", "/spend_limits", { scope: "member", scope_id: memberId, period: "monthly", amount: null }),
            await send("PATCH", `/members/${memberId}`, { role: "admin" }),
          ];
        },
        { base: `/v1/organizations/${org.orgId}`, pm, memberId: member.memberId },
      );
      assert.deepEqual(statuses, [403, 403, 403, 403]);
    } finally {
      await ctx.close();
    }

    const before = await balance();
    await open(ownerPage, "members");
    const request = ownerPage.getByRole("region", { name: "Pending credit requests" }).locator("tr", { hasText: member.email });
    await request.getByText("load test next week").waitFor();
    await request.getByRole("combobox").selectOption({ label: "visa •••• 4242" });
    await request.getByRole("button", { name: "Approve" }).click();
    await ownerPage.getByText("Approved: $30.00 of usage credits added.").waitFor();
    assert.equal((await balance()) - before, 30 * USD);
    await ownerPage.waitForSelector('body[data-ready="members"]');
    await ownerPage.getByText("No pending credit requests.").waitFor();
  });

  test("an API key is created (its secret shown once, and it works) and revoked (and it stops working); fast mode is switched off for one member", async () => {
    const page = ownerPage;
    await open(page, "members");
    await page.getByLabel("Name", { exact: true }).fill("CI pipeline");
    await page.getByLabel("For member").selectOption({ label: member.email });
    await page.getByLabel("Surface").selectOption("ci");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = await text(page, '[data-testid="new-key-secret"]');
    assert.match(secret, /^uck_/);
    assert.equal((await h.request("GET", `/v1/organizations/${org.orgId}/usage_summary`, { key: secret })).status, 200);
    await reopen(page, "members");
    assert.equal(await page.locator('[data-testid="new-key-secret"]').count(), 0, "the secret is not shown again");
    await page.getByRole("button", { name: "Revoke key CI pipeline" }).click();
    await page.waitForSelector('body[data-ready="members"]');
    await page.getByRole("region", { name: "API keys" }).locator("tr", { hasText: "CI pipeline" }).getByText(/^Revoked/).waitFor();
    assert.equal((await h.request("GET", `/v1/organizations/${org.orgId}/usage_summary`, { key: secret })).status, 401);

    // Fast mode per member, from the members table.
    await page.getByLabel(`Fast mode for ${member.email}`).uncheck();
    await page.getByRole("dialog", { name: `Stop fast mode for ${member.email}?` }).waitFor();
    await page.getByTestId("confirm-ok").click();
    await page.getByText(`Saved ${member.email}.`).waitFor();
    const fast = await h.request("POST", `/v1/organizations/${org.orgId}/usage_events`, { key: member.key, body: { event_id: "fast-off", model: "claude-opus-4-6", speed: "fast", amount: "1000" } });
    assert.equal((fast.body["error"] as Json | undefined)?.["code"], "fast_mode_disabled");
  });

  test("a webhook endpoint is added (secret shown once), receives a delivery, and a delivery is replayed from its log", async () => {
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
      const page = ownerPage;
      await open(page, "webhooks");
      await page.getByLabel("URL").fill("not a url");
      await page.getByRole("button", { name: "Add endpoint" }).click();
      await page.getByText("Enter the endpoint's URL").waitFor();
      await page.getByLabel("URL").fill(hook);
      await page.getByLabel("Description (optional)").fill("billing alerts");
      await page.getByRole("button", { name: "Add endpoint" }).click();
      await page.waitForSelector('[data-testid="webhook-secret"]');
      assert.match(await text(page, '[data-testid="webhook-secret"]'), /^whsec_/);
      // Something worth telling: a purchase (the card is the first saved one, which succeeds).
      const pm = ((await h.request("GET", `/v1/organizations/${org.orgId}/payment_methods`)).body["data"] as Json[]).find((m) => m["last4"] === "4242")?.["id"];
      const bought = await h.request("POST", `/v1/organizations/${org.orgId}/purchases`, { key: org.ownerKey, body: { amount: String(10 * USD), payment_method_id: pm } });
      assert.equal(bought.status, 201, JSON.stringify(bought.body));
      await h.app.services.webhooks.dispatch();
      assert.ok(received.some((b) => b.includes('"purchase.succeeded"')), "the endpoint received the event");
      const count = received.length;
      await open(page, "webhooks");
      const log = page.getByRole("region", { name: `Deliveries to ${hook}` });
      const row = log.locator("tr", { hasText: "purchase.succeeded" }).first();
      await row.getByText("delivered").waitFor();
      await row.getByRole("button", { name: /^Replay/ }).click();
      await page.waitForSelector('body[data-ready="webhooks"]');
      // The click's request may still be on its way when the page reports ready: dispatch until the
      // replay is queued and delivered (bounded), instead of once.
      for (let i = 0; i < 50 && received.length <= count; i++) {
        await h.app.services.webhooks.dispatch();
        if (received.length <= count) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(received.length > count, "the replay was delivered again");
      assert.equal(await page.locator('[data-testid="webhook-secret"]').count(), 0, "the secret is not shown again");
      // A test event, on request, to this endpoint only: received, signed, and in the delivery log.
      const beforeTest = received.length;
      await page.getByRole("button", { name: `Send a test event to ${hook}` }).click();
      await page.getByText(`A webhook.test event is on its way to ${hook}`).waitFor();
      await h.app.services.webhooks.dispatch();
      assert.equal(received.length, beforeTest + 1, "exactly one test delivery");
      assert.ok(received.at(-1)?.includes('"webhook.test"'), "the endpoint received the test event");
      await page.waitForSelector('body[data-ready="webhooks"]');
      await open(page, "webhooks");
      await log.locator("tr", { hasText: "webhook.test" }).getByText("delivered").waitFor();
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  test("payment history: paid, declined with the reason, each amount the API's; a receipt as HTML and PDF (read back) and the statement PDF; billing sees it, a plain member does not", async () => {
    const page = ownerPage;
    const payments = (await h.request("GET", `/v1/organizations/${org.orgId}/purchases`, { key: org.ownerKey })).body["data"] as Json[];
    assert.ok(payments.some((p) => p["status"] === "failed") && payments.some((p) => p["status"] === "succeeded"));
    await open(page, "payments");
    const rows = page.getByRole("region", { name: "Payment history" }).locator("tbody tr");
    assert.equal(await rows.count(), payments.length, "one row per payment");
    // Every amount on the page is the API's figure for the same payment, in the same order.
    for (const [i, p] of payments.entries()) {
      const row = rows.nth(i);
      assert.equal(await row.getByTestId("payment-amount").textContent(), formatUsd(Number(p["amount"])), `payment ${String(p["id"])}`);
      assert.equal(await row.getByTestId("payment-amount").getAttribute("data-id"), p["id"]);
      const status = (await row.getByTestId("payment-status").textContent()) ?? "";
      if (p["status"] === "failed") assert.equal(status, `Declined: the card was declined by the bank (${String(p["failure_code"])})`);
      else assert.equal(status, p["status"] === "succeeded" ? "Paid" : "Pending: waiting for the bank's answer");
    }
    const paidTotal = payments.filter((p) => p["status"] === "succeeded").reduce((s, p) => s + Number(p["amount"]), 0);
    assert.equal(await text(page, '[data-testid="payments-total"]'), formatUsd(paidTotal));

    // The newest paid one's receipt, as HTML, equals the API's receipt; its PDF, read back by pdf.js, too.
    const newest = payments.find((p) => p["status"] === "succeeded") ?? {};
    const receipt = (await h.request("GET", `/v1/organizations/${org.orgId}/purchases/${String(newest["id"])}/receipt`, { key: org.ownerKey })).body;
    await rows.filter({ has: page.locator(`[data-id="${String(newest["id"])}"]`) }).getByRole("link", { name: /^Receipt for/ }).click();
    await page.waitForSelector('body[data-ready="receipt"]');
    assert.equal(await text(page, '[data-testid="receipt-number"]'), `Receipt ${String(receipt["number"])}`);
    assert.equal(await text(page, '[data-testid="receipt-total"]'), formatUsd(Number(receipt["amount"])));
    for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
      await page.setViewportSize(viewport);
      const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
      assert.ok(overflow <= 0, `receipt at ${label} width overflows by ${overflow}px`);
      await page.screenshot({ path: join(SHOTS, `receipt-${label}.png`), fullPage: true });
    }
    await page.setViewportSize(DESKTOP);
    const [pdf] = await Promise.all([page.waitForEvent("download"), page.getByTestId("receipt-pdf").click()]);
    const lines = (await pdfLines(readFileSync((await pdf.path()) ?? ""))).lines;
    assert.ok(lines.includes(`Receipt ${String(receipt["number"])}`));
    assert.equal(amountAfter(lines, "Total paid (USD)"), BigInt(String(receipt["amount"])));
    const grants = (await h.request("GET", `/v1/organizations/${org.orgId}/grants`)).body["data"] as Json[];
    assert.equal(String(grants.find((g) => g["id"] === newest["grant_id"])?.["amount"]), String(receipt["credit_amount"]), "the receipt's credits are the grant's in the ledger");

    // The month's statement as a PDF from the Credits page: its closing balance is the page's and the API's.
    await open(page, "credits");
    const [statement] = await Promise.all([page.waitForEvent("download"), page.getByTestId("statement-pdf").click()]);
    const st = (await pdfLines(readFileSync((await statement.path()) ?? ""))).lines;
    const month = new Date(h.clock.now()).toISOString().slice(0, 7);
    const json = (await h.request("GET", `/v1/organizations/${org.orgId}/statements/${month}`)).body;
    assert.equal(printedAfter(st, "Closing balance"), formatUsd(Number(json["closing_balance"])), "the PDF prints the API's closing balance");
    assert.equal(json["closing_balance"], json["ledger_balance"], "which is the ledger's");
    assert.equal(formatUsd(Number(json["closing_balance"])), await text(page, '[data-testid="statement-closing"]'));

    // The Overview's alert for the declined purchase says how much and why.
    await open(page, "overview");
    await page.locator(".alerts li", { hasText: "purchase failed: $20.00, the card was declined by the bank (card_declined)" }).waitFor();

    // A billing member has the page; a plain member has not (not in the nav, and a clear message).
    for (const [who, email, has] of [["billing", billing.email, true], ["member", member.email, false]] as const) {
      const ctx = await browser.newContext({ viewport: DESKTOP });
      const p = watch.attach(await ctx.newPage());
      try {
        await signInWith(p, email);
        assert.equal(await p.locator('nav a[data-page="payments"]').count(), has ? 1 : 0, `${who}: Payments in the nav`);
        await open(p, "payments");
        if (has) assert.equal(await p.getByRole("region", { name: "Payment history" }).locator("tbody tr").count(), payments.length);
        else await p.getByText("The Payments page is not available for your role (member).").waitFor();
      } finally {
        await ctx.close();
      }
    }
  });

  test("the usage CSV and the month's statement download with totals equal to the page's", async () => {
    const page = ownerPage;
    // Usage on another day and another model, so the charts have more than one bar.
    h.clock.advance(86_400_000);
    for (const model of ["claude-haiku-4-5", "claude-opus-4-6"]) {
      const r = await h.request("POST", `/v1/organizations/${org.orgId}/usage_events`, {
        key: org.ownerKey,
        body: { event_id: `csv-${model}`, model, usage: { input_tokens: 120_000, output_tokens: 9_000 } },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    await open(page, "usage");
    await page.getByLabel("Group table by").selectOption("model");
    await page.evaluate(CLEAR_READY);
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForSelector('body[data-ready="usage"]');
    const shownTotal = await text(page, '[data-testid="usage-total"]');
    const footer = await text(page, '[aria-label="Usage table"] tfoot');
    assert.ok(footer.includes(shownTotal), `the table's total is the page's (${footer} / ${shownTotal})`);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    const csv = readFileSync((await download.path()) ?? "", "utf8").trim().split("\r\n");
    assert.equal(csv[0], "model,requests,spend_usd,usage_credits_usd,input_tokens,output_tokens");
    const rows = csv.slice(1, -1).map((l) => l.split(","));
    const total = csv.at(-1)?.split(",") ?? [];
    assert.equal(total[0], "Total");
    assert.equal(rows.length, await page.locator('[aria-label="Usage table"] tbody tr').count(), "one CSV row per table row");
    const micros = (d: string) => BigInt(d.replace(".", ""));
    assert.equal(rows.reduce((s, r) => s + micros(r[2] ?? "0"), 0n), micros(total[2] ?? ""), "the rows add up to the total");
    const records = await h.request("GET", `/v1/organizations/${org.orgId}/usage?from=2026-02-01T00:00:00Z`);
    assert.equal(micros(total[2] ?? ""), BigInt(String(records.body["total_cost"])), "the CSV's total is the server's");
    const cents = (micros(total[2] ?? "") + 5_000n) / 10_000n; // these totals never tie, so half-up = half-even
    assert.equal(shownTotal, `$${(cents / 100n).toLocaleString("en-US")}.${(cents % 100n).toString().padStart(2, "0")}`);

    await open(page, "credits");
    const closing = await text(page, '[data-testid="statement-closing"]');
    const [statement] = await Promise.all([page.waitForEvent("download"), page.locator('[data-testid="statement-csv"]').click()]);
    const lines = readFileSync((await statement.path()) ?? "", "utf8").trim().split("\r\n");
    const closingRow = lines.find((l) => l.startsWith("closing,closing_balance,"))?.split(",") ?? [];
    const closingMicros = BigInt(closingRow.at(-2) ?? "");
    const c = (closingMicros + 5_000n) / 10_000n;
    assert.equal(closing, `$${(c / 100n).toLocaleString("en-US")}.${(c % 100n).toString().padStart(2, "0")}`, "the statement CSV's closing balance is the page's");
    assert.equal(closingMicros, BigInt(await balance()), "and the live balance (nothing held)");
  });

  test("the audit log shows the owner's change with before → after, filters by action, pages with Load more; a plain member has no audit page", async () => {
    const page = ownerPage;
    // Something audited, changed in the UI: the member's monthly limit, from $0.00 to $12.50.
    await open(page, "limits");
    await page.getByLabel("Scope").selectOption("member");
    await page.getByLabel("Member", { exact: true }).selectOption({ label: member.email });
    await page.getByLabel("Limit (USD)").fill("12.50");
    await page.getByRole("button", { name: "Save limit" }).click();
    await page.getByTestId("confirm-ok").click();
    await page.getByRole("region", { name: "Spending limits" }).locator("tr", { hasText: member.email }).getByText("$12.50").first().waitFor();
    assert.ok(await page.locator('nav a[data-page="audit"]').isVisible(), "the owner has the Audit log in the nav");

    await open(page, "audit");
    const rows = page.getByRole("region", { name: "Audit entries" }).locator("tbody tr");
    const newest = rows.first();
    assert.match((await newest.textContent()) ?? "", /Ada Owner \(owner@acme\.test\).*spend_limit\.set.*spend limit.*amount: \$0\.00 → \$12\.50/);
    assert.equal(await newest.locator(".diff li").count(), 1, "only the changed field is listed");
    const all = await rows.count();

    // Filter by action: only that action, fewer rows; then by object type.
    await page.getByLabel("Action").selectOption("payment.created");
    await page.locator("[data-entry]").filter({ hasNotText: "payment.created" }).first().waitFor({ state: "detached" });
    const payments = await rows.count();
    assert.ok(payments >= 2 && payments < all, `${payments} payment entries of ${all}`);
    assert.match((await rows.first().textContent()) ?? "", /amount: \$\d/, "a created payment lists its fields, money formatted");
    await page.getByLabel("Action").selectOption("");
    await page.getByLabel("Object type").selectOption("spend_limit");
    await page.locator("[data-entry]").filter({ hasNotText: "spend_limit." }).first().waitFor({ state: "detached" });
    assert.match((await rows.first().textContent()) ?? "", /\$0\.00 → \$12\.50/);

    // Screenshots at both widths (filtered to spend limits, so the page fits on a screen), labels and overflow checked.
    for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
      await page.setViewportSize(viewport);
      assert.deepEqual(await page.evaluate(UNLABELLED), [], "every control has a label");
      const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
      assert.ok(overflow <= 0, `audit at ${label} width overflows by ${overflow}px`);
      await page.screenshot({ path: join(SHOTS, `audit-${label}.png`), fullPage: true });
    }
    await page.setViewportSize(DESKTOP);

    // More entries than a page (50): "Load more" fetches the next page with the cursor, no repeats.
    for (let i = 0; i < 30; i++) {
      const r = await h.request("PATCH", `/v1/organizations/${org.orgId}/members/${member.memberId}`, { key: org.ownerKey, body: { seat_tier: i % 2 === 0 ? "premium" : "standard" } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    await open(page, "audit");
    assert.equal(await rows.count(), 50);
    await page.getByRole("button", { name: "Load more" }).click();
    await rows.nth(50).waitFor();
    const ids = (await page.evaluate('[...document.querySelectorAll("[data-entry]")].map((r) => r.dataset.entry)')) as string[];
    assert.equal(new Set(ids).size, ids.length, "no entry shown twice");
    const total = ((await h.request("GET", `/v1/organizations/${org.orgId}/audit_log?limit=500`, { key: org.ownerKey })).body["data"] as Json[]).length;
    assert.equal(ids.length, Math.min(total, 100));

    // A plain member: no Audit log in the nav; opened by address, a clear message and no request.
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const memberPage = watch.attach(await ctx.newPage());
    try {
      await signInWith(memberPage, member.email);
      assert.equal(await memberPage.locator('nav a[data-page="audit"]').count(), 0, "no audit page in the member's nav");
      const asked: string[] = [];
      memberPage.on("request", (r) => void (r.url().includes("/audit_log") && asked.push(r.url())));
      await open(memberPage, "audit");
      await memberPage.getByText("The Audit log page is not available for your role (member).").waitFor();
      assert.deepEqual(asked, [], "the page does not ask for what the role cannot read");
    } finally {
      await ctx.close();
    }
  });

  test("a plain member's own view: own usage, own SDK credit (claimed from the page), own credit requests and limits, each equal to the API's; every balance says what it includes; the two balances reconcile", async () => {
    // On a plan with a monthly SDK credit per seat, with one request by the member.
    assert.equal((await h.request("PATCH", `/v1/organizations/${org.orgId}`, { body: { plan_id: "pro" } })).status, 200);
    assert.equal((await gateway(member.key)).status, 200);
    const base = `/v1/organizations/${org.orgId}`;
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const page = watch.attach(await ctx.newPage());
    try {
      await signInWith(page, member.email);
      const month = new Date(h.clock.now()).toISOString().slice(0, 7);
      const mine = (await h.request("GET", `${base}/usage?member_id=${member.memberId}&from=${month}-01T00:00:00Z`, { key: member.key })).body;
      assert.equal(await text(page, '[data-testid="my-usage"]'), formatUsd(Number(mine["total_cost"])));
      assert.equal(await text(page, '[data-testid="my-paid"]'), formatUsd(Number(mine["total_credit_cost"])));
      assert.equal(await text(page, '[data-testid="my-plan-value"]'), formatUsd(Number(mine["total_cost"]) - Number(mine["total_credit_cost"])));
      const summary = (await h.request("GET", `${base}/usage_summary`, { key: member.key })).body;
      const credits = summary["usage_credits"] as Json;
      assert.equal(await text(page, '[data-testid="balance"]'), formatUsd(Number(credits["balance"])));
      assert.match(await text(page, '[data-testid="balance-includes"]'), /Members' monthly SDK credits are not in it/);
      assert.equal(await page.getByTestId("org-month-spend").count(), 0, "no organization spend for a plain member");
      const limitRows = page.getByRole("region", { name: "Spending limits" }).locator("tbody tr");
      const limits = credits["limits"] as Json[];
      assert.ok(limits.length >= 1, "the member's own limit applies");
      for (const [i, l] of limits.entries()) assert.match((await limitRows.nth(i).textContent()) ?? "", new RegExp(`${formatUsd(Number(l["amount"])).replace("$", "\\$")}${formatUsd(Number(l["spent"])).replace("$", "\\$")}`));

      // The monthly SDK credit, claimed from the page: what is left is the API's figure.
      const before = (await h.request("GET", `${base}/members/${member.memberId}/sdk_credits`, { key: member.key })).body;
      assert.equal(before["claimed"], false);
      await page.getByRole("button", { name: `Claim ${formatUsd(Number(before["seat_amount"]))} of SDK credit` }).click();
      await page.waitForSelector('body[data-ready="overview"] [data-testid="my-sdk-left"]');
      const after = (await h.request("GET", `${base}/members/${member.memberId}/sdk_credits`, { key: member.key })).body;
      assert.equal(after["claimed"], true);
      const grant = (after["current_cycle"] as Json)["grant"] as Json;
      assert.equal(await text(page, '[data-testid="my-sdk-left"]'), formatUsd(Number(grant["remaining"])));
      for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
        await page.setViewportSize(viewport);
        await open(page, "overview");
        assert.deepEqual(await page.evaluate(UNLABELLED), [], "every control has a label");
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
        assert.ok(overflow <= 0, `member overview at ${label} width overflows by ${overflow}px`);
        await page.screenshot({ path: join(SHOTS, `member-overview-${label}.png`), fullPage: true });
      }
      await page.setViewportSize(DESKTOP);

      // Their own credit requests, as the API lists them; another member's are not theirs to read.
      await open(page, "credits");
      const requests = (await h.request("GET", `${base}/members/${member.memberId}/credit_requests`, { key: member.key })).body["data"] as Json[];
      assert.ok(requests.length >= 1);
      const reqRows = page.getByRole("region", { name: "Your credit requests" }).locator("tbody tr");
      assert.equal(await reqRows.count(), requests.length);
      for (const [i, r] of requests.entries()) assert.match((await reqRows.nth(i).textContent()) ?? "", new RegExp(`${formatUsd(Number(r["amount"])).replace("$", "\\$")}.*${String(r["status"])}`));
      assert.equal((await h.request("GET", `${base}/members/${org.ownerId}/credit_requests`, { key: member.key })).status, 403);
      await page.screenshot({ path: join(SHOTS, "member-credits-desktop.png"), fullPage: true });

      // The Usage page: their own usage only, equal to the API's for the same 30 days.
      await open(page, "usage");
      await page.getByTestId("own-usage-note").waitFor();
      const last30 = (await h.request("GET", `${base}/usage?member_id=${member.memberId}`, { key: member.key })).body;
      assert.equal(await text(page, '[data-testid="usage-total"]'), formatUsd(Number(last30["total_cost"])));
      assert.equal(await text(page, '[data-testid="usage-paid"]'), formatUsd(Number(last30["total_credit_cost"])));
    } finally {
      await ctx.close();
    }

    // The owner's Credits page: the balance at the top and the statement's closing balance, reconciled in words and figures.
    await open(ownerPage, "credits");
    const month = new Date(h.clock.now()).toISOString().slice(0, 7);
    const st = (await h.request("GET", `${base}/statements/${month}`)).body;
    const bal = Number(((await h.request("GET", `${base}/usage_summary`, { key: org.ownerKey })).body["usage_credits"] as Json)["balance"]);
    const sdkLeft = ((await h.request("GET", `${base}/grants`)).body["data"] as Json[]).filter((g) => g["kind"] === "monthly" && g["status"] === "active").reduce((t, g) => t + Number(g["remaining"]), 0);
    assert.ok(sdkLeft > 0, "the member's SDK credit is in the statement, not in the balance");
    const held = Number((st["closing"] as Json)["held"]);
    assert.equal(Number(st["closing_balance"]), bal + sdkLeft + held, "closing = balance + SDK credits left + held");
    assert.equal(
      await text(ownerPage, '[data-testid="two-balances"]'),
      `Closing balance so far ${formatUsd(Number(st["closing_balance"]))} = the balance above ${formatUsd(bal)} + members' monthly SDK credits left ${formatUsd(sdkLeft)} + held for requests in flight ${formatUsd(held)}.`,
    );
    assert.equal(await text(ownerPage, '[data-testid="balance"]'), formatUsd(bal));

    // The transaction history: a request's hold and settle are one line; each line's signed change
    // is the API's (customer-side entries), and the running balance walks back from the closing balance.
    const txs = (await h.request("GET", `${base}/transactions?limit=50`)).body["data"] as Json[];
    const change = (t: Json) => (t["entries"] as Json[]).filter((e) => /^(grant|hold|debt):/.test(String(e["account"]))).reduce((s, e) => s + Number(e["amount"]), 0);
    const settled = new Set(txs.filter((t) => t["kind"] === "settle" || t["kind"] === "release").map((t) => t["ref"]));
    const shown = txs.filter((t) => !(t["kind"] === "hold" && settled.has(t["ref"])));
    assert.ok(shown.length < txs.length, "holds were merged into their settles");
    const txRows = ownerPage.getByRole("region", { name: "Transactions" }).locator("tbody tr");
    assert.equal(await txRows.count(), shown.length);
    let running = Number(st["closing_balance"]);
    let checked = 0;
    for (const [i, t] of txs.entries()) {
      if (t["kind"] === "hold" && settled.has(t["ref"])) {
        running -= change(t);
        continue;
      }
      const row = ownerPage.locator(`tr[data-tx="${String(t["id"])}"]`);
      const c = change(t);
      assert.equal(await row.getByTestId("tx-change").textContent(), c > 0 ? `+${formatUsd(c)}` : formatUsd(c), `change of ${String(t["kind"])} ${i}`);
      assert.equal(await row.getByTestId("tx-balance").textContent(), formatUsd(running), `balance after ${String(t["kind"])} ${i}`);
      running -= c;
      checked++;
    }
    assert.equal(checked, shown.length);
    const settleRow = ownerPage.locator('tr[data-kind="settle"]').first();
    assert.match((await settleRow.textContent()) ?? "", /Request · claude-[a-z0-9-]+ · [a-z]+@acme\.test\$[\d.]+ held → charged \$[\d.]+-\$[\d.]+/);
    await ownerPage.locator('tr[data-kind="grant"] a', { hasText: "(receipt)" }).first().waitFor();
    await ownerPage.getByRole("region", { name: "Transactions" }).screenshot({ path: join(SHOTS, "transactions-desktop.png") });
  });

  test("the missing actions: add a member, create a workspace and move a member into it, a webhook endpoint for chosen event types, remove a card", async () => {
    const page = ownerPage;
    const base = `/v1/organizations/${org.orgId}`;
    await open(page, "members");
    await page.getByLabel("New member's email").fill("new.hire@acme.test");
    await page.getByLabel("New member's name").fill("New Hire");
    await page.getByLabel("Role", { exact: true }).selectOption("billing");
    await page.getByRole("button", { name: "Add member" }).click();
    await page.getByText("Added new.hire@acme.test as billing.").waitFor();
    const added = ((await h.request("GET", `${base}/members`)).body["data"] as Json[]).find((m) => m["email"] === "new.hire@acme.test");
    assert.equal(added?.["role"], "billing");
    await page.waitForSelector('body[data-ready="members"]');

    await page.getByLabel("New workspace").fill("Robotics lab");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await page.getByRole("cell", { name: "Robotics lab" }).waitFor();
    const ws = ((await h.request("GET", `${base}/workspaces`)).body["data"] as Json[]).find((w) => w["name"] === "Robotics lab");
    assert.ok(ws);
    await page.getByLabel("Member to move").selectOption({ label: "new.hire@acme.test" });
    await page.getByLabel("Move to workspace").selectOption({ label: "Robotics lab" });
    await page.getByRole("button", { name: "Move member" }).click();
    await page.evaluate(CLEAR_READY);
    await page.getByTestId("confirm-ok").click();
    await page.waitForSelector('body[data-ready="members"]');
    assert.equal((await h.request("GET", `${base}/members/${String(added?.["id"])}`)).body["workspace_id"], ws["id"]);

    await open(page, "webhooks");
    await page.getByLabel("URL").fill("http://127.0.0.1:9/only-money");
    await page.getByLabel("purchase.failed").check();
    await page.getByLabel("auto_reload.failed").check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.waitForSelector('[data-testid="webhook-secret"]');
    const endpoint = ((await h.request("GET", `${base}/webhook_endpoints`)).body["data"] as Json[]).find((e) => e["url"] === "http://127.0.0.1:9/only-money");
    assert.deepEqual([...((endpoint?.["event_types"] as string[]) ?? [])].sort(), ["auto_reload.failed", "purchase.failed"]);
    await page.getByRole("region", { name: "Webhook endpoints" }).getByText("auto_reload.failed, purchase.failed").or(page.getByRole("region", { name: "Webhook endpoints" }).getByText("purchase.failed, auto_reload.failed")).waitFor();
    assert.equal((await h.request("DELETE", `${base}/webhook_endpoints/${String(endpoint?.["id"])}`)).status < 300, true);

    await open(page, "credits");
    const declined = ((await h.request("GET", `${base}/payment_methods`)).body["data"] as Json[]).find((m) => m["last4"] === "0002");
    await page.getByRole("button", { name: "Remove card visa •••• 0002" }).click();
    await page.getByRole("dialog", { name: "Remove visa •••• 0002?" }).waitFor();
    await page.evaluate(CLEAR_READY);
    await page.getByTestId("confirm-ok").click();
    await page.waitForSelector('body[data-ready="credits"]');
    assert.equal(((await h.request("GET", `${base}/payment_methods`)).body["data"] as Json[]).some((m) => m["id"] === declined?.["id"]), false, "the card is removed");
    assert.equal(await page.getByRole("button", { name: "Remove card visa •••• 0002" }).count(), 0);
  });

  test("operator console: platform-key sign-in; customers searched, each amount the API's; an organization's page; grant and void with a reason; a price book previewed (the API's figures) and published", async () => {
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const page = watch.attach(await ctx.newPage());
    try {
      await page.goto(`${h.url}/dashboard/#/operator`);
      await page.waitForSelector('body[data-ready="operator-signin"]');
      watch.expect("/v1/operator/customers", 401);
      await page.getByLabel("Platform key").fill("uck_not_a_platform_key_at_all");
      await page.getByRole("button", { name: "Open the operator console" }).click();
      await page.getByText("That is not a platform key.").waitFor();
      await page.getByLabel("Platform key").fill(h.platformKey);
      await page.getByRole("button", { name: "Open the operator console" }).click();
      await page.waitForSelector('body[data-ready="operator-customers"]');

      // Search: the rows are the API's customers, each amount the API's figure.
      await page.getByLabel("Search customers").fill("acme");
      await page.evaluate(CLEAR_READY);
      await page.getByRole("button", { name: "Search" }).click();
      await page.waitForSelector('body[data-ready="operator-customers"]');
      const customers = (await h.request("GET", "/v1/operator/customers?q=acme")).body["data"] as Json[];
      assert.ok(customers.some((c) => c["id"] === org.orgId));
      assert.equal(await page.getByRole("region", { name: "Customers" }).locator("tbody tr").count(), customers.length);
      for (const c of customers) {
        assert.equal(await text(page, `[data-testid="customer-balance"][data-org="${String(c["id"])}"]`), formatUsd(Number(c["balance"])));
        assert.equal(await text(page, `[data-testid="customer-debt"][data-org="${String(c["id"])}"]`), formatUsd(Number(c["debt"])));
        assert.equal(await text(page, `[data-testid="customer-spend"][data-org="${String(c["id"])}"]`), formatUsd(Number(c["month_spend"])));
      }
      const own = (await h.request("GET", `/v1/organizations/${org.orgId}/usage_credits`)).body;
      assert.equal(await text(page, `[data-testid="customer-balance"][data-org="${org.orgId}"]`), formatUsd(Number(own["balance"])), "the organization's own balance");
      for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
        await page.setViewportSize(viewport);
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
        assert.ok(overflow <= 0, `operator customers at ${label} width overflows by ${overflow}px`);
        assert.deepEqual(await page.evaluate(UNLABELLED), [], "every control has a label");
        await page.screenshot({ path: join(SHOTS, `operator-customers-${label}.png`), fullPage: true });
      }
      await page.setViewportSize(DESKTOP);

      // The organization's page; a goodwill adjustment granted, then voided, each with a reason.
      await page.getByRole("link", { name: "Acme Robotics" }).click();
      await page.waitForSelector('body[data-ready="operator-org"]');
      const balanceNow = async () => Number(((await h.request("GET", `/v1/organizations/${org.orgId}/usage_credits`)).body)["balance"]);
      const start = await balanceNow();
      assert.equal(await text(page, '[data-testid="org-balance"]'), formatUsd(start));
      await page.getByLabel("Kind").selectOption("adjustment");
      await page.getByLabel("Amount (USD)").fill("5");
      await page.getByLabel("Reason", { exact: true }).fill("goodwill: slow responses on 2026-03-01");
      await page.getByRole("button", { name: "Grant credits" }).click();
      await page.evaluate(CLEAR_READY);
      await page.getByTestId("confirm-ok").click();
      await page.waitForSelector('body[data-ready="operator-org"]');
      assert.equal((await balanceNow()) - start, 5 * USD, "granted once");
      assert.equal(await text(page, '[data-testid="org-balance"]'), formatUsd(start + 5 * USD));
      const row = page.getByRole("region", { name: "Grants" }).locator("tr", { hasText: "goodwill: slow responses" });
      await row.getByRole("button", { name: /^Void grant/ }).click();
      await page.getByLabel("Reason (kept in the audit log)").fill("granted twice by mistake");
      await page.evaluate(CLEAR_READY);
      await page.getByTestId("reason-ok").click();
      await page.waitForSelector('body[data-ready="operator-org"]');
      assert.equal(await balanceNow(), start, "the void took the remainder back");
      const log = (await h.request("GET", `/v1/organizations/${org.orgId}/audit_log?action=grant.voided`)).body["data"] as Json[];
      assert.equal((log[0]?.["after"] as Json)["reason"], "granted twice by mistake");
      await page.getByRole("region", { name: "Audit log" }).getByText("reason: granted twice by mistake").waitFor();
      for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
        await page.setViewportSize(viewport);
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
        assert.ok(overflow <= 0, `operator organization at ${label} width overflows by ${overflow}px`);
        await page.screenshot({ path: join(SHOTS, `operator-org-${label}.png`), fullPage: true });
      }
      await page.setViewportSize(DESKTOP);

      // Price books: a new version previewed against this month's usage (the API's figures), then published.
      await page.getByRole("link", { name: "Plans and price books" }).click();
      await page.waitForSelector('body[data-ready="operator-price-books"]');
      const before = ((await h.request("GET", "/v1/price_books")).body["data"] as Json[]).length;
      const draft = JSON.parse(await page.getByLabel("Price book (JSON)").inputValue()) as Json;
      const month = new Date(h.clock.now()).toISOString().slice(0, 7);
      const server = new Date(h.clock.now());
      const next = new Date(Date.UTC(server.getUTCFullYear(), server.getUTCMonth() + 1, 1)).toISOString().replace(".000Z", "Z");
      assert.equal(draft["effective_from"], next, "the draft takes effect on the 1st of the server's next month");
      assert.equal(draft["version"], Number(((await h.request("GET", "/v1/price_books")).body["data"] as Json[]).at(-1)?.["version"]) + 1);
      await page.getByLabel("Usage month to re-rate").fill(month);
      assert.equal(await page.getByRole("button", { name: "Publish" }).isDisabled(), true, "nothing to publish before a preview");
      await page.evaluate(CLEAR_READY);
      await page.getByRole("button", { name: "Preview against usage" }).click();
      await page.waitForSelector('body[data-ready="operator-price-books"] [data-testid="preview-proposed"]');
      const preview = (await h.request("POST", `/v1/price_books/preview?month=${month}`, { body: draft })).body;
      const totals = preview["totals"] as Json;
      assert.ok(Number(totals["requests"]) > 0, "this month's usage was re-rated");
      assert.equal(await text(page, '[data-testid="preview-proposed"]'), formatUsd(Number(totals["proposed"])));
      assert.equal(await text(page, '[data-testid="preview-current"]'), formatUsd(Number(totals["current"])));
      assert.equal(await page.getByRole("region", { name: "Price book preview" }).locator("tbody tr").count(), (preview["rows"] as Json[]).length);
      for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
        await page.setViewportSize(viewport);
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
        assert.ok(overflow <= 0, `operator price books at ${label} width overflows by ${overflow}px`);
        await page.screenshot({ path: join(SHOTS, `operator-price-books-${label}.png`), fullPage: true });
      }
      await page.setViewportSize(DESKTOP);
      await page.getByRole("button", { name: "Publish" }).click();
      await page.evaluate(CLEAR_READY);
      await page.getByTestId("confirm-ok").click();
      await page.waitForSelector('body[data-ready="operator-price-books"]');
      assert.equal(((await h.request("GET", "/v1/price_books")).body["data"] as Json[]).length, before + 1, "published once");
      await page.getByRole("region", { name: "Price books" }).getByText("Scheduled").waitFor();
    } finally {
      await ctx.close();
    }
  });

  test("operator console: plans with their versions (in force, scheduled, past), each figure the API's; an edit creates a version after confirmation; validation errors shown; a non-operator is refused", async () => {
    // A plan with a past version and one in force (PUT is a new version effective now).
    const spec = (session: number, weekly: number) => ({
      name: "Lab",
      seats: {
        standard: {
          windows: [
            { key: "five_hour", kind: "session", duration_seconds: 5 * 3600, quota: String(session) },
            { key: "seven_day", kind: "weekly", duration_seconds: 7 * 86_400, quota: String(weekly) },
          ],
          monthly_sdk_credit: String(10 * USD),
        },
      },
    });
    assert.equal((await h.request("PUT", "/v1/plans/lab", { body: spec(4 * USD, 40 * USD) })).status, 200);
    h.clock.advance(60_000);
    assert.equal((await h.request("PUT", "/v1/plans/lab", { body: spec(5 * USD, 50 * USD) })).status, 200);
    const versions = async () => (await h.request("GET", "/v1/plans/lab/versions")).body["data"] as Json[];
    const windowsText = (v: Json) => {
      const seat = ((v["definition"] as Json)["seats"] as Json)["standard"] as Json;
      return `${(seat["windows"] as Json[]).map((w) => `${String(w["key"])} ${formatUsd(Number(w["quota"]))}`).join(" · ")}; SDK credit ${formatUsd(Number(seat["monthly_sdk_credit"]))}/month`;
    };
    const STATUS: Json = { current: "In force", scheduled: "Scheduled", past: "Past" };
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const page = watch.attach(await ctx.newPage());
    try {
      await page.goto(`${h.url}/dashboard/#/operator/plans`);
      await page.waitForSelector('body[data-ready="operator-signin"]');
      await page.getByLabel("Platform key").fill(h.platformKey);
      await page.getByRole("button", { name: "Open the operator console" }).click();
      await page.waitForSelector('body[data-ready="operator-plans"]');
      // Every plan's windows as the API's version in force has them.
      const plans = (await h.request("GET", "/v1/plans")).body["data"] as Json[];
      assert.equal(await page.getByRole("region", { name: "Plans" }).locator("tbody tr").count(), plans.length);
      const lab = (await versions()).find((v) => v["status"] === "current") as Json;
      assert.equal(await text(page, '[data-testid="plan-windows"][data-plan="lab"]'), windowsText(lab));
      for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
        await page.setViewportSize(viewport);
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
        assert.ok(overflow <= 0, `operator plans at ${label} width overflows by ${overflow}px`);
        assert.deepEqual(await page.evaluate(UNLABELLED), [], "every control has a label");
        await page.screenshot({ path: join(SHOTS, `operator-plans-${label}.png`), fullPage: true });
      }
      await page.setViewportSize(DESKTOP);

      await page.getByRole("link", { name: "lab", exact: true }).click();
      await page.waitForSelector('body[data-ready="operator-plan"]');
      const checkVersions = async () => {
        const all = await versions();
        assert.equal(await page.getByRole("region", { name: "Plan versions" }).locator("tbody tr").count(), all.length);
        for (const v of all) {
          assert.equal(await text(page, `[data-testid="version-status"][data-version="${String(v["version"])}"]`), STATUS[String(v["status"])]);
          assert.equal(await text(page, `[data-testid="version-windows"][data-version="${String(v["version"])}"]`), windowsText(v));
        }
        return all;
      };
      assert.deepEqual((await checkVersions()).map((v) => v["status"]), ["past", "current"]);

      // Validation: a quota that is no amount, then a time in the past; nothing is sent.
      await page.getByTestId("quota-standard-five_hour").fill("lots");
      await page.getByRole("button", { name: "Create version" }).click();
      await page.getByText("standard five_hour quota: a dollar amount of 0 or more").waitFor();
      await page.getByTestId("quota-standard-five_hour").fill("7.50");
      const minute = (t: number) => new Date(t).toISOString().slice(0, 16);
      await page.getByLabel("Effective at (UTC)").fill(minute(h.clock.now() - 86_400_000));
      await page.getByRole("button", { name: "Create version" }).click();
      await page.getByText("Effective at: in the past").waitFor();
      assert.equal((await versions()).length, 2, "nothing sent");

      // Tomorrow: asked first (Cancel changes nothing), then created once.
      const at = h.clock.now() + 86_400_000;
      await page.getByLabel("Effective at (UTC)").fill(minute(at));
      await page.getByRole("button", { name: "Create version" }).click();
      await page.getByRole("dialog").getByText("Create version 3 of lab?").waitFor();
      await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
      assert.equal((await versions()).length, 2, "Cancel sent nothing");
      await page.getByRole("button", { name: "Create version" }).click();
      await page.evaluate(CLEAR_READY);
      await page.getByTestId("confirm-ok").click();
      await page.waitForSelector('body[data-ready="operator-plan"] [data-version="3"]');
      const after = await checkVersions();
      assert.deepEqual(after.map((v) => v["status"]), ["past", "current", "scheduled"]);
      const v3 = after[2] as Json;
      assert.equal(v3["effective_at"], `${minute(at)}:00.000Z`);
      assert.equal((((((v3["definition"] as Json)["seats"] as Json)["standard"] as Json)["windows"] as Json[])[0] as Json)["quota"], String(7_500_000));
      assert.equal(((await h.request("GET", "/v1/audit_log?action=plan_version.created")).body["data"] as Json[]).filter((e) => (e["target"] as Json)["id"] === "lab").length, 3, "each version audited");
      for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
        await page.setViewportSize(viewport);
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
        assert.ok(overflow <= 0, `operator plan at ${label} width overflows by ${overflow}px`);
        assert.deepEqual(await page.evaluate(UNLABELLED), [], "every control has a label");
        await page.screenshot({ path: join(SHOTS, `operator-plan-${label}.png`), fullPage: true });
      }

      // A member's key is no operator key: the plan page sends it back to the sign-in.
      await page.evaluate(`sessionStorage.setItem("uc.operator.key", ${JSON.stringify(org.ownerKey)})`);
      watch.expect("/v1/operator/customers", 403);
      await page.goto(`${h.url}/dashboard/?v=${++visit}#/operator/plan/lab`);
      await page.waitForSelector('body[data-ready="operator-signin"]');
      assert.equal(await page.getByRole("button", { name: "Create version" }).count(), 0);
      assert.equal((await h.request("POST", "/v1/plans/lab/versions", { key: org.ownerKey, body: spec(USD, USD) })).status, 403);
      assert.equal((await versions()).length, 3);
    } finally {
      await ctx.close();
    }
  });

  test("acceptance 3 on the older pages: every amount on Overview, Usage, Credits, Limits, Members and Payments is the API's figure for the same thing, as owner and as plain member", async () => {
    const base = `/v1/organizations/${org.orgId}`;
    // Some of everything to compare: plan and credit usage by both, a member limit, an organization limit.
    assert.equal((await gateway(org.ownerKey)).status, 200);
    assert.equal((await gateway(member.key)).status, 200);
    for (const body of [
      { scope: "member", scope_id: member.memberId, period: "monthly", amount: String(40 * USD) },
      { scope: "organization", period: "weekly", amount: String(300 * USD) },
    ]) {
      const r = await h.request("POST", `${base}/spend_limits`, { body });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    await setPassword(h, org.orgId, member.memberId, PASSWORD);
    const api = async (path: string, key: string) => {
      const r = await h.request("GET", `${base}${path}`, { key });
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const $ = (micros: unknown) => formatUsd(Number(micros));
    /** The texts of one column of a table (by its region's name), body rows in order. */
    const column = async (page: Page, region: string, index: number) =>
      (await page.getByRole("region", { name: region, exact: true }).locator(`tbody tr td:nth-child(${index + 1})`).allTextContents()).map((t) => t.trim());
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const memberPage = watch.attach(await ctx.newPage());
    try {
      await signInWith(memberPage, member.email);
      for (const [who, page, key, memberId, canBill] of [
        ["owner", ownerPage, org.ownerKey, org.ownerId, true],
        ["plain member", memberPage, member.key, member.memberId, false],
      ] as const) {
        const at = `(${who})`;
        const summary = await api("/usage_summary", key);
        const credits = summary["usage_credits"] as Json;
        const month = new Date(h.clock.now()).toISOString().slice(0, 7);

        // Overview: the balance, the organization's month spend (billing roles only), the member's own
        // month (total, paid, plan value) and every limit that applies (amount, spent, headroom).
        await open(page, "overview");
        assert.equal(await text(page, '[data-testid="balance"]'), $(credits["balance"]), `overview balance ${at}`);
        if (canBill) assert.equal(await text(page, '[data-testid="org-month-spend"]'), $(credits["used_credits"]), `overview org month spend ${at}`);
        else assert.equal(await page.getByTestId("org-month-spend").count(), 0);
        const mine = await api(`/usage?member_id=${memberId}&from=${month}-01T00:00:00Z`, key);
        assert.ok(Number(mine["total_cost"]) > 0, `${who} has usage this month`);
        assert.equal(await text(page, '[data-testid="my-usage"]'), $(mine["total_cost"]), `overview own usage ${at}`);
        assert.equal(await text(page, '[data-testid="my-paid"]'), $(mine["total_credit_cost"]), `overview own paid ${at}`);
        assert.equal(await text(page, '[data-testid="my-plan-value"]'), $(Number(mine["total_cost"]) - Number(mine["total_credit_cost"])), `overview own plan value ${at}`);
        const limits = credits["limits"] as Json[];
        assert.ok(limits.length >= 1);
        assert.deepEqual(await column(page, "Spending limits", 1), limits.map((l) => (l["amount"] === null ? "Unlimited" : $(l["amount"]))), `overview limit amounts ${at}`);
        assert.deepEqual(await column(page, "Spending limits", 2), limits.map((l) => $(l["spent"])), `overview limit spent ${at}`);
        assert.deepEqual(await column(page, "Spending limits", 3), limits.map((l) => (l["amount"] === null ? "—" : $(l["headroom"]))), `overview limit headroom ${at}`);

        // Usage: the last 30 days' totals (the organization's for billing roles, one's own otherwise).
        await open(page, "usage");
        const usage = await api(`/usage${canBill ? "" : `?member_id=${memberId}`}`, key);
        assert.equal(await text(page, '[data-testid="usage-total"]'), $(usage["total_cost"]), `usage total ${at}`);
        assert.equal(await text(page, '[data-testid="usage-paid"]'), $(usage["total_credit_cost"]), `usage paid ${at}`);
        assert.equal(await text(page, '[data-testid="usage-plan-value"]'), $(Number(usage["total_cost"]) - Number(usage["total_credit_cost"])), `usage plan value ${at}`);

        // Credits: the balance, every grant's amount and remainder (newest first), the statement's closing balance.
        await open(page, "credits");
        assert.equal(await text(page, '[data-testid="balance"]'), $(credits["balance"]), `credits balance ${at}`);
        const grants = ((await api("/grants", key))["data"] as Json[]).slice().reverse();
        assert.deepEqual(await column(page, "Grants", 2), grants.map((g) => $(g["amount"])), `grant amounts ${at}`);
        assert.deepEqual(await column(page, "Grants", 3), grants.map((g) => $(g["remaining"])), `grant remainders ${at}`);
        const statement = await api(`/statements/${month}`, key);
        assert.equal(await text(page, '[data-testid="statement-closing"]'), $(statement["closing_balance"]), `statement closing ${at}`);

        // Limits: each limit's amount, and its spend this period as the usage summary of a member it applies to.
        await open(page, "limits");
        const all = (await api("/spend_limits", key))["data"] as Json[];
        const spentOf = new Map<string, unknown>();
        for (const id of [memberId, member.memberId]) for (const l of ((await api(`/usage_summary?member_id=${id}`, org.ownerKey))["usage_credits"] as Json)["limits"] as Json[]) spentOf.set(String(l["id"]), l["spent"]);
        assert.deepEqual(await column(page, "Spending limits", 2), all.map((l) => (l["amount"] === null ? "Unlimited" : $(l["amount"]))), `limit amounts ${at}`);
        assert.deepEqual(await column(page, "Spending limits", 3), all.map((l) => (spentOf.has(String(l["id"])) ? $(spentOf.get(String(l["id"]))) : "—")), `limit spent ${at}`);

        // Members: each member's monthly limit.
        await open(page, "members");
        const members = (await api("/members", key))["data"] as Json[];
        assert.deepEqual(
          await column(page, "Members", 5),
          members.map((m) => {
            const l = all.find((x) => x["scope"] === "member" && x["scope_id"] === m["id"] && x["period"] === "monthly");
            return l ? (l["amount"] === null ? "Unlimited" : `${$(l["amount"])} / month`) : "None";
          }),
          `members' monthly limits ${at}`,
        );

        // Payments (billing roles): each payment's amount and the total paid; a plain member has no such page.
        if (canBill) {
          await open(page, "payments");
          const payments = (await api("/purchases?limit=200", key))["data"] as Json[];
          assert.ok(payments.length >= 2);
          for (const p of payments) assert.equal(await text(page, `[data-testid="payment-amount"][data-id="${String(p["id"])}"]`), $(p["amount"]), `payment ${String(p["id"])}`);
          assert.equal(await text(page, '[data-testid="payments-total"]'), $(payments.filter((p) => p["status"] === "succeeded").reduce((t, p) => t + Number(p["amount"]), 0)), "payments total");
        } else {
          assert.equal(await page.locator('nav a[href="#/payments"]').count(), 0, "no Payments page for a plain member");
        }
      }
    } finally {
      await ctx.close();
    }
  });

  test("every page at desktop and phone width: labelled controls, no horizontal overflow, screenshots saved", async () => {
    const page = ownerPage;
    // On a plan with usage windows (and one request in them), so the overview shows its gauges.
    assert.equal((await h.request("PATCH", `/v1/organizations/${org.orgId}`, { body: { plan_id: "pro" } })).status, 200);
    assert.equal((await gateway(org.ownerKey)).status, 200);
    const orgLimit = await h.request("POST", `/v1/organizations/${org.orgId}/spend_limits`, { body: { scope: "organization", period: "monthly", amount: String(500 * USD) } });
    assert.equal(orgLimit.status, 200, JSON.stringify(orgLimit.body));
    const unlabelled = () => page.evaluate(UNLABELLED) as Promise<string[]>;
    for (const name of PAGES) {
      for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
        await page.setViewportSize(viewport);
        await open(page, name);
        assert.deepEqual(await unlabelled(), [], `${name}: every control has a label`);
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
        assert.ok(overflow <= 0, `${name} at ${label} width overflows by ${overflow}px`);
        await page.screenshot({ path: join(SHOTS, `${name}-${label}.png`), fullPage: true });
      }
    }
    await page.setViewportSize(DESKTOP);
    const anon = await browser.newContext({ viewport: PHONE });
    const signin = watch.attach(await anon.newPage());
    await signin.goto(`${h.url}/dashboard/`);
    await signin.waitForSelector('body[data-ready="signin"]');
    await signin.screenshot({ path: join(SHOTS, "signin-phone.png") });
    await anon.close();
  });
});
