// The edge's "read and validate" stage: the body's bytes are read once (bounded by maxBodyBytes),
// parsed once, walked once (scanBody: NUL characters, which PostgreSQL text cannot hold, and the
// rename's old field names, translated in the same pass), then validated by the route's schema;
// the query likewise. Runs after authentication and authorization: a refused caller's body is
// never read.

import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import { domainError } from "../core/errors.js";
import { FIELD_RENAMES, fromLegacyFields, usesLegacyFields } from "../core/legacy-names.js";
import { HttpError, type AnyRoute } from "./route.js";

const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;.*)?$/i;
/** How deep the walk goes (as the field-name translations in core/legacy-names.ts). */
const MAX_DEPTH = 64;
const OLD_FIELDS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(FIELD_RENAMES).map(([n, o]) => [o, n]));

export interface Input {
  /** The body's bytes as received (what a webhook signature is computed over). */
  readonly raw: Buffer;
  readonly body: unknown;
  readonly query: unknown;
  /** The request used the old vocabulary (an old field name in the body or the query). */
  readonly legacy: boolean;
}

/**
 * Before authentication, from the headers alone: a body declared (Content-Length) over the limit is
 * refused at once, whoever sends it, and never read.
 */
export function refuseDeclaredOversize(req: IncomingMessage, max: number): void {
  if (Number(req.headers["content-length"] ?? 0) > max) {
    req.resume();
    throw tooLarge(max);
  }
}

const tooLarge = (max: number) => new HttpError(domainError("payload_too_large", `The body may be at most ${max} bytes.`, { max_bytes: max }));

/** Reads, parses, checks and validates the body and the query of a matched request. */
export async function readInput(req: IncomingMessage, route: AnyRoute, url: URL, maxBodyBytes: number): Promise<Input> {
  const raw = await readBody(req, maxBodyBytes);
  let legacy = false;
  let body: unknown = undefined;
  if (route.body) {
    const parsed = parseJson(req, raw);
    if (route.proxy === true) {
      // Proxied bodies are the client's own (a prompt may contain anything): validated, never translated.
      body = validate(route.body, parsed, "body", true);
    } else {
      const scan = scanBody(parsed);
      if (scan.nul) throw new HttpError(domainError("invalid_request", "Strings in the body may not contain a NUL character (\\u0000)."));
      legacy = scan.legacy;
      body = validate(route.body, scan.value, "body");
    }
  } else if (raw.length > 0 && route.rawBody !== true) {
    throw new HttpError(domainError("invalid_request", "This endpoint takes no body."));
  }
  const rawQuery = Object.fromEntries(url.searchParams);
  const oldQuery = route.proxy !== true && usesLegacyFields(rawQuery);
  const query = route.query ? validate(route.query, oldQuery ? fromLegacyFields(rawQuery) : rawQuery, "query") : {};
  return { raw, body, query, legacy: legacy || oldQuery };
}

function parseJson(req: IncomingMessage, raw: Buffer): unknown {
  if (raw.length === 0) throw new HttpError(domainError("invalid_request", "This endpoint needs a JSON body."));
  if (!JSON_TYPE.test(req.headers["content-type"] ?? "")) throw new HttpError(domainError("unsupported_media_type", "Send the body as JSON with Content-Type: application/json."));
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(domainError("invalid_request", "The body is not valid JSON."));
  }
}

/**
 * One walk over a parsed body: does a string or a key hold NUL, does a key use an old field name,
 * and the value with old names translated (the new name wins when a body names a field both
 * ways). Untouched subtrees are returned as they are, not copied. To MAX_DEPTH levels.
 */
export function scanBody(value: unknown, depth = 0): { value: unknown; nul: boolean; legacy: boolean } {
  if (typeof value === "string") return { value, nul: value.includes("\u0000"), legacy: false };
  if (depth > MAX_DEPTH || value === null || typeof value !== "object") return { value, nul: false, legacy: false };
  let nul = false;
  let legacy = false;
  if (Array.isArray(value)) {
    const items = value.map((v) => {
      const r = scanBody(v, depth + 1);
      nul ||= r.nul;
      legacy ||= r.legacy;
      return r.value;
    });
    return { value: legacy ? items : value, nul, legacy };
  }
  const entries: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(value)) {
    const r = scanBody(v, depth + 1);
    nul ||= r.nul || k.includes("\u0000");
    const name = Object.hasOwn(OLD_FIELDS, k) ? (OLD_FIELDS[k] ?? k) : k;
    legacy ||= r.legacy || name !== k;
    // If a body names a field both ways, the new name wins: it is what the schema documents.
    if (name !== k && Object.hasOwn(value, name)) continue;
    entries.push([name, r.value]);
  }
  if (!legacy) return { value, nul, legacy };
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) out[k] = v;
  return { value: out, nul, legacy };
}

export function validate<T>(schema: z.ZodType<T>, value: unknown, where: "body" | "query", vendorForm = false): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message }));
  const first = issues[0];
  const message = first ? `${vendorForm ? "" : `Invalid ${where}: `}${first.path}: ${first.message}` : `Invalid ${where}.`;
  throw new HttpError(domainError("invalid_request", message, { issues }));
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? 0) > max) {
      req.resume();
      reject(tooLarge(max));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        reject(tooLarge(max));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on("error", (e) => {
      if (!failed) reject(e);
    });
  });
}
