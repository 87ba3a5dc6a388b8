// Operator (platform) keys: the keys that may create organizations, grant credits and read
// /metrics. Created, listed, rotated and revoked from the CLI and the API; every change is in the
// audit log under the platform's own scope (PLATFORM_AUDIT_SCOPE), never with the secret.
//
// The first key is made by `bootstrap`: at most once per database, even when several instances
// start on one empty PostgreSQL database at the same moment (the key list is read under a lock).

import { domainError, type Result } from "../core/errors.js";
import { PLATFORM_AUDIT_SCOPE } from "../core/audit.js";
import { newId } from "../core/ids.js";
import type { ApiKeyRow, StoreTx } from "../ports/store.js";
import type { Admin, CreatedKey } from "./admin.js";
import type { AuditRecorder } from "./audit.js";
import { generateApiKey } from "./auth.js";
import type { Idempotency, Outcome } from "./batcher.js";

export interface RotatedKey {
  readonly created: CreatedKey;
  readonly revoked: ApiKeyRow;
}

const fail = <T>(code: "not_found" | "conflict", message: string): Result<T> => ({ ok: false, error: domainError(code, message) });

const active = (keys: readonly ApiKeyRow[]): ApiKeyRow[] => keys.filter((k) => k.revokedAt === null);

export class OperatorKeys {
  constructor(private readonly admin: Admin) {}

  list(): Promise<ApiKeyRow[]> {
    return this.admin.read((tx) => tx.listPlatformKeys());
  }

  async create(name: string, idem?: Idempotency<CreatedKey>): Promise<Outcome<CreatedKey>> {
    return this.admin.write(idem, async (tx, now, audit) => ({ ok: true, value: await insert(tx, now, audit, name) }));
  }

  /**
   * A new key in place of an old one, in one transaction: the new secret is returned once and the
   * old key stops working at the same commit. (For a rotation with overlap, create, switch the
   * clients over, then revoke.)
   */
  async rotate(keyId: string, idem?: Idempotency<RotatedKey>): Promise<Outcome<RotatedKey>> {
    return this.admin.write(idem, async (tx, now, audit) => {
      const old = (await tx.listPlatformKeys(true)).find((k) => k.id === keyId);
      if (!old) return fail("not_found", `No operator key ${keyId}.`);
      if (old.revokedAt !== null) return fail("conflict", `Operator key ${keyId} is already revoked; create a new one with \`usage-credits operator-keys create\`.`);
      const created = await insert(tx, now, audit, old.name);
      return { ok: true, value: { created, revoked: await revoke(tx, now, audit, old) } };
    });
  }

  /** Refuses to revoke the last active key: nobody could create organizations or another key over the API. */
  async revoke(keyId: string): Promise<Outcome<ApiKeyRow>> {
    return this.admin.write(undefined, async (tx, now, audit) => {
      const keys = await tx.listPlatformKeys(true);
      const key = keys.find((k) => k.id === keyId);
      if (!key) return fail("not_found", `No operator key ${keyId}.`);
      if (key.revokedAt !== null) return { ok: true, value: key };
      if (active(keys).length === 1) {
        return fail("conflict", `${keyId} is the last active operator key; rotate it (\`usage-credits operator-keys rotate --key ${keyId}\`) or create another first.`);
      }
      return { ok: true, value: await revoke(tx, now, audit, key) };
    });
  }

  /**
   * The database's first operator key, if it has never had one: `created` holds the secret (shown
   * once); otherwise null and the number of active keys, so the caller can say how to get one.
   */
  async bootstrap(name: string): Promise<{ created: CreatedKey | null; activeKeys: number }> {
    const out = await this.admin.write<{ created: CreatedKey | null; activeKeys: number }>(undefined, async (tx, now, audit) => {
      const keys = await tx.listPlatformKeys(true);
      if (keys.length > 0) return { ok: true, value: { created: null, activeKeys: active(keys).length } };
      return { ok: true, value: { created: await insert(tx, now, audit, name), activeKeys: 1 } };
    });
    if (out.kind !== "fresh" || !out.result.ok) throw new Error("could not bootstrap the operator key");
    return out.result.value;
  }
}

async function insert(tx: StoreTx, now: number, audit: AuditRecorder, name: string): Promise<CreatedKey> {
  const { secret, hash, prefix } = generateApiKey();
  const key: ApiKeyRow = { id: newId("apiKey", now), orgId: null, memberId: null, name, surface: "interactive", hash, prefix, createdAt: now, revokedAt: null };
  await tx.insertApiKey(key);
  audit.record({ orgId: PLATFORM_AUDIT_SCOPE, action: "operator_key.created", targetType: "api_key", targetId: key.id, before: null, after: key });
  return { key, secret };
}

async function revoke(tx: StoreTx, now: number, audit: AuditRecorder, key: ApiKeyRow): Promise<ApiKeyRow> {
  await tx.revokeApiKey(key.id, now);
  const revoked = { ...key, revokedAt: now };
  audit.record({ orgId: PLATFORM_AUDIT_SCOPE, action: "operator_key.revoked", targetType: "api_key", targetId: key.id, before: key, after: revoked });
  return revoked;
}
