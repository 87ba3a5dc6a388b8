// `usage-credits backup`: a consistent copy of a live SQLite database, taken with SQLite's online
// backup API (better-sqlite3's `.backup()`) while the server keeps running.
//
// The copy is made under the database's write lock (BEGIN IMMEDIATE on a second connection
// of the backup's): readers carry on, writers wait for the copy (the server waits up to its 10 s busy
// timeout), so every write acknowledged before the command finishes is in the copy and none after
// it. The copy is written to a temporary file beside the target, checked (PRAGMA integrity_check,
// schema version), synced and only then renamed into place: a crash never leaves a half backup
// under the target's name. PostgreSQL has its own tools (pg_dump, pg_basebackup): see
// docs/operations.md.

import Database from "better-sqlite3";
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/config.js";

export const BACKUP_HELP = `usage-credits backup --to <file> [--database sqlite:<file>] [--json]

Copies a live SQLite database to <file> with SQLite's online backup API, consistently, while the
server keeps serving. Reads continue during the copy; writes wait for it (they are queued, not
refused, for up to 10 s), so every write acknowledged before this command finishes is in the copy.
The copy is checked (PRAGMA integrity_check) before it is renamed to <file>; <file> must not exist.
Restore: stop the server, put the copy in place of the database file (delete the old -wal and -shm
files), start the server, run \`usage-credits ledger verify\`. Details: docs/operations.md.

For PostgreSQL use pg_dump or pg_basebackup (docs/operations.md); this command refuses postgres://.

Options:
  --to <file>                 where to write the backup (required; must not exist)
  --database <url>            sqlite:<file> (default from USAGE_CREDITS_DATABASE_URL, else sqlite:./data/usage-credits.db)
  --json                      print JSON: {"source","target","bytes","schema_version","pause_ms","point_at"}
  -h, --help                  show this help

Exit status: 0 backed up; 1 the copy failed or is damaged (nothing is left at <file>); 2 usage error.
`;

export interface BackupResult {
  readonly source: string;
  readonly target: string;
  readonly bytes: number;
  readonly schema_version: number;
  /** How long writers were held back, in milliseconds (the copy itself). */
  readonly pause_ms: number;
  /** The backup's point in time: every write acknowledged before it is in the copy; none committed after it is. */
  readonly point_at: string;
}

/** Backs `source` up to `target` (see the module comment); returns what it did. */
export async function backupSqlite(source: string, target: string): Promise<BackupResult> {
  const db = new Database(source, { fileMustExist: true });
  // The write lock is held by a second connection (a backup from a connection inside its own
  // transaction writes nothing): it modifies nothing, so the copy never has to restart.
  const lock = new Database(source, { fileMustExist: true });
  const partial = `${target}.partial-${process.pid}`;
  let pointAt = 0;
  try {
    lock.pragma("busy_timeout = 10000");
    const t0 = performance.now();
    lock.exec("BEGIN IMMEDIATE"); // no commit can land between the copy's start and its end
    try {
      // All pages in one step: the copy is the database as of the moment the lock was taken.
      await db.backup(partial, { progress: ({ totalPages }) => Math.max(totalPages, 100) });
      pointAt = Date.now(); // still under the lock: whatever was acknowledged before now is in the copy
    } finally {
      lock.exec("ROLLBACK");
    }
    const pauseMs = Math.round(performance.now() - t0);
    const copy = new Database(partial, { fileMustExist: true });
    let version = 0;
    try {
      const check = copy.pragma("integrity_check", { simple: true });
      if (check !== "ok") throw new Error(`the copy failed its integrity check: ${String(check)}`);
      version = Number((copy.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number | null }).v ?? 0);
      copy.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
      copy.close();
    }
    for (const extra of ["-wal", "-shm"]) rmSync(`${partial}${extra}`, { force: true });
    const fd = openSync(partial, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, target);
    const dirFd = openSync(dirname(target), "r");
    try {
      fsyncSync(dirFd); // the rename itself survives a crash
    } finally {
      closeSync(dirFd);
    }
    return { source, target, bytes: statSync(target).size, schema_version: version, pause_ms: pauseMs, point_at: new Date(pointAt).toISOString() };
  } catch (err) {
    for (const f of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(f, { force: true });
    throw err;
  } finally {
    lock.close();
    db.close();
  }
}

export async function runBackup(args: string[]): Promise<number> {
  let values: { to?: string; database?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { to: { type: "string" }, database: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${BACKUP_HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(BACKUP_HELP);
    return 0;
  }
  const url = loadConfig(process.env, { database: values.database }).databaseUrl;
  if (!url.startsWith("sqlite:")) {
    process.stderr.write(`usage-credits backup copies SQLite databases; for ${url.split(":")[0]} use pg_dump or pg_basebackup (docs/operations.md)\n`);
    return 2;
  }
  if (!values.to) {
    process.stderr.write(`--to is required\n\n${BACKUP_HELP}`);
    return 2;
  }
  const source = url.slice("sqlite:".length);
  const target = resolve(values.to);
  if (!existsSync(source)) {
    process.stderr.write(`no database at ${source}\n`);
    return 2;
  }
  if (existsSync(target)) {
    process.stderr.write(`${target} already exists; choose a new file (a backup never overwrites one)\n`);
    return 2;
  }
  if (resolve(source) === target) {
    process.stderr.write("--to names the database itself\n");
    return 2;
  }
  let r: BackupResult;
  try {
    r = await backupSqlite(source, target);
  } catch (err) {
    process.stderr.write(`backup failed: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    values.json
      ? `${JSON.stringify(r)}\n`
      : `backed up ${r.source} to ${r.target}: ${r.bytes} bytes, schema version ${r.schema_version}, integrity ok; writes waited ${r.pause_ms} ms\n`,
  );
  return 0;
}
