// The sandbox remembers idempotency keys like Stripe: a retry within 24 hours gets the first result
// and charges nothing more; after 24 hours the key is forgotten, so a long-running server's memory
// stays bounded (money-in never retries a charge after 20 hours).

import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../../ports/clock.js";
import { SandboxProvider } from "./sandbox.js";

const HOUR = 3_600_000;
const charge = (key: string) => ({ amount: 5_000_000, currency: "USD" as const, paymentMethod: "tok_sandbox_visa", idempotencyKey: key, description: "t" });

test("a key is remembered for 24 hours, then forgotten with its charge", async () => {
  const clock = new ManualClock(0);
  const sandbox = new SandboxProvider(clock, 0);
  const first = await sandbox.charge(charge("k1"));
  clock.advance(23 * HOUR);
  assert.deepEqual(await sandbox.charge(charge("k1")), first, "a retry within the window gets the first result");
  assert.equal(sandbox.charges().length, 1);
  clock.advance(2 * HOUR);
  await sandbox.charge(charge("k2"));
  assert.deepEqual(sandbox.charges().map((c) => c.idempotencyKey), ["k2"], "k1 is forgotten after 24 hours");
  assert.equal((await sandbox.retrieve(first.providerRef)).failureCode, "no_such_charge");
});
