// The simulated upstream alone on its own port, speaking the provider's wire format: what the
// benchmark compares the gateway with, and what a gateway can be pointed at
// (USAGE_CREDITS_UPSTREAM=http://…) to run the real HTTP path with no provider account.

import { SimulatedUpstream, type SimulatedUpstreamOptions } from "./simulated-upstream.js";
import { serveUpstream, type ServeOptions, type WireServer } from "./wire-server.js";

export interface StandaloneUpstreamOptions extends Partial<SimulatedUpstreamOptions> {
  readonly host?: string;
  /** 0 (the default) picks a free port; the URL is in the result. */
  readonly port?: number;
  /** Sees every request's exact bytes (tests of what a gateway forwards). */
  readonly onRequest?: ServeOptions["onRequest"];
}

export function startSimulatedUpstream(options: StandaloneUpstreamOptions = {}): Promise<WireServer> {
  const upstream = new SimulatedUpstream({ latencyMs: options.latencyMs ?? 0, ...(options.chunkDelayMs !== undefined ? { chunkDelayMs: options.chunkDelayMs } : {}) });
  return serveUpstream(upstream, {
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.onRequest !== undefined ? { onRequest: options.onRequest } : {}),
    port: options.port ?? 0,
  });
}
