// What the browser suites share (test/dashboard.test.ts, test/lab-dashboard.test.ts): Debian's
// Chromium, the two viewports, where screenshots go, the in-page checks and the Watch that fails a
// test on any console error, page error, failed request or unexpected HTTP error.

import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page, Request } from "playwright-core";

export const CHROMIUM = process.env["UC_CHROMIUM"] ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"];
/** Screenshots go into docs/screenshots/ only when asked (`npm run screenshots`): a plain run changes no tracked file. */
export const RENDER_DOCS = process.env["UC_SCREENSHOTS"] === "1";
export const shotsDir = (): string => (RENDER_DOCS ? fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url)) : mkdtempSync(join(tmpdir(), "uc-screenshots-")));
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

// Run inside the page (as source text: this project's Node build has no DOM types).
export const CLEAR_READY = 'delete document.body.dataset["ready"]';
/** Visible form controls with no accessible name (no <label>, no aria-label, no button text). */
export const UNLABELLED = `[...document.querySelectorAll("input, select, textarea, button")]
  .filter((e) => e.type !== "hidden" && !e.closest("[hidden]"))
  .filter((e) => !((e.labels && e.labels.length > 0) || e.getAttribute("aria-label") || (e.tagName === "BUTTON" && e.textContent.trim() !== "")))
  .map((e) => e.outerHTML.slice(0, 120))`;
export const OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth";

/** Collects console errors, page errors, failed requests and unexpected HTTP errors of every page. */
export class Watch {
  readonly problems: string[] = [];
  private readonly expected: Array<{ path: string; status: number }> = [];
  /** A request the test itself aborts (status 0), e.g. a reload while it is in flight. */
  expectAborted(path: string): void {
    this.expected.push({ path, status: 0 });
  }
  expect(path: string, status: number): void {
    this.expected.push({ path, status });
  }
  private isExpected(url: string, status: number): boolean {
    return this.expected.some((e) => url.includes(e.path) && e.status === status);
  }
  attach(page: Page): Page {
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const status = /status of (\d{3})/.exec(m.text())?.[1];
      if (status && this.isExpected(m.location().url, Number(status))) return;
      if (/net::ERR_(ABORTED|CONNECTION_RESET)|Failed to fetch/.test(m.text()) && this.isExpected(m.location().url, 0)) return;
      this.problems.push(`console error: ${m.text()} (${m.location().url})`);
    });
    page.on("pageerror", (e) => this.problems.push(`page error: ${e.message}`));
    // A request the browser dropped because its document was left (the test reloaded or opened
    // another address while it was in flight: net::ERR_ABORTED) is not a failure of the page; one
    // aborted while its document is still the page's, or any other failure, is.
    let document = 0;
    const startedIn = new WeakMap<Request, number>();
    page.on("request", (r) => startedIn.set(r, document));
    page.on("framenavigated", (f) => {
      if (f === page.mainFrame()) document++;
    });
    page.on("requestfailed", (r) => {
      const why = r.failure()?.errorText ?? "";
      if (this.isExpected(r.url(), 0)) return;
      if (why === "net::ERR_ABORTED" && (startedIn.get(r) ?? document) < document) return;
      this.problems.push(`request failed: ${r.method()} ${r.url()} ${why}`);
    });
    page.on("response", (r) => {
      if (r.status() >= 400 && !this.isExpected(r.url(), r.status())) this.problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
    });
    return page;
  }
  check(): void {
    const found = this.problems.splice(0);
    this.expected.splice(0);
    assert.deepEqual(found, [], "no console errors or failed requests");
  }
}
