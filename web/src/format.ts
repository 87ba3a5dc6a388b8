// Display formatting. Money arrives as strings of integer micro-dollars and is shown with the
// currency's two decimals by the engine's own display rule (src/core/money.ts: half-even to the
// cent, BigInt arithmetic), so no float ever touches an amount.

import { formatUsd, parseUsd } from "../../src/core/money.js";

export const usd = (micros: string | number | null | undefined): string => (micros === null || micros === undefined ? "—" : formatUsd(Number(micros)));

/** "$12.50", "12.5", "1,000" → micro-dollars (whole cents only), or null. */
export function parseDollars(text: string): number | null {
  const cleaned = text.trim().replace(/^\$/, "").replace(/,/g, "");
  if (cleaned === "") return null;
  return parseUsd(cleaned, 2);
}

/** Micro-dollars → the plain "12.50" an amount input shows. */
export const dollarsInput = (micros: string | number | null): string => (micros === null ? "" : formatUsd(Number(micros)).replace(/[$,]/g, ""));

const dateTime = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
const dateOnly = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" });
export const when = (iso: string | null | undefined): string => (iso ? `${dateTime.format(new Date(iso))} UTC` : "—");
export const day = (iso: string | null | undefined): string => (iso ? dateOnly.format(new Date(iso)) : "—");
export const int = (n: number): string => n.toLocaleString("en-US");

/** "in 3 h 12 min" style distance from now. */
export function until(iso: string | null): string {
  if (!iso) return "";
  const ms = Date.parse(iso) - serverNow();
  if (ms <= 0) return "now";
  const min = Math.round(ms / 60_000);
  if (min < 60) return `in ${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `in ${hours} h ${min % 60} min`;
  return `in ${Math.round(hours / 24)} days`;
}

export const pretty = (code: string): string => code.replace(/_/g, " ");

// The server's clock decides windows, periods and months; the browser's may differ (or, in
// tests, the server runs on a manual clock), so relative times use the server's "now".
let offsetMs = 0;
export const setServerTime = (iso: string): void => {
  offsetMs = Date.parse(iso) - Date.now();
};
export const serverNow = (): number => Date.now() + offsetMs;
