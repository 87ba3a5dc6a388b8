// The API's route table, assembled from one module per resource (src/http/routes/): each route
// declares its permission, schemas and success status, then calls one use case.

import { aliasRoutes } from "./aliases.js";
import { buildOpenApi } from "./openapi.js";
import type { AnyRoute } from "./server.js";
import type { OpenApiDocument } from "../schemas/responses.js";
import { auditRoutes } from "./routes/audit.js";
import { catalogRoutes } from "./routes/catalog.js";
import { creditRoutes } from "./routes/credits.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { keyRoutes } from "./routes/keys.js";
import { memberRoutes } from "./routes/members.js";
import { meteringRoutes } from "./routes/metering.js";
import { moneyRoutes } from "./routes/money-in.js";
import { operatorKeyRoutes } from "./routes/operator-keys.js";
import { operatorRoutes } from "./routes/operator.js";
import { orgRoutes } from "./routes/orgs.js";
import { receiptRoutes } from "./routes/receipts.js";
import { reportingRoutes } from "./routes/reporting.js";
import { sdkCreditRoutes } from "./routes/sdk-credits.js";
import { healthz, openapiRoute, readyz } from "./routes/service.js";
import { statementRoutes } from "./routes/statements.js";
import { labRoutes } from "./routes/lab.js";
import { webhookRoutes } from "./routes/webhooks.js";

/** The route table; `extra` registers routes built elsewhere (the gateway's) so /openapi.json lists them too. */
export function apiRoutes(extra: readonly AnyRoute[] = []): AnyRoute[] {
  // Assigned below, once the whole table is known; the route answers only after that.
  let openapi: OpenApiDocument;
  const routes: AnyRoute[] = [
    healthz,
    readyz,
    openapiRoute(() => openapi),
    ...catalogRoutes,
    ...orgRoutes,
    ...memberRoutes,
    ...keyRoutes,
    ...creditRoutes,
    ...meteringRoutes,
    ...reportingRoutes,
    ...moneyRoutes(),
    ...sdkCreditRoutes(),
    ...statementRoutes(),
    ...labRoutes(),
    ...receiptRoutes(),
    ...operatorRoutes(),
    ...webhookRoutes(),
    ...auditRoutes(),
    ...operatorKeyRoutes(),
    ...dashboardRoutes(),
    ...extra,
  ];
  routes.push(...aliasRoutes(routes));
  openapi = buildOpenApi(routes);
  return routes;
}
