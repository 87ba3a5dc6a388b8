// Deprecated aliases of the rename (DOMAIN.md §8), as ONE mechanism: this table maps each old path
// to the current route it serves, and the server translates field names both ways
// (core/legacy-names.ts) for any request in the old form. An old-form request is one on an old
// path, or one whose body or query uses an old field name; it is answered under the old names with
// `Deprecation` and `Link: <successor>; rel="successor-version"` headers. The OpenAPI document
// lists every alias as a deprecated operation, generated from the current route's schemas.

import { LEGACY_DEPRECATED_AT } from "../core/legacy-names.js";
import type { AnyRoute } from "./route.js";

const ORG = "/v1/organizations/:org_id";

export interface Alias {
  readonly method: AnyRoute["method"];
  /** The old path pattern (it names `extra_usage`). */
  readonly old: string;
  /** The current route's path pattern. */
  readonly current: string;
}

/** Every old path that keeps working. Adding a row here is all it takes (the alias test walks it). */
export const ALIASES: readonly Alias[] = [
  { method: "GET", old: `${ORG}/extra_usage`, current: `${ORG}/usage_credits` },
  { method: "PUT", old: `${ORG}/extra_usage`, current: `${ORG}/usage_credits` },
];

/** The deprecated routes of the alias table: the current route's definition under the old path. */
export function aliasRoutes(routes: readonly AnyRoute[]): AnyRoute[] {
  return ALIASES.map((a) => {
    const target = routes.find((r) => r.method === a.method && r.path === a.current);
    if (!target) throw new Error(`alias ${a.method} ${a.old}: no route ${a.current}`);
    return { ...target, path: a.old, summary: `Deprecated alias of ${a.method} ${a.current}. ${target.summary}`, deprecated: true, successor: a.current };
  });
}

/** The headers of an old-form answer; `successor` is the concrete current path. */
export function deprecationHeaders(successor: string): Record<string, string> {
  return {
    // RFC 9745: the date the old form was deprecated, as @<unix seconds>.
    deprecation: `@${Math.floor(LEGACY_DEPRECATED_AT / 1000)}`,
    link: `<${successor}>; rel="successor-version"`,
  };
}

/** The concrete successor of an old path: the current pattern with the request's parameters. */
export function successorPath(pattern: string, params: Record<string, string>): string {
  return pattern.replace(/:([a-z_]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
}
