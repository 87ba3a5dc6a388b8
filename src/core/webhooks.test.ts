// The pure webhook rules: the Standard Webhooks signature against the spec's published example,
// address classification for the SSRF guard, endpoint URL checks and the retry schedule.

import assert from "node:assert/strict";
import { test } from "node:test";
import { signWebhook } from "./webhook-signing.js";
import { checkEndpointUrl, isPrivateAddress, nextAttemptAt } from "./webhooks.js";

test("the signature matches the Standard Webhooks example", async () => {
  const sig = await signWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}');
  assert.equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
});

test("private, loopback, link-local and mapped addresses are classified as private", () => {
  const table: Array<[string, boolean]> = [
    ["127.0.0.1", true], ["10.1.2.3", true], ["172.16.0.1", true], ["172.32.0.1", false], ["192.168.0.1", true],
    ["169.254.169.254", true], ["100.64.0.1", true], ["0.0.0.0", true], ["8.8.8.8", false],
    ["::1", true], ["::", true], ["fe80::1", true], ["fd00::1", true], ["2606:4700::1111", false],
    ["::ffff:10.0.0.1", true], ["::ffff:8.8.8.8", false], ["[::ffff:192.168.1.1]", true], ["64:ff9b::1.2.3.4", true], ["not-an-ip", true],
  ];
  for (const [address, expected] of table) assert.equal(isPrivateAddress(address), expected, address);
});

test("endpoint URLs: https, http only to loopback, private targets only when allowed", () => {
  const strict = { allowPrivateNetworks: false };
  const dev = { allowPrivateNetworks: true };
  const reason = (r: ReturnType<typeof checkEndpointUrl>) => (r.ok ? "ok" : r.error.details?.["reason"]);
  assert.equal(reason(checkEndpointUrl("https://hooks.example.com/x", strict)), "ok");
  assert.equal(reason(checkEndpointUrl("http://hooks.example.com/x", dev)), "https_required");
  assert.equal(reason(checkEndpointUrl("http://127.0.0.1:8080/x", strict)), "private_address");
  assert.equal(reason(checkEndpointUrl("http://127.0.0.1:8080/x", dev)), "ok");
  assert.equal(reason(checkEndpointUrl("https://192.168.1.10/x", strict)), "private_address");
  assert.equal(reason(checkEndpointUrl("javascript:alert(1)", dev)), "scheme_not_allowed");
});

test("the retry schedule: a delay per failed attempt, then give up", () => {
  const policy = { scheduleMs: [5_000, 30_000] };
  assert.equal(nextAttemptAt(policy, 1, 1_000), 6_000);
  assert.equal(nextAttemptAt(policy, 2, 1_000), 31_000);
  assert.equal(nextAttemptAt(policy, 3, 1_000), null);
});
