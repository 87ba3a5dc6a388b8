// GET / and HEAD /: clients probe the base URL before they call (Claude Code sends `HEAD /` on
// every run), so the root answers 200 instead of 404. A browser asking for `/` is still sent to the
// dashboard when it is built (dashboard-pages.ts answers GET / before the route table).

import { route, type AnyRoute } from "../http/route.js";

export function rootRoute(): AnyRoute {
  return route({
    method: "GET",
    path: "/",
    summary: "The base URL answers (HEAD too): the service name and where its API and dashboard are. A browser is redirected to the dashboard.",
    tag: "Service",
    auth: "public",
    handler: async () => ({ status: 200, body: { service: "usage-credits", api: "/v1", openapi: "/openapi.json", dashboard: "/dashboard/" } }),
  });
}
