// The part of `serve` and `init` that prepares a database before the application opens it (a
// missing PostgreSQL database is created when the role may) and bootstraps it afterwards (demo by
// mode, the first operator key). main.ts wires it; app/bootstrap.ts decides what goes in.

import { dirname } from "node:path";
import { ensurePostgresDatabase } from "../adapters/store/postgres-create.js";
import { bootstrap, operatorKeyLines, resolveMode, type Bootstrapped } from "../app/bootstrap.js";
import type { Config } from "../config/config.js";
import type { Services } from "../app/services.js";

/** Where demo-credentials.json (and demo.env) live: beside the SQLite file; never for PostgreSQL. */
export function demoDir(config: Config): string | null {
  return config.databaseUrl.startsWith("sqlite:") ? dirname(config.databaseUrl.slice("sqlite:".length)) : null;
}

/** Creates a missing PostgreSQL database (true if it did); throws DatabaseMissing with the command to run otherwise. */
export async function prepareDatabase(config: Config): Promise<boolean> {
  return /^postgres(ql)?:\/\//.test(config.databaseUrl) ? ensurePostgresDatabase(config.databaseUrl) : false;
}

/** The mode flags `serve` and `init` share: --production / --development / --demo / --no-demo. */
export const MODE_OPTIONS = {
  production: { type: "boolean" },
  development: { type: "boolean" },
  demo: { type: "boolean" },
  "no-demo": { type: "boolean" },
} as const;

export const MODE_HELP = `  --production                production mode: no demo; the first operator key is printed once
                              (the default for a postgres:// database, or USAGE_CREDITS_MODE=production)
  --development               development mode: an empty SQLite database gets the demo organization
                              (the default for sqlite:)
  --demo                      create the demo organization even in production or on PostgreSQL
                              (only if the database has no organization yet)
  --no-demo                   never create the demo organization`;

export function modeFlag(values: { production?: boolean; development?: boolean }): string | undefined {
  if (values.production && values.development) throw new Error("--production and --development exclude each other");
  return values.production ? "production" : values.development ? "development" : undefined;
}

export async function firstStart(
  s: Services,
  config: Config,
  values: { demo?: boolean; "no-demo"?: boolean; database?: string },
): Promise<{ boot: Bootstrapped; lines: string[] }> {
  if (values.demo && values["no-demo"]) throw new Error("--demo and --no-demo exclude each other");
  const demo = values.demo ? true : values["no-demo"] ? false : null;
  const boot = await bootstrap(s, { mode: resolveMode(config.mode, config.databaseUrl), demo, dataDir: demoDir(config) });
  // A URL typed on the command line is not repeated (it may hold a password): the operator knows it.
  return { boot, lines: operatorKeyLines(boot, values.database !== undefined ? " --database <the same URL>" : "") };
}
