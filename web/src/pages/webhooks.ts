// Webhooks: endpoints (the signing secret is shown once, at creation), each endpoint's delivery
// log, and replay of a delivery. Owners and admins only.

import { api, ApiError, idempotencyKey } from "../api.js";
import type { Page, PageCtx } from "../context.js";
import { field, h, messageBox, section, table } from "../dom.js";
import { pretty, when } from "../format.js";
import type { Delivery, List, WebhookEndpoint } from "../wire.js";
import { EVENT_TYPES } from "../../../src/core/money-in-model.js";

const errText = (err: unknown): string => (err instanceof ApiError || err instanceof Error ? err.message : String(err));

/** The endpoint just created: its secret is shown once, above the refreshed list. */
let created: WebhookEndpoint | undefined;

export const webhooksPage: Page = async (ctx, view) => {
  if (!ctx.canManage) {
    view.append(section("Webhooks", h("p", { class: "muted" }, "Only owners and admins manage webhook endpoints.")));
    return;
  }
  const endpoints = await api<List<WebhookEndpoint>>("GET", `${ctx.base}/webhook_endpoints`);
  const logs = await Promise.all(endpoints.data.map((e) => api<List<Delivery>>("GET", `${ctx.base}/webhook_endpoints/${e.id}/deliveries?limit=20`)));
  const msg = messageBox();
  const fresh = created;
  created = undefined;
  const secretBox = fresh
    ? h(
        "div",
        { class: "secret", role: "status" },
        h("p", {}, h("strong", {}, `Endpoint added. Its signing secret, shown only once:`)),
        h("code", { "data-testid": "webhook-secret" }, fresh.secret ?? ""),
      )
    : null;
  const rows = endpoints.data.map((e) => {
    const del = h("button", { type: "button", class: "link danger", "aria-label": `Delete endpoint ${e.url}` }, "Delete");
    del.addEventListener("click", () => {
      api("DELETE", `${ctx.base}/webhook_endpoints/${e.id}`)
        .then(() => ctx.reload())
        .catch((err: unknown) => msg.error(errText(err)));
    });
    const test = h("button", { type: "button", class: "link", "aria-label": `Send a test event to ${e.url}` }, "Send test event");
    test.addEventListener("click", () => {
      msg.clear();
      test.disabled = true;
      api<Delivery>("POST", `${ctx.base}/webhook_endpoints/${e.id}/test`, undefined, { "idempotency-key": idempotencyKey() })
        .then(() => {
          msg.ok(`A webhook.test event is on its way to ${e.url}; its delivery appears in the log below.`);
          setTimeout(ctx.reload, 1500);
        })
        .catch((err: unknown) => msg.error(errText(err)))
        .finally(() => {
          test.disabled = false;
        });
    });
    return [h("span", { class: "mono" }, e.url), e.event_types ? e.event_types.join(", ") : "All events", e.description || "—", when(e.created_at), h("span", { class: "actions" }, test, del)];
  });
  view.append(section("Endpoints", secretBox, table(["URL", "Events", "Description", "Created", ""], rows, { empty: "No webhook endpoints.", label: "Webhook endpoints" }), msg, createForm(ctx)));
  endpoints.data.forEach((e, i) => view.append(deliveries(ctx, e, logs[i]?.data ?? [])));
};

function createForm(ctx: PageCtx): HTMLElement {
  const msg = messageBox();
  const url = h("input", { type: "url", name: "url", required: true, maxlength: 2048, placeholder: "https://example.com/hooks/usage-credits" });
  const description = h("input", { type: "text", name: "description", maxlength: 500 });
  // The event types come from the engine's own list (src/core/money-in-model.ts): none ticked = all events.
  const types = EVENT_TYPES.filter((t) => t !== "webhook.test").map((t) => h("input", { type: "checkbox", name: "event_type", value: t }));
  const typesBox = h(
    "fieldset",
    { class: "event-types" },
    h("legend", {}, "Events to send (none ticked: every event)"),
    ...types.map((box) => h("label", { class: "choice" }, box, ` ${box.value}`)),
  );
  const form = h("form", { novalidate: true, "aria-label": "Add a webhook endpoint" }, h("h3", {}, "Add an endpoint"), field("URL", url, "https:// (http:// only to a loopback host)."), field("Description (optional)", description), typesBox, msg, h("button", { type: "submit" }, "Add endpoint"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    if (!/^https?:\/\/\S+$/.test(url.value.trim())) return msg.error("Enter the endpoint's URL, starting with https://.");
    const chosen = types.filter((b) => b.checked).map((b) => b.value);
    api<WebhookEndpoint>("POST", `${ctx.base}/webhook_endpoints`, { url: url.value.trim(), description: description.value, ...(chosen.length > 0 ? { event_types: chosen } : {}) }, { "idempotency-key": idempotencyKey() })
      .then((w) => {
        created = w;
        ctx.reload();
      })
      .catch((err: unknown) => msg.error(errText(err)));
  });
  return form;
}

function deliveries(ctx: PageCtx, e: WebhookEndpoint, list: Delivery[]): HTMLElement {
  const msg = messageBox();
  const rows = list.map((d) => {
    const replay = h("button", { type: "button", class: "link", "aria-label": `Replay ${d.event_type} delivery` }, "Replay");
    replay.addEventListener("click", () => {
      msg.clear();
      api<Delivery>("POST", `${ctx.base}/webhook_endpoints/${e.id}/deliveries/${d.id}/replay`, undefined, { "idempotency-key": idempotencyKey() })
        .then(() => ctx.reload())
        .catch((err: unknown) => msg.error(errText(err)));
    });
    const result = d.last_status !== null ? `HTTP ${d.last_status}` : d.last_error ?? "—";
    return [pretty(d.event_type), pretty(d.status), String(d.attempts), result, when(d.delivered_at ?? d.last_attempt_at), d.replay_of ? h("span", { class: "muted" }, "(a replay)") : replay];
  });
  return section(`Deliveries to ${e.url}`, table(["Event", "Status", "Attempts", "Last result", "When", ""], rows, { empty: "No deliveries yet.", label: `Deliveries to ${e.url}` }), msg);
}
