// GET /metrics: the Prometheus text exposition of this instance's metrics (src/app/metrics.ts).
// It needs a platform key (Prometheus sends one with `authorization: credentials`), unless
// USAGE_CREDITS_METRICS_PUBLIC=true opens it for a scraper on a private network. Registered by
// the composition root, which knows that setting.

import { route, type AnyRoute } from "../server.js";

export function metricsRoute(publicAccess: boolean): AnyRoute {
  return route({
    method: "GET",
    path: "/metrics",
    summary: "Prometheus metrics of this instance: requests, latencies, batch sizes, queue depth, pending holds, auto-reload and webhook outcomes, memory. Needs a platform key unless USAGE_CREDITS_METRICS_PUBLIC=true.",
    tag: "Service",
    auth: publicAccess ? "public" : "platform",
    handler: async (ctx) => {
      const { metrics, admin } = ctx.services;
      metrics.holdsPending.set([{ labels: {}, value: await admin.pendingHoldCount() }]);
      const text = metrics.render();
      return {
        status: 200,
        body: null,
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": String(Buffer.byteLength(text)) },
        write: async (res) => {
          res.end(text);
        },
      };
    },
  });
}
