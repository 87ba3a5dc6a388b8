// `usage-credits webhooks …`: webhook endpoints and their deliveries.

import { presentCreatedWebhookEndpoint, presentDelivery, presentWebhookEndpoint } from "../../presenters/webhooks.js";
import { str, opt, unwrap, table, type Command } from "./shared.js";

export const WEBHOOK_COMMANDS: readonly Command[] = [
  {
    name: "webhooks list",
    summary: "List an organization's webhook endpoints (secrets are never shown again).",
    options: { org: { type: "string", help: "organization id", required: true } },
    run: async (s, o) => {
      const eps = await s.webhooks.listEndpoints(str(o, "org"));
      return { json: { data: eps.map(presentWebhookEndpoint) }, text: table(eps.map((e) => [e.id, e.url, e.eventTypes === null ? "all events" : e.eventTypes.join(",")])) };
    },
  },
  {
    name: "webhooks create",
    summary: "Add a webhook endpoint; prints its signing secret (whsec_…) once.",
    options: {
      org: { type: "string", help: "organization id", required: true },
      url: { type: "string", help: "https:// URL (http:// only to loopback)", required: true },
      events: { type: "string", help: "comma-separated event types (default: all)" },
      description: { type: "string", help: "a note for humans" },
    },
    run: async (s, o) => {
      const events = opt(o, "events");
      const e = unwrap(
        await s.webhooks.createEndpoint(str(o, "org"), {
          url: str(o, "url"),
          eventTypes: events === undefined ? null : events.split(",").map((t) => t.trim()).filter((t) => t !== ""),
          description: opt(o, "description") ?? "",
        }),
      );
      return { json: presentCreatedWebhookEndpoint(e), text: `created ${e.id} → ${e.url}
signing secret (shown once): ${e.secret}` };
    },
  },
  {
    name: "webhooks deliveries",
    summary: "An endpoint's delivery log, newest first.",
    options: {
      org: { type: "string", help: "organization id", required: true },
      endpoint: { type: "string", help: "webhook endpoint id (whe_…)", required: true },
    },
    run: async (s, o) => {
      const list = unwrap(await s.webhooks.listDeliveries(str(o, "org"), str(o, "endpoint"), 100));
      return {
        json: { data: list.map(presentDelivery) },
        text: table(list.map((d) => [d.id, d.eventType, d.status, `attempts ${d.attempts}`, d.lastStatus === null ? "-" : String(d.lastStatus), d.lastError ?? ""])),
      };
    },
  },
];
