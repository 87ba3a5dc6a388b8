// Default plans. The vendor publishes no quotas in tokens or dollars; these are the project's
// chosen defaults, in API-price value, keeping the vendor's published ratios:
// Max 5x = 5 × Pro per session, Max 20x = 20 × Pro with no session limit, Team Standard ≈ 1.25 × Pro,
// Team Premium = 5 × Team Standard. Monthly SDK credits are the vendor's figures (DOMAIN.md §5).
// Every number is configurable (plans are rows in the store, editable over the API).

import { MICROS_PER_USD as USD } from "./money.js";
import { HOUR_MS, WEEK_MS, type PlanDef, type WindowDef } from "./plans.js";

const session = (usd: number): WindowDef => ({ key: "five_hour", kind: "session", durationMs: 5 * HOUR_MS, quota: usd * USD });
const weekly = (usd: number): WindowDef => ({ key: "seven_day", kind: "weekly", durationMs: WEEK_MS, quota: usd * USD });
const weeklyOpus = (usd: number): WindowDef => ({
  key: "seven_day_opus",
  kind: "weekly",
  durationMs: WEEK_MS,
  quota: usd * USD,
  families: ["opus"],
});

const SDK_SURFACES = ["sdk", "cli_headless", "ci"] as const;

export const DEFAULT_PLANS: readonly PlanDef[] = [
  {
    id: "free",
    name: "Free",
    seats: { standard: { windows: [session(1), weekly(5)], monthlySdkCredit: 0 } },
    creditOnlySurfaces: [...SDK_SURFACES],
  },
  {
    id: "pro",
    name: "Pro",
    seats: { standard: { windows: [session(5), weekly(50), weeklyOpus(25)], monthlySdkCredit: 20 * USD } },
    creditOnlySurfaces: [...SDK_SURFACES],
  },
  {
    id: "max_5x",
    name: "Max 5x",
    seats: { standard: { windows: [session(25), weekly(250), weeklyOpus(125)], monthlySdkCredit: 100 * USD } },
    creditOnlySurfaces: [...SDK_SURFACES],
  },
  {
    id: "max_20x",
    name: "Max 20x",
    // Top tier: no session limit, only weekly windows.
    seats: { standard: { windows: [weekly(1000), weeklyOpus(500)], monthlySdkCredit: 200 * USD } },
    creditOnlySurfaces: [...SDK_SURFACES],
  },
  {
    id: "team",
    name: "Team",
    seats: {
      standard: { windows: [session(6.25), weekly(62.5), weeklyOpus(31.25)], monthlySdkCredit: 20 * USD },
      premium: { windows: [session(31.25), weekly(312.5), weeklyOpus(156.25)], monthlySdkCredit: 100 * USD },
    },
    creditOnlySurfaces: [...SDK_SURFACES],
  },
  {
    id: "enterprise_usage",
    name: "Enterprise (usage-based)",
    // Usage-based: no included windows; every request is paid from usage credits.
    seats: { standard: { windows: [], monthlySdkCredit: 0 } },
    creditOnlySurfaces: [],
  },
];
