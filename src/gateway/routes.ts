// The gateway's routes: the vendor's paths, so an official SDK pointed at this server's base URL
// works unchanged. Authenticated by the project's API keys (x-api-key or Authorization: Bearer);
// which member and organization pay comes from the key, not from the path. Proxied routes: the
// body is validated for what metering needs only and forwarded as the client's own bytes.

import { route, type AnyRoute } from "../http/route.js";
import type { Gateway } from "./gateway.js";
import { CountTokensBody, MessagesBody } from "../wire/messages.js";

export function gatewayRoutes(gateway: Gateway): AnyRoute[] {
  return [
    route<MessagesBody>({
      method: "POST",
      path: "/v1/messages",
      summary:
        "Messages API proxy: holds the worst-case cost, forwards to the upstream, streams the answer back unchanged, settles the usage it reports. Vendor error shapes and rate-limit headers.",
      tag: "Gateway",
      auth: "authenticated",
      body: MessagesBody,
      proxy: true,
      handler: (ctx) => gateway.messages(ctx),
    }),
    route<CountTokensBody>({
      method: "POST",
      path: "/v1/messages/count_tokens",
      summary: "Counts the input tokens of a Messages request (answered by the upstream; never charged).",
      tag: "Gateway",
      auth: "authenticated",
      body: CountTokensBody,
      proxy: true,
      handler: (ctx) => gateway.countTokens(ctx),
    }),
  ];
}
