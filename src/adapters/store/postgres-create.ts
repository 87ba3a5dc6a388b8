// Creating the PostgreSQL database a URL names, when it does not exist yet: connect with the same
// credentials to the `postgres` maintenance database and CREATE DATABASE. When the role may not
// create databases, say exactly which command someone who may should run.

import pg from "pg";

/** The database is missing and this role may not create it; `command` is what to run instead. */
export class DatabaseMissing extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
    this.name = "DatabaseMissing";
  }
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const shellWord = (w: string): string => (/^[A-Za-z0-9_.\/:@=-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

interface Target {
  readonly database: string;
  readonly user: string;
  readonly host: string;
  readonly port: string;
}

function target(url: string): Target {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  const user = decodeURIComponent(u.username) || process.env["PGUSER"] || process.env["USER"] || "postgres";
  return { database, user, host: u.hostname || "localhost", port: u.port || "5432" };
}

/** The command that creates the database for this role, to be run by a role that may (e.g. postgres). */
export function createdbCommand(url: string): string {
  const t = target(url);
  return ["createdb", "-h", t.host, "-p", t.port, "-U", "postgres", "-O", t.user, t.database].map(shellWord).join(" ");
}

/**
 * Makes sure the database exists: true if this call created it, false if it was there already.
 * Throws DatabaseMissing (with the command to run) when it is missing and cannot be created here.
 */
export async function ensurePostgresDatabase(url: string): Promise<boolean> {
  const t = target(url);
  if (t.database === "") throw new DatabaseMissing(`the database URL ${JSON.stringify(url)} names no database`, "");
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    return false;
  } catch (err) {
    if ((err as { code?: string }).code !== "3D000") throw err; // 3D000 invalid_catalog_name: no such database
  } finally {
    await probe.end().catch(() => undefined);
  }
  const maintenance = new URL(url);
  maintenance.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${quoteIdent(t.database)}`);
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    // duplicate_database, or the catalog's unique index when both CREATEs ran at once: another
    // instance starting at the same moment created it.
    if (code === "42P04" || code === "23505") return false;
    const why = code === "42501" ? `role ${JSON.stringify(t.user)} may not create databases` : (err as Error).message;
    const command = createdbCommand(url);
    throw new DatabaseMissing(`database ${JSON.stringify(t.database)} does not exist and could not be created (${why}). Create it with:\n  ${command}\nthen run this again.`, command);
  } finally {
    await admin.end().catch(() => undefined);
  }
}
