// The gateway's settings, read from the environment by the composition root (src/config.ts):
// which upstream answers Messages requests, with what key, and how patient to be with it.

import { envInt } from "./env.js";

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

export const GATEWAY_ENV_HELP: ReadonlyArray<[string, string, string]> = [
  ["USAGE_CREDITS_UPSTREAM", "simulated", "who answers /v1/messages: simulated, or the provider's base URL"],
  ["USAGE_CREDITS_UPSTREAM_API_KEY", "(none)", "the provider key the gateway sends upstream"],
  ["USAGE_CREDITS_UPSTREAM_TIMEOUT_SECONDS", "600", "longest upstream request, streams included"],
  ["USAGE_CREDITS_SIMULATED_LATENCY_MS", "0", "the simulated upstream's time to first byte"],
];


export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const raw = env["USAGE_CREDITS_UPSTREAM"] ?? "simulated";
  let upstream: GatewayConfig["upstream"] = "simulated";
  if (raw !== "simulated" && raw !== "") {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`USAGE_CREDITS_UPSTREAM must be "simulated" or an http(s) base URL, got ${JSON.stringify(raw)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`USAGE_CREDITS_UPSTREAM must be an http(s) URL, got ${JSON.stringify(raw)}`);
    upstream = url;
  }
  const key = env["USAGE_CREDITS_UPSTREAM_API_KEY"];
  return {
    upstream,
    upstreamApiKey: key === undefined || key === "" ? undefined : key,
    upstreamTimeoutMs: envInt(env, "USAGE_CREDITS_UPSTREAM_TIMEOUT_SECONDS", 600, 1, 86_400) * 1000,
    simulatedLatencyMs: envInt(env, "USAGE_CREDITS_SIMULATED_LATENCY_MS", 0, 0, 600_000),
  };
}
