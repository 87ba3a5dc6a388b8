import assert from "node:assert/strict";
import { test } from "node:test";
import { currentEventType, fromLegacyFields, toLegacyFields, usesLegacyFields, withLegacyFields } from "./legacy-names.js";
import { deliveredEventType, isSubscribableEventType, wantsEvent, type WebhookEndpoint } from "./webhooks.js";

test("field names translate both ways, recursively, and never through Object.prototype", () => {
  const current = { usage_credits: { is_enabled: true }, data: [{ usage_credits_enabled: false }], constructor: 1 };
  const old = { extra_usage: { is_enabled: true }, data: [{ extra_usage_enabled: false }], constructor: 1 };
  assert.deepEqual(toLegacyFields(current), old);
  assert.deepEqual(fromLegacyFields(old), current);
  assert.equal(usesLegacyFields(old), true);
  assert.equal(usesLegacyFields(current), false);
  assert.deepEqual(withLegacyFields({ usage_credits_enabled: true }), { usage_credits_enabled: true, extra_usage_enabled: true });
  // Both names in one body: the new one wins.
  assert.deepEqual(fromLegacyFields({ extra_usage_enabled: false, usage_credits_enabled: true }), { usage_credits_enabled: true });
});

test("old event names subscribe to the renamed events and are delivered under them until the deadline", () => {
  const ep = (eventTypes: string[] | null): WebhookEndpoint => ({ id: "whe_1", orgId: "org_1", url: "https://x.test", eventTypes, secret: "s", description: "", createdAt: 0, deletedAt: null });
  const until = 1_000;
  assert.equal(isSubscribableEventType("extra_usage.depleted"), true);
  assert.equal(isSubscribableEventType("extra_usage.unknown"), false);
  assert.equal(currentEventType("extra_usage.low_balance"), "credits.low_balance");
  const legacy = ep(["extra_usage.depleted"]);
  assert.equal(wantsEvent(legacy, "credits.depleted", 10), true);
  assert.equal(wantsEvent(legacy, "credits.low_balance", 10), false);
  assert.equal(deliveredEventType(legacy, "credits.depleted", 999, until), "extra_usage.depleted");
  assert.equal(deliveredEventType(legacy, "credits.depleted", 1_000, until), "credits.depleted", "after the deprecation period: the new name");
  assert.equal(deliveredEventType(ep(null), "credits.depleted", 10, until), "credits.depleted");
  assert.equal(deliveredEventType(ep(["credits.depleted", "extra_usage.depleted"]), "credits.depleted", 10, until), "credits.depleted");
});
