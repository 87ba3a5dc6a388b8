// Opaque paging cursors: a (time, id) position, base64url-encoded, for lists ordered newest first.

import { domainError } from "../core/errors.js";
import { HttpError } from "./server.js";

export function cursor(at: number, id: string): string {
  return Buffer.from(`${at}:${id}`).toString("base64url");
}

export function parseCursor(c: string | undefined): { at: number; id: string } | undefined {
  if (!c) return undefined;
  const m = /^(\d{1,16}):([a-z0-9_]{3,64})$/.exec(Buffer.from(c, "base64url").toString("utf8"));
  if (!m) throw new HttpError(domainError("invalid_request", "`before` is not a cursor returned by this API.", { field: "before" }));
  return { at: Number(m[1]), id: m[2] ?? "" };
}
