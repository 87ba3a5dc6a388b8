// `usage-credits operator-keys …`: operator (platform) keys from the server's machine. The CLI
// reaches the database directly, so it works when no operator key is at hand (a lost key, a
// database set up before keys could be made). Changes are audited with the CLI as the actor.

import { PLATFORM_AUDIT_SCOPE } from "../core/audit.js";
import { OperatorKeys } from "../app/operator-keys.js";
import { presentAuditEntry } from "../presenters/audit.js";
import { presentCreatedKey, presentKey } from "../presenters/core.js";
import type { Outcome } from "../app/batcher.js";
import type { Services } from "../app/services.js";
import { CliError, type Command } from "./commands.js";

function value<T>(out: Outcome<T>): T {
  if (out.kind !== "fresh") throw new CliError("replayed"); // the CLI sends no idempotency key
  if (!out.result.ok) throw new CliError(`${out.result.error.code}: ${out.result.error.message}`);
  return out.result.value;
}

const iso = (t: number | null): string => (t === null ? "" : new Date(t).toISOString());
const keys = (s: Services) => new OperatorKeys(s.admin);

export const OPERATOR_KEY_COMMANDS: readonly Command[] = [
  {
    name: "operator-keys list",
    summary: "List operator (platform) keys, revoked ones included (never their secrets).",
    options: {},
    run: async (s) => {
      const ks = await keys(s).list();
      const rows = [["ID", "PREFIX", "NAME", "CREATED", "REVOKED"], ...ks.map((k) => [k.id, k.prefix, k.name, iso(k.createdAt), iso(k.revokedAt)])];
      const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
      return { json: ks.map(presentKey), text: ks.length === 0 ? "(none)" : rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd()).join("\n") };
    },
  },
  {
    name: "operator-keys create",
    summary: "Create an operator (platform) key; the secret is printed once.",
    options: { name: { type: "string", help: "a label, e.g. who or what uses the key (default \"Operator key\")" } },
    run: async (s, o) => {
      const created = value(await keys(s).create(typeof o["name"] === "string" ? o["name"] : "Operator key"));
      return { json: presentCreatedKey(created), text: `created operator key ${created.key.id}\noperator key (shown once): ${created.secret}` };
    },
  },
  {
    name: "operator-keys rotate",
    summary: "Replace an operator key: prints the new secret once; the old key stops working at the same moment.",
    options: { key: { type: "string", help: "operator key id (key_…)", required: true } },
    details: "For a rotation with overlap (clients switched over one by one), use `operator-keys create`, move the clients, then `operator-keys revoke`.",
    run: async (s, o) => {
      const { created, revoked } = value(await keys(s).rotate(String(o["key"])));
      return {
        json: { ...presentCreatedKey(created), replaces: presentKey(revoked) },
        text: `revoked ${revoked.id}; created operator key ${created.key.id}\noperator key (shown once): ${created.secret}`,
      };
    },
  },
  {
    name: "operator-keys revoke",
    summary: "Revoke an operator key (refused for the last active one: rotate it instead).",
    options: { key: { type: "string", help: "operator key id (key_…)", required: true } },
    run: async (s, o) => {
      const k = value(await keys(s).revoke(String(o["key"])));
      return { json: presentKey(k), text: `revoked ${k.id}` };
    },
  },
  {
    name: "operator-keys audit",
    summary: "The platform's audit log: operator keys created and revoked, by whom and when, newest first.",
    options: { limit: { type: "string", help: "how many entries (default 100)" } },
    run: async (s, o) => {
      const limit = Number(typeof o["limit"] === "string" ? o["limit"] : 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliError("--limit must be an integer from 1 to 10000");
      const rows = await s.admin.auditEntries({ orgId: PLATFORM_AUDIT_SCOPE, limit });
      return {
        json: rows.map(presentAuditEntry),
        text: rows.length === 0 ? "(none)" : rows.map((e) => `${iso(e.at)}  ${e.action.padEnd(21)} ${e.targetId}  by ${e.actor.type}${e.actor.id ? ` ${e.actor.id}` : ""}`).join("\n"),
      };
    },
  },
];
