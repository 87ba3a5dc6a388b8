// Typed route declarations: the path pattern types `ctx.params` (":org_id" → `ctx.params.org_id: string`),
// the body and query schemas type `ctx.body` and `ctx.query`, and the success status is stated once
// (`success`, default 200): `ctx.ok`, `ctx.reply` and `ctx.idempotency` all answer with it.

import type { z } from "zod";
import { route, type AnyRoute, type Ctx, type Reply, type RouteDef } from "../server.js";

/** The path parameters of a route pattern: Params<"/v1/organizations/:org_id/holds/:hold_id"> = { org_id; hold_id }. */
export type Params<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { readonly [K in Name]: string } & Params<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? { readonly [K in Name]: string }
    : Record<never, string>;

export interface RouteCtx<P extends string, B, Q, Res = unknown> extends Omit<Ctx<B, Q>, "params"> {
  readonly params: Params<P>;
  /** The route's success status with this body (of the route's response schema's type, when it has one). */
  ok(body: Res): Reply;
}

export interface TypedRoute<P extends string, B, Q, Res> extends Omit<RouteDef<B, Q>, "path" | "handler" | "body" | "query" | "response"> {
  readonly path: P;
  readonly body?: z.ZodType<B>;
  readonly query?: z.ZodType<Q>;
  /** The success answer's shape: generates the OpenAPI response and types `ctx.ok`. */
  readonly response?: z.ZodType<Res>;
  readonly handler: (ctx: RouteCtx<P, B, Q, Res>) => Promise<Reply>;
}

/** What helpers shared by several handlers may use (any route's context has it). */
export type CallCtx = Pick<Ctx<unknown, unknown>, "principal" | "idempotency" | "reply" | "services" | "requestId">;

export const ORG = "/v1/organizations/:org_id";

/** Declares a route; body and query types come from their schemas, params from the path. */
export function typed<const P extends string, B = undefined, Q = Record<string, never>, Res = unknown>(def: TypedRoute<P, B, Q, Res>): AnyRoute {
  const status = def.success ?? 200;
  return route<B, Q>({
    ...def,
    // The router fills `params` from this very pattern, so every name in Params<P> is present.
    handler: (ctx) => def.handler({ ...ctx, ok: (body: Res): Reply => ({ status, body }) } as unknown as RouteCtx<P, B, Q, Res>),
  });
}
