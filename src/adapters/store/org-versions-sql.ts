// organizations.version (migration 15): a counter the DATABASE raises whenever anything a money
// batch's snapshot reads of that organization changes, whoever writes it — this process, the CLI on
// the same SQLite file, another instance on PostgreSQL, an admin write, an import, a sweep, a
// migration's data fix. The batcher's per-organization cache (app/hot-orgs.ts) decides a batch on
// cached state only if every organization's version is still the one it cached (checked inside the
// batch's own transaction, under the write lock); a writer cannot forget to raise it, because
// triggers do it, not the store's callers.
//
// What raises it: any INSERT, UPDATE or DELETE on organizations (the row itself), members, grants,
// holds, spend_limits, spend_days and window_usage (through the member's organization), and on
// plan_versions (every organization on that plan). A table rebuilt by a later migration (SQLite's
// copy-and-rename) loses its triggers: such a migration must recreate them (test/hot-orgs.test.ts
// checks they exist on the latest schema). TRUNCATE bypasses them on PostgreSQL; nothing truncates.

import type { Queryable } from "./driver.js";
import { inList } from "./sql-bulk.js";
import { n, s } from "./sql-values.js";

/** Tables with an org_id column whose rows are part of an organization's snapshot. */
const BY_ORG = ["members", "grants", "holds", "spend_limits", "spend_days"] as const;
const EVENTS = ["INSERT", "UPDATE", "DELETE"] as const;

/** What a trigger row's organization is, per table (SQLite: NEW/OLD are the row). */
const sqliteOrgOf = (table: string, row: "NEW" | "OLD"): string => {
  if (table === "window_usage") return `id = (SELECT org_id FROM members WHERE id = ${row}.member_id)`;
  if (table === "plan_versions") return `plan_id = ${row}.plan_id`;
  return `id = ${row}.org_id`;
};

function sqliteTriggers(): string[] {
  const out: string[] = [
    // The row itself (debt, plan, flags): raised once per UPDATE that did not set the version.
    `CREATE TRIGGER org_version_self AFTER UPDATE ON organizations WHEN NEW.version = OLD.version
      BEGIN UPDATE organizations SET version = OLD.version + 1 WHERE id = NEW.id; END`,
  ];
  for (const table of [...BY_ORG, "window_usage", "plan_versions"]) {
    for (const ev of EVENTS) {
      const where = ev === "INSERT" ? sqliteOrgOf(table, "NEW") : ev === "DELETE" ? sqliteOrgOf(table, "OLD") : `(${sqliteOrgOf(table, "NEW")}) OR (${sqliteOrgOf(table, "OLD")})`;
      out.push(`CREATE TRIGGER org_version_${table}_${ev.toLowerCase()} AFTER ${ev} ON ${table}
        BEGIN UPDATE organizations SET version = version + 1 WHERE ${where}; END`);
    }
  }
  return out;
}

/** PostgreSQL: statement-level triggers over the transition table (one UPDATE per statement, not per row). */
function postgresTriggers(): string[] {
  // Rows are locked in id order first, as every batch locks them, so a trigger never deadlocks a batch.
  const fn = (name: string, orgIds: string) => `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM 1 FROM organizations WHERE id IN (${orgIds}) ORDER BY id FOR UPDATE;
      UPDATE organizations SET version = version + 1 WHERE id IN (${orgIds});
      RETURN NULL;
    END $$`;
  const out: string[] = [
    `CREATE FUNCTION org_version_self() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.version = OLD.version THEN NEW.version := OLD.version + 1; END IF;
        RETURN NEW;
      END $$`,
    `CREATE TRIGGER org_version_self BEFORE UPDATE ON organizations FOR EACH ROW EXECUTE FUNCTION org_version_self()`,
    fn("org_version_by_org", "SELECT org_id FROM changed"),
    fn("org_version_by_member", "SELECT m.org_id FROM members m WHERE m.id IN (SELECT member_id FROM changed)"),
    fn("org_version_by_plan", "SELECT o.id FROM organizations o WHERE o.plan_id IN (SELECT plan_id FROM changed)"),
  ];
  const fnOf = (table: string) => (table === "window_usage" ? "org_version_by_member" : table === "plan_versions" ? "org_version_by_plan" : "org_version_by_org");
  for (const table of [...BY_ORG, "window_usage", "plan_versions"]) {
    for (const ev of EVENTS) {
      // A transition table per event (PostgreSQL allows one event per trigger that has one).
      const ref = ev === "DELETE" ? "OLD TABLE AS changed" : "NEW TABLE AS changed";
      out.push(`CREATE TRIGGER org_version_${table}_${ev.toLowerCase()} AFTER ${ev} ON ${table} REFERENCING ${ref} FOR EACH STATEMENT EXECUTE FUNCTION ${fnOf(table)}()`);
    }
  }
  return out;
}

/** Migration 15's statements: the column (both engines) and each engine's triggers. */
export const ORG_VERSION_MIGRATION = {
  statements: [`ALTER TABLE organizations ADD COLUMN version BIGINT NOT NULL DEFAULT 0`],
  engine: { sqlite: sqliteTriggers(), postgres: postgresTriggers() },
};

/** The trigger names migration 15 creates (the same on both engines). */
export const ORG_VERSION_TRIGGERS: readonly string[] = ["org_version_self", ...[...BY_ORG, "window_usage", "plan_versions"].flatMap((t) => EVENTS.map((e) => `org_version_${t}_${e.toLowerCase()}`))];

/** The organizations' versions as they stand in this transaction. */
export async function readOrgVersions(q: Queryable, orgIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await inList(q, (l) => `SELECT id, version FROM organizations WHERE id IN (${l})`, [...new Set(orgIds)]);
  return new Map(rows.map((r) => [s(r["id"]), n(r["version"])]));
}
