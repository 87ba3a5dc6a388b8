// What `npm test` needs from the machine, found or provisioned before any suite starts, so that a
// fresh machine of the project's kind (Debian, PostgreSQL as it comes, no browser) runs the whole
// suite with nothing installed by hand, and a machine that cannot says so in one line and fails:
//
// - Chromium for the dashboard's browser suite: Debian's `chromium` package (playwright-core
//   downloads no browser, and neither do we). Missing and root → `apt-get update` then
//   `apt-get install -y chromium`; missing otherwise → the command to run, and the run fails.
// - PostgreSQL for the PostgreSQL suites: the server named by UC_TEST_PG_URL (default
//   postgres://postgres@127.0.0.1:5432/postgres) if it accepts us; else, when PostgreSQL's server
//   binaries are installed, a private cluster (initdb + pg_ctl into a temporary directory, trust
//   authentication, a free loopback port; test/support/private-postgres.ts) for this run only;
//   else the command to run, and the run fails (UC_SKIP_PG=1 outside CI skips them, loudly).
//
// The decisions are plain functions of what was found (tested in test/provision.test.ts); the
// effects (running apt-get, starting a cluster) are the caller's.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const DEFAULT_CHROMIUM = "/usr/bin/chromium";
export const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const APT_INSTALL = ["apt-get", "install", "-y", "chromium"];

/**
 * What to do about the browser.
 * @param {{ path: string, fromEnv: boolean, exists: (p: string) => boolean, isRoot: boolean, hasAptGet: boolean }} found
 * @returns {{ action: "ok" } | { action: "install", commands: string[][] } | { action: "fail", message: string }}
 */
export function chromiumPlan(found) {
  if (found.exists(found.path)) return { action: "ok" };
  if (found.fromEnv) {
    return { action: "fail", message: `Chromium is missing: UC_CHROMIUM=${found.path} does not exist; unset it to use Debian's ${DEFAULT_CHROMIUM} (apt-get install -y chromium), or point it at a Chromium binary.` };
  }
  if (found.isRoot && found.hasAptGet) return { action: "install", commands: [["apt-get", "update"], APT_INSTALL] };
  const how = found.hasAptGet ? `sudo ${APT_INSTALL.join(" ")}` : "install your distribution's chromium package and set UC_CHROMIUM to its binary";
  return { action: "fail", message: `Chromium is missing: the dashboard's browser suite needs ${DEFAULT_CHROMIUM}; run: ${how} (npm test does it itself when run as root).` };
}

/**
 * What to do about PostgreSQL.
 * @param {{ url: string, fromEnv: boolean, connects: boolean, reason: string, binDir: string | null, skip: boolean }} found
 * @returns {{ action: "ok" } | { action: "private", why: string } | { action: "skip" } | { action: "fail", message: string }}
 */
export function postgresPlan(found) {
  if (found.connects) return { action: "ok" };
  const where = new URL(found.url).host;
  if (found.skip) return { action: "skip" };
  // A server named on purpose (UC_TEST_PG_URL) that does not answer is a mistake to report, not to
  // work around with another server.
  if (found.binDir && !found.fromEnv) return { action: "private", why: `PostgreSQL at ${where} ${found.reason}` };
  if (found.fromEnv) return { action: "fail", message: `PostgreSQL at ${where} (UC_TEST_PG_URL) ${found.reason}: start it, or unset UC_TEST_PG_URL to let npm test use 127.0.0.1:5432 or a private cluster.` };
  return { action: "fail", message: `PostgreSQL is missing: ${where} ${found.reason} and no server binaries (initdb) were found; run: sudo apt-get install -y postgresql (npm test then starts a private cluster when no server accepts it).` };
}

/** The directory with initdb and pg_ctl: UC_PG_BIN, else the newest /usr/lib/postgresql/<v>/bin. */
export function findPgBin(env = process.env) {
  if (env.UC_PG_BIN) return existsSync(join(env.UC_PG_BIN, "initdb")) ? env.UC_PG_BIN : null;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin");
  return null;
}
