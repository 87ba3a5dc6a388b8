// Webhook endpoints and deliveries as plain data, and the pure decisions on them: which URLs an
// endpoint may have (HTTPS; plain HTTP only to loopback; no private networks unless the operator
// allows them — a webhook URL is customer input the server will POST to, the classic SSRF),
// which endpoints get an event, and when a failed delivery is tried again.

import { domainError, type Result } from "./errors.js";
import { EVENT_TYPES, type EventType } from "./money-in-model.js";
import { currentEventType, legacyEventType } from "./legacy-names.js";
import { isOneOf } from "./one-of.js";

export interface WebhookEndpoint {
  readonly id: string;
  readonly orgId: string;
  readonly url: string;
  /** The event types delivered; null = every type (including types added later). */
  /** Subscribed event types (null: all); an old name (extra_usage.*) subscribes to its renamed event. */
  readonly eventTypes: readonly string[] | null;
  /** `whsec_<base64>`: kept in clear (it signs every delivery), shown to the customer once. */
  readonly secret: string;
  readonly description: string;
  readonly createdAt: number;
  readonly deletedAt: number | null;
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

/** One event for one endpoint: attempted until delivered or the retry schedule runs out. */
export interface WebhookDelivery {
  readonly id: string;
  readonly orgId: string;
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventType: EventType;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  /** When the next attempt is due (pending only); also the lease of an attempt in flight. */
  readonly nextAttemptAt: number | null;
  /** The receiver's HTTP status of the last attempt (null: no answer). */
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly lastAttemptAt: number | null;
  readonly deliveredAt: number | null;
  /** The delivery this one replays (same event, same webhook-id), if any. */
  readonly replayOf: string | null;
  readonly createdAt: number;
}

/** Delays after the 1st, 2nd, … failed attempt; when they run out the delivery is failed. */
export interface RetryPolicy {
  readonly scheduleMs: readonly number[];
}

export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 30, 120, 600, 3600, 21_600, 86_400];

/** When to try again after `attempts` failed attempts, or null: give up (the delivery is failed). */
export function nextAttemptAt(policy: RetryPolicy, attempts: number, now: number): number | null {
  const delay = policy.scheduleMs[attempts - 1];
  return delay === undefined ? null : now + delay;
}

export function wantsEvent(endpoint: WebhookEndpoint, type: EventType, at: number): boolean {
  // An endpoint receives what happens once it exists, never history.
  if (endpoint.deletedAt !== null || endpoint.createdAt > at) return false;
  if (endpoint.eventTypes === null || endpoint.eventTypes.includes(type)) return true;
  const old = legacyEventType(type);
  return old !== undefined && endpoint.eventTypes.includes(old);
}

/**
 * The event type an endpoint receives: the old name if it subscribed by the old name only and the
 * deprecation period (USAGE_CREDITS_WEBHOOK_LEGACY_EVENTS_UNTIL) has not ended; else the current one.
 */
export function deliveredEventType(endpoint: WebhookEndpoint, type: EventType, now: number, legacyUntil: number): string {
  const old = legacyEventType(type);
  if (old === undefined || now >= legacyUntil || endpoint.eventTypes === null || endpoint.eventTypes.includes(type)) return type;
  return endpoint.eventTypes.includes(old) ? old : type;
}

export function isEventType(t: string): t is EventType {
  return isOneOf<EventType>(EVENT_TYPES, t);
}

/** A name an endpoint may subscribe to: a current event type or a deprecated old one. */
export function isSubscribableEventType(t: string): boolean {
  return isEventType(t) || isEventType(currentEventType(t));
}

// ------------------------------------------------------------------ URLs and addresses

export interface UrlPolicy {
  /** Allow loopback, private, link-local and other non-public addresses (development, tests). */
  readonly allowPrivateNetworks: boolean;
}

const LOOPBACK_NAMES = new Set(["localhost", "localhost."]);

function ipv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out.push(v);
  }
  return out;
}

/**
 * True for every address a webhook must not reach by default: unspecified, loopback (127/8, ::1),
 * RFC 1918, carrier-grade NAT (100.64/10), link-local (169.254/16: cloud metadata endpoints),
 * benchmarking, documentation, multicast and reserved ranges, IPv6 unique-local (fc00::/7) and
 * link-local (fe80::/10), and IPv4-mapped forms of all of these. Unparseable input counts as private.
 */
export function isPrivateAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, "");
  const v4 = ipv4(a);
  if (v4) {
    const [x = 0, y = 0] = v4;
    return (
      x === 0 || x === 10 || x === 127 || x >= 224 ||
      (x === 100 && y >= 64 && y <= 127) ||
      (x === 169 && y === 254) ||
      (x === 172 && y >= 16 && y <= 31) ||
      (x === 192 && y === 168) ||
      (x === 192 && y === 0) ||
      (x === 198 && (y === 18 || y === 19)) ||
      (x === 198 && y === 51) ||
      (x === 203 && y === 0)
    );
  }
  const h = ipv6(a);
  if (!h) return true;
  const [h0 = 0, h1 = 0, , , , h5 = 0, h6 = 0, h7 = 0] = h;
  const zeroTo = (n: number) => h.slice(0, n).every((x) => x === 0);
  if (zeroTo(5) && h5 === 0xffff) return isPrivateAddress(`${h6 >> 8}.${h6 & 255}.${h7 >> 8}.${h7 & 255}`); // IPv4-mapped
  if (zeroTo(6)) return true; // ::, ::1 and the deprecated IPv4-compatible form
  return (
    (h0 & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (h0 & 0xffc0) === 0xfe80 || // link local fe80::/10
    (h0 & 0xff00) === 0xff00 || // multicast
    (h0 === 0x2001 && h1 === 0x0db8) || // documentation
    (h0 === 0x0064 && h1 === 0xff9b) || // NAT64 (embeds any IPv4 address)
    h0 === 0x2002 // 6to4 (embeds any IPv4 address)
  );
}

/** The 8 hextets of an IPv6 address (with an optional trailing dotted IPv4 part), or null. */
function ipv6(text: string): number[] | null {
  let t = text.split("%")[0] ?? "";
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (dotted) {
    const v4 = ipv4(dotted[2] ?? "");
    if (!v4) return null;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    tail.push((a << 8) | b, (c << 8) | d);
    const pre = dotted[1] ?? "";
    t = pre.endsWith("::") ? pre : pre.slice(0, -1);
  }
  const halves = t.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] ?? "");
  const rest = halves.length === 2 ? parse(halves[1] ?? "") : [];
  if (!head || !rest) return null;
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  return [...head, ...Array.from({ length: 8 - given }, () => 0), ...rest, ...tail];
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (LOOPBACK_NAMES.has(h) || h === "::1") return true;
  const v4 = ipv4(h);
  return v4 !== null && v4[0] === 127;
}

const isIpLiteral = (host: string): boolean => ipv4(host) !== null || host.startsWith("[");

/**
 * Checks an endpoint URL: https, or http to a loopback host (local receivers; plain text never
 * crosses a network); no credentials in the URL; no literal private address or localhost unless
 * private networks are allowed. Host names are checked again at every attempt, after DNS
 * resolution, by the sender (a public name may point at a private address).
 */
export function checkEndpointUrl(raw: string, policy: UrlPolicy): Result<string> {
  const bad = (reason: string, message: string): Result<string> => ({ ok: false, error: domainError("invalid_request", message, { field: "url", reason }) });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return bad("not_a_url", "url must be an absolute http(s) URL.");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return bad("scheme_not_allowed", "url must use https (http only to a loopback host).");
  if (url.username !== "" || url.password !== "") return bad("credentials_in_url", "url may not contain a user name or password.");
  if (url.hash !== "") return bad("fragment_in_url", "url may not contain a #fragment.");
  const host = url.hostname;
  const loopback = isLoopbackHost(host);
  if (url.protocol === "http:" && !loopback) return bad("https_required", "url must use https; plain http is allowed only to a loopback host (127.0.0.1, ::1, localhost).");
  const privateTarget = loopback || (isIpLiteral(host) && isPrivateAddress(host)) || host.endsWith(".localhost") || host.endsWith(".internal") || host.endsWith(".local");
  if (privateTarget && !policy.allowPrivateNetworks) {
    return bad("private_address", "url points at a loopback or private network address; the server refuses these unless USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.");
  }
  return { ok: true, value: url.href };
}
