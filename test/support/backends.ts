// Real databases for tests: a fresh SQLite file per store, a fresh PostgreSQL database per store
// (created on the server named by UC_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres, and
// dropped afterwards). PostgreSQL suites never skip silently: if the server cannot be reached the
// suite fails with a message, unless UC_SKIP_PG=1 is set outside CI, which prints a loud warning.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openPostgres } from "../../src/adapters/store/postgres-driver.js";
import { openSqlite } from "../../src/adapters/store/sqlite-driver.js";
import { SqlStore } from "../../src/adapters/store/sql-store.js";
import type { Store } from "../../src/ports/store.js";

export const PG_ADMIN_URL = process.env["UC_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface Backend {
  readonly name: "sqlite" | "postgres";
  /** A new empty database; returns its URL (sqlite:<file> or postgres://…). */
  createDatabase(): Promise<string>;
  /** Drops every database this backend created. */
  cleanup(): Promise<void>;
}

export function pgSkipped(): boolean {
  if (process.env["UC_SKIP_PG"] === "1" && process.env["CI"] !== "true") {
    process.stderr.write("\n!!! UC_SKIP_PG=1: PostgreSQL suites are NOT running. Never use this in CI. !!!\n\n");
    return true;
  }
  return false;
}

export const sqliteBackend = (): Backend => {
  const dirs: string[] = [];
  return {
    name: "sqlite",
    async createDatabase() {
      const dir = mkdtempSync(join(tmpdir(), "uc-test-"));
      dirs.push(dir);
      return `sqlite:${join(dir, "test.db")}`;
    },
    async cleanup() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
};

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export const postgresBackend = (): Backend => {
  const created: string[] = [];
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
    try {
      await c.connect();
    } catch (err) {
      throw new Error(
        `PostgreSQL is not reachable at ${PG_ADMIN_URL} (${(err as Error).message}). The PostgreSQL suites must run: start the server ` +
          "(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or point UC_TEST_PG_URL at one.",
      );
    }
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    name: "postgres",
    async createDatabase() {
      const name = `uc_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      created.push(name);
      return withDatabase(PG_ADMIN_URL, name);
    },
    async cleanup() {
      const names = created.splice(0);
      if (names.length === 0) return;
      await admin(async (c) => {
        for (const n of names) await c.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`);
      });
    },
  };
};

/** The backends every shared suite runs against. */
export function backends(): Backend[] {
  return pgSkipped() ? [sqliteBackend()] : [sqliteBackend(), postgresBackend()];
}

export async function openTestStore(url: string, poolSize = 8): Promise<Store> {
  if (url.startsWith("sqlite:")) return SqlStore.open(openSqlite(url.slice(7)));
  return SqlStore.open(openPostgres(url, poolSize));
}
