// The edge's "authenticate" stage, before any byte of the body is read: an API key (x-api-key or
// Authorization: Bearer), throttled per client address after repeated failures, or a dashboard
// session cookie, whose state changes must also carry the session's CSRF token. A public route
// needs none. Then "authorize": one permission decision (app/auth.ts decide) per request.

import type { IncomingMessage } from "node:http";
import { decideAccess, type Access, type Principal } from "../app/auth.js";
import type { Services } from "../app/services.js";
import { Sessions } from "../app/sessions.js";
import { domainError } from "../core/errors.js";
import { AuthFailureLimiter } from "./auth-limiter.js";
import { CSRF_HEADER, readCookie, SESSION_COOKIE } from "./cookies.js";
import { HttpError, type AnyRoute } from "./route.js";

/** Who a public route's caller is: nobody in particular. */
const PUBLIC: Principal = { kind: "platform", keyId: "public" };

export class Authenticator {
  private readonly limiter: AuthFailureLimiter;

  constructor(
    private readonly services: Pick<Services, "admin" | "sessions" | "clock" | "metrics" | "log">,
    private readonly limit: { readonly authFailureLimit: number; readonly authFailureWindowMs: number },
  ) {
    this.limiter = new AuthFailureLimiter(limit.authFailureLimit, limit.authFailureWindowMs);
  }

  /** The caller of a matched route (a public route: PUBLIC, without looking at any credential). */
  async authenticate(req: IncomingMessage, route: AnyRoute, client: string, requestId: string): Promise<Principal> {
    if (route.auth === "public") return PUBLIC;
    const header = req.headers["x-api-key"];
    const auth = req.headers["authorization"];
    let secret = Array.isArray(header) ? header[0] : header;
    if (!secret && typeof auth === "string" && /^Bearer\s+/i.test(auth)) secret = auth.replace(/^Bearer\s+/i, "").trim();
    if (!secret) {
      const token = readCookie(req.headers["cookie"], SESSION_COOKIE);
      if (token) return this.session(req, token);
      throw new HttpError(domainError("unauthenticated", "Send your API key in the x-api-key header (or Authorization: Bearer)."));
    }
    return this.apiKey(secret, client, requestId);
  }

  private async apiKey(secret: string, client: string, requestId: string): Promise<Principal> {
    const { metrics, log } = this.services;
    // A blocked address learns nothing, not even whether this key is valid.
    const now = this.services.clock.now();
    const wait = this.limiter.blockedFor(client, now);
    if (wait > 0) {
      metrics.authFailures.inc({ outcome: "blocked" });
      throw new HttpError(
        domainError("too_many_auth_failures", "Too many failed API-key attempts from your address; wait until resets_at.", { resets_at: new Date(now + wait).toISOString() }),
      );
    }
    const principal = await this.services.admin.authenticate(secret);
    if (!principal) {
      metrics.authFailures.inc({ outcome: "invalid" });
      const failures = this.limiter.fail(client, now);
      // Once per window, at the failure that blocks; never the key itself.
      if (failures === this.limit.authFailureLimit) log.error("api key failures: address blocked", { request_id: requestId, client, failures });
      throw new HttpError(domainError("unauthenticated", "The API key is not valid or has been revoked."));
    }
    return principal;
  }

  /**
   * A dashboard session cookie yields the member's Principal, exactly as their API key would.
   * Every state change must also carry the session's CSRF token in a header, which a page on
   * another site can neither read nor set.
   */
  private async session(req: IncomingMessage, token: string): Promise<Principal> {
    const found = await this.services.sessions.resolve(token);
    if (!found) throw new HttpError(domainError("unauthenticated", "Your dashboard session has ended; sign in again."));
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      const header = req.headers[CSRF_HEADER];
      if (!Sessions.csrfMatches(found.session, Array.isArray(header) ? header[0] : header)) {
        throw new HttpError(domainError("csrf_token_invalid", `A dashboard request that changes anything must send the session's CSRF token in the ${CSRF_HEADER} header.`));
      }
    }
    return found.principal;
  }
}

/** A public route's caller acts for nobody. */
const NO_ACCESS: Access = { anyMember: false, anyHold: false };

/**
 * The "authorize" stage: one decision for the route's permission inside the organization named by
 * :org_id (or platform-wide). Another organization's ids look exactly like missing ones.
 */
export function authorize(principal: Principal, route: AnyRoute, orgId: string | undefined): Access {
  if (route.auth === "public") return NO_ACCESS;
  const { decision, access } = decideAccess(principal, orgId ?? null, route.auth === "authenticated" ? "read" : route.auth);
  if (route.auth === "authenticated") return access;
  if (decision === "not_found") throw new HttpError(domainError("not_found", `No organization ${orgId}.`));
  if (decision === "forbidden") {
    throw new HttpError(domainError("forbidden", `Your role may not do this (needs the "${route.auth}" permission).`, { needs: route.auth }));
  }
  return access;
}
