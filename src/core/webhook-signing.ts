// The Standard Webhooks signature (https://www.standardwebhooks.com), byte for byte as the spec
// and its reference libraries compute it, so any receiver verifies our deliveries with an
// off-the-shelf library: secret `whsec_<base64 key>`; signed content `${id}.${timestamp}.${body}`;
// header `webhook-signature: v1,<base64 HMAC-SHA256 of the content with the decoded key>`.
// Pure: Web Crypto (a web standard, like ids.ts's getRandomValues), no node:* import.

export const SECRET_PREFIX = "whsec_";
/** 24 random bytes: the spec asks for 24 to 64 (192 to 512 bits). */
const SECRET_BYTES = 24;

export interface SignedHeaders {
  readonly "webhook-id": string;
  readonly "webhook-timestamp": string;
  readonly "webhook-signature": string;
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function fromBase64(text: string): Uint8Array | null {
  try {
    const bin = atob(text);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** A new endpoint secret, shown to the customer once. */
export function newWebhookSecret(): string {
  const key = new Uint8Array(SECRET_BYTES);
  globalThis.crypto.getRandomValues(key);
  return `${SECRET_PREFIX}${toBase64(key)}`;
}

/** The signing key inside a `whsec_…` secret; null when the secret is malformed. */
export function secretKey(secret: string): Uint8Array | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const key = fromBase64(secret.slice(SECRET_PREFIX.length));
  return key && key.length > 0 ? key : null;
}

/** `v1,<base64 signature>` of `${id}.${timestampSeconds}.${body}`. */
export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const key = secretKey(secret);
  if (!key) throw new Error("malformed webhook secret (expected whsec_<base64>)");
  const hmacKey = await globalThis.crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await globalThis.crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The three headers of one delivery attempt (the timestamp is the attempt's, in whole seconds). */
export async function signedHeaders(secret: string, id: string, nowMs: number, body: string): Promise<SignedHeaders> {
  const timestamp = Math.floor(nowMs / 1000);
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": await signWebhook(secret, id, timestamp, body) };
}
