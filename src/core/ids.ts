// Typed, prefixed identifiers from one closed map. Time-ordered (48-bit ms timestamp)
// plus 80 random bits, Crockford base32: sortable, unguessable, URL-safe.

export const ID_PREFIXES = {
  organization: "org",
  member: "mem",
  workspace: "wrk",
  apiKey: "key",
  grant: "grant",
  spendLimit: "spl",
  hold: "hold",
  transaction: "tx",
  usageEvent: "use",
  request: "req",
  priceBook: "pb",
  payment: "pay",
  paymentMethod: "pm",
  creditRequest: "creq",
  reloadAttempt: "rla",
  event: "evt",
  webhookEndpoint: "whe",
  webhookDelivery: "whd",
  auditEntry: "aud",
  session: "ses",
  messageBatch: "msgbatch",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;
export type IdPrefix = (typeof ID_PREFIXES)[IdKind];

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

function encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

// Random bytes are drawn 4 KiB at a time: one getRandomValues call per id was 8% of the hot path.
const pool = new Uint8Array(4096);
let poolAt = pool.length;
function random10(into: Uint8Array): void {
  if (poolAt + 10 > pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  into.set(pool.subarray(poolAt, poolAt + 10), 6);
  poolAt += 10;
}

export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  let t = nowMs;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  random10(bytes);
  return `${ID_PREFIXES[kind]}_${encode(bytes)}`;
}

const ID_SHAPE = /^[a-z]{2,5}_[0-9a-z]{8,40}$/;

/** True when `id` is well-formed for `kind` (existence is the store's business). */
export function isId(kind: IdKind, id: string): boolean {
  return ID_SHAPE.test(id) && id.startsWith(`${ID_PREFIXES[kind]}_`);
}
