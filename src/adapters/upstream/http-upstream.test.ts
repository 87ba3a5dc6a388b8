// HttpUpstream against the simulated upstream served over real HTTP on loopback.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { setTimeout as sleep } from "node:timers/promises";
import { HttpUpstream } from "./http-upstream.js";
import { SimulatedUpstream } from "./simulated-upstream.js";
import { serveUpstream, type WireServer } from "./wire-server.js";

// A real garbage collection on demand, without starting node with --expose-gc.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

describe("HttpUpstream", () => {
  let server: WireServer;
  before(async () => {
    server = await serveUpstream(new SimulatedUpstream({ latencyMs: 0 }));
  });
  after(() => server.close());

  test("a stream answered but not yet read survives a garbage collection (fetch cancels an unlocked body whose Response was collected)", async () => {
    const upstream = new HttpUpstream({ baseUrl: server.url, apiKey: undefined, timeoutMs: 10_000 });
    const body = { model: "claude-sonnet-4-5", max_tokens: 64, stream: true, messages: [{ role: "user", content: "Hello" }] };
    const answer = await upstream.send({ body, headers: {} }, new AbortController().signal);
    assert.equal(answer.kind, "stream");
    if (answer.kind !== "stream") return;
    // The gateway reads the database before it starts relaying; a collection may run in between.
    for (let i = 0; i < 3; i++) {
      collectGarbage();
      await sleep(20); // finalizers run after the collection, on a later turn
    }
    const events: string[] = [];
    for await (const e of answer.events) events.push(e.event);
    assert.equal(events[0], "message_start");
    assert.equal(events.at(-1), "message_stop");
  });

  test("sequential requests reuse one keep-alive connection (no new TCP connection per request)", async () => {
    const upstream = new HttpUpstream({ baseUrl: server.url, apiKey: undefined, timeoutMs: 10_000 });
    let connections = 0;
    const count = () => connections++;
    server.server.on("connection", count);
    try {
      const body = { model: "claude-sonnet-4-5", max_tokens: 16, messages: [{ role: "user", content: "Hello" }] };
      for (let i = 0; i < 5; i++) {
        const answer = await upstream.send({ body, headers: {} }, new AbortController().signal);
        assert.equal(answer.kind, "json");
      }
      assert.equal(connections, 1);
    } finally {
      server.server.off("connection", count);
    }
  });

  test("aborting mid-stream ends the iteration with the abort reason and closes the connection", async () => {
    const slow = await serveUpstream(new SimulatedUpstream({ latencyMs: 0, chunkDelayMs: 50 }));
    try {
      const upstream = new HttpUpstream({ baseUrl: slow.url, apiKey: undefined, timeoutMs: 10_000 });
      const controller = new AbortController();
      const body = { model: "claude-sonnet-4-5", max_tokens: 64, stream: true, messages: [{ role: "user", content: "Hello" }] };
      const answer = await upstream.send({ body, headers: {} }, controller.signal);
      assert.equal(answer.kind, "stream");
      if (answer.kind !== "stream") return;
      const reason = new Error("the client went away");
      const seen: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const e of answer.events) {
            seen.push(e.event);
            if (seen.length === 2) controller.abort(reason);
          }
        })(),
        (err) => err === reason,
      );
      assert.equal(seen[0], "message_start");
      assert.ok(!seen.includes("message_stop"));
    } finally {
      await slow.close();
    }
  });

  test("a timeout ends a stream that does not finish in time with UpstreamUnavailable", async () => {
    const slow = await serveUpstream(new SimulatedUpstream({ latencyMs: 0, chunkDelayMs: 200 }));
    try {
      const upstream = new HttpUpstream({ baseUrl: slow.url, apiKey: undefined, timeoutMs: 300 });
      const body = { model: "claude-sonnet-4-5", max_tokens: 64, stream: true, messages: [{ role: "user", content: "Hello" }] };
      const answer = await upstream.send({ body, headers: {} }, new AbortController().signal);
      if (answer.kind !== "stream") return assert.fail(`expected a stream, got ${answer.kind}`);
      await assert.rejects(
        (async () => {
          for await (const _ of answer.events) {
            // read until the timeout cuts the stream
          }
        })(),
        (err: Error) => err.name === "UpstreamUnavailable",
      );
    } finally {
      await slow.close();
    }
  });
});
