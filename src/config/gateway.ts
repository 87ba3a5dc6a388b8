// The gateway's settings, read from the environment by the composition root (src/app.ts), declared once in the environment schema (env.ts):
// which upstream answers Messages requests, with what key, and how patient to be with it.

import { envVar, int, invalid, parser, maybeText, readEnv, type Invalid } from "./env.js";

export interface GatewayConfig {
  /** "simulated" (the embedded default) or the provider's base URL (e.g. https://api.anthropic.com). */
  readonly upstream: "simulated" | URL;
  /** The provider key sent upstream; never the client's key. */
  readonly upstreamApiKey: string | undefined;
  /** A request to the upstream (a whole stream included) is cut after this long; gateway holds live a minute longer. */
  readonly upstreamTimeoutMs: number;
  /** The simulated upstream's time to first byte. */
  readonly simulatedLatencyMs: number;
}

/** "simulated" or an http(s) base URL (empty: simulated). */
const upstream = () =>
  parser((raw): GatewayConfig["upstream"] | Invalid => {
    if (raw === undefined || raw === "" || raw === "simulated") return "simulated";
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return invalid(`must be "simulated" or an http(s) base URL, got ${JSON.stringify(raw)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return invalid(`must be an http(s) URL, got ${JSON.stringify(raw)}`);
    return url;
  });

export const GATEWAY_ENV = {
  upstream: envVar("USAGE_CREDITS_UPSTREAM", "simulated", "who answers /v1/messages: simulated, or the provider's base URL", upstream(), { keepEmpty: true }),
  upstreamApiKey: envVar("USAGE_CREDITS_UPSTREAM_API_KEY", undefined, "the provider key the gateway sends upstream", maybeText(), { shown: "(none)" }),
  upstreamTimeoutSeconds: envVar("USAGE_CREDITS_UPSTREAM_TIMEOUT_SECONDS", "600", "longest upstream request, streams included", int(1, 86_400)),
  simulatedLatencyMs: envVar("USAGE_CREDITS_SIMULATED_LATENCY_MS", "0", "the simulated upstream's time to first byte", int(0, 600_000)),
};

export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const v = readEnv(GATEWAY_ENV, env);
  return {
    upstream: v.upstream,
    upstreamApiKey: v.upstreamApiKey,
    upstreamTimeoutMs: v.upstreamTimeoutSeconds * 1000,
    simulatedLatencyMs: v.simulatedLatencyMs,
  };
}
