// What a first start (and `usage-credits init`) puts into a database, by mode.
//
// development (the default on SQLite, i.e. `npm start`): an empty database gets the demo
//   organization, its owner's key and an operator key (demo.ts), shown at every start.
// production (the default for a postgres:// URL, or USAGE_CREDITS_MODE=production, --production):
//   no demo, ever, unless --demo asks for it; the database's first operator key is created once
//   and its secret printed once. Later starts print no secret and say how to get a key.
//
// In both modes a database that has never had an operator key gets one (a database set up with
// --no-demo before operator keys could be created is not left without a way in).

import type { Admin, CreatedKey } from "./admin.js";
import { ensureDemo, type DemoCredentials } from "./demo.js";
import type { Engine } from "./engine.js";
import { OperatorKeys } from "./operator-keys.js";
import type { Sessions } from "./sessions.js";

export const MODES = ["development", "production"] as const;
export type Mode = (typeof MODES)[number];

/** An explicit mode wins; otherwise PostgreSQL means production and the embedded SQLite file development. */
export function resolveMode(requested: Mode | null, databaseUrl: string): Mode {
  if (requested !== null) return requested;
  return databaseUrl.startsWith("sqlite:") ? "development" : "production";
}

export interface BootstrapOptions {
  readonly mode: Mode;
  /** true: --demo (create the demo even in production or on PostgreSQL); false: --no-demo; null: by mode. */
  readonly demo: boolean | null;
  /** Where demo-credentials.json lives (SQLite only; null for PostgreSQL). */
  readonly dataDir: string | null;
}

export interface Bootstrapped {
  readonly mode: Mode;
  readonly demo: { readonly created: boolean; readonly credentials: DemoCredentials | null };
  /** The first operator key, created now (its secret is shown once), or null. */
  readonly operatorKey: CreatedKey | null;
  readonly activeOperatorKeys: number;
}

export async function bootstrap(parts: { admin: Admin; engine: Engine; sessions: Sessions }, options: BootstrapOptions): Promise<Bootstrapped> {
  const keys = new OperatorKeys(parts.admin);
  const [orgs, platformKeys] = await parts.admin.read(async (tx) => [await tx.listOrgs(1, 0), await tx.listPlatformKeys()] as const);
  // The demo is never made silently outside development on a never-used embedded database. With
  // organizations already there, ensureDemo creates nothing and shows the saved demo credentials
  // again (development's convenience); a database with an operator key but no organization was
  // set up by `init` and gets no demo either.
  const untouched = orgs.length > 0 || platformKeys.length === 0;
  const wantDemo = options.demo ?? (options.mode === "development" && options.dataDir !== null && untouched);
  const demo = wantDemo ? await ensureDemo(parts.admin, parts.engine, parts.sessions, { dataDir: options.dataDir }) : { created: false, credentials: null };
  const first = await keys.bootstrap(options.mode === "production" ? "Operator key (created at first start)" : "Operator key (created at start)");
  return { mode: options.mode, demo, operatorKey: first.created, activeOperatorKeys: first.activeKeys };
}

/**
 * Banner lines about operator keys: the new secret once, or how to get one (`cliSuffix`: how to point
 * the CLI against this database, after the command). Nothing when the demo shows its own key.
 */
export function operatorKeyLines(b: Bootstrapped, cliSuffix: string): string[] {
  if (b.operatorKey) {
    return [
      `  Operator (platform) key ${b.operatorKey.key.id} (shown once; store it now): ${b.operatorKey.secret}`,
      `  It creates organizations, grants credits and reads /metrics. More: usage-credits operator-keys --help`,
    ];
  }
  if (b.demo.credentials) return [];
  return [
    `  ${b.activeOperatorKeys} active operator key(s); secrets are shown only when a key is created.`,
    `  To get a new one: usage-credits operator-keys create${cliSuffix}`,
  ];
}
