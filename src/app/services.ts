// What the edge (src/http, src/gateway) and the command line are given: the use cases, wired once
// in the composition root (src/app.ts). An app-layer type, so nothing needs the HTTP server to name it.

import type { Admin } from "./admin.js";
import type { Catalog } from "./catalog.js";
import type { Engine } from "./engine.js";
import type { Metrics } from "./metrics.js";
import type { MoneyIn } from "./money-in/index.js";
import type { Operator } from "./operator.js";
import type { Receipts } from "./receipts.js";
import type { Sessions } from "./sessions.js";
import type { Webhooks } from "./webhooks/index.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Store } from "../ports/store.js";

export interface Services {
  readonly store: Store;
  readonly engine: Engine;
  readonly admin: Admin;
  readonly catalog: Catalog;
  readonly clock: Clock;
  readonly log: Logger;
  readonly moneyIn: MoneyIn;
  readonly webhooks: Webhooks;
  readonly metrics: Metrics;
  /** `draining` turns true when shutdown starts: /readyz answers 503 and connections close after their response. */
  readonly lifecycle: { draining: boolean };
  readonly sessions: Sessions;
  /** Receipts and statement PDFs, with the seller's details from configuration. */
  readonly receipts: Receipts;
  /** The operator console's use cases (customers, price-book preview). */
  readonly operator: Operator;
}
