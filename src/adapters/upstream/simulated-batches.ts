// The simulated upstream's Message Batches API, in the vendor's wire format: a batch is created
// in_progress, its requests are answered one after another by the simulator's own Messages
// endpoint (so a batch's usage is exactly what the same request would report alone), and it ends
// with one result per request: succeeded, errored, canceled or expired. Results are JSONL in
// request order. Kept in memory (the most recent MAX_BATCHES).
//
// Test knobs, in the create request's `x-simulate` header beside the usual directives (which
// apply to every request of the batch):
//   batch_stop_after:N      answer N requests, then wait; a cancel ends the rest as canceled
//   batch_expire_after:N    answer N requests, then end with the rest expired
//   batch_errored_every:N   every Nth request (N, 2N, …) ends errored (api_error)

import type { UpstreamBatches, UpstreamBatchResults, UpstreamRequest, UpstreamResponse } from "../../ports/upstream.js";
import { isRecord, vendorError } from "../../wire/messages.js";

interface BatchDirectives {
  readonly stopAfter?: number;
  readonly expireAfter?: number;
  readonly erroredEvery?: number;
}

const BATCH_DIRECTIVES = { batch_stop_after: "stopAfter", batch_expire_after: "expireAfter", batch_errored_every: "erroredEvery" } as const;
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_REQUESTS = 100_000;
const MAX_BATCHES = 1_000;
/** The vendor's processing window: a batch not done in 24 hours expires. */
const EXPIRES_MS = 24 * 3_600_000;

type Result = { type: "succeeded"; message: unknown } | { type: "errored"; error: unknown } | { type: "canceled" } | { type: "expired" };

interface SimBatch {
  readonly id: string;
  readonly createdAt: number;
  readonly requests: ReadonlyArray<{ custom_id: string; params: Record<string, unknown> }>;
  readonly results: Map<string, Result>;
  readonly headers: Record<string, string>;
  readonly directives: BatchDirectives;
  status: "in_progress" | "canceling" | "ended";
  cancelInitiatedAt: number | null;
  endedAt: number | null;
  wake: (() => void) | undefined;
}

/** Splits the batch directives off an `x-simulate` header; the rest applies to each request. */
function splitDirectives(header: string | undefined): { ok: true; batch: BatchDirectives; rest: string } | { ok: false; message: string } {
  const batch: { -readonly [K in keyof BatchDirectives]: BatchDirectives[K] } = {};
  const rest: string[] = [];
  for (const raw of (header ?? "").split(",")) {
    const item = raw.trim();
    if (!item.startsWith("batch_")) {
      if (item !== "") rest.push(item);
      continue;
    }
    const [name, value] = item.split(":");
    const key = BATCH_DIRECTIVES[(name ?? "") as keyof typeof BATCH_DIRECTIVES];
    const n = Number(value);
    if (!key || !Number.isSafeInteger(n) || n < 0) return { ok: false, message: `x-simulate: unknown or malformed batch directive ${JSON.stringify(item)}` };
    batch[key] = n;
  }
  return { ok: true, batch, rest: rest.join(",") };
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const error = (status: number, type: string, message: string): UpstreamResponse => ({ kind: "error", status, headers: {}, body: vendorError(type, message) });

export class SimulatedBatches implements UpstreamBatches {
  private readonly batches = new Map<string, SimBatch>();
  private seq = 0;

  /** `answer` is the simulator's own POST /v1/messages. */
  constructor(private readonly answer: (request: UpstreamRequest, signal: AbortSignal) => Promise<UpstreamResponse>) {}

  async create(request: UpstreamRequest, _signal: AbortSignal): Promise<UpstreamResponse> {
    const d = splitDirectives(request.headers["x-simulate"]);
    if (!d.ok) return error(400, "invalid_request_error", d.message);
    const list = request.body["requests"];
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_REQUESTS) return error(400, "invalid_request_error", `requests: must be a list of 1 to ${MAX_REQUESTS} requests`);
    const seen = new Set<string>();
    const requests: Array<{ custom_id: string; params: Record<string, unknown> }> = [];
    for (const [i, r] of list.entries()) {
      const id = isRecord(r) ? r["custom_id"] : undefined;
      const params = isRecord(r) ? r["params"] : undefined;
      if (typeof id !== "string" || !CUSTOM_ID.test(id)) return error(400, "invalid_request_error", `requests.${i}.custom_id: 1 to 64 letters, digits, - or _`);
      if (seen.has(id)) return error(400, "invalid_request_error", `requests.${i}.custom_id: duplicate ${id}`);
      if (!isRecord(params)) return error(400, "invalid_request_error", `requests.${i}.params: must be an object`);
      seen.add(id);
      requests.push({ custom_id: id, params });
    }
    const headers: Record<string, string> = { ...request.headers };
    if (d.rest === "") delete headers["x-simulate"];
    else headers["x-simulate"] = d.rest;
    const batch: SimBatch = {
      id: `msgbatch_sim_${(++this.seq).toString(36)}${Math.random().toString(36).slice(2, 10)}`,
      createdAt: Date.now(),
      requests,
      results: new Map(),
      headers,
      directives: d.batch,
      status: "in_progress",
      cancelInitiatedAt: null,
      endedAt: null,
      wake: undefined,
    };
    if (this.batches.size >= MAX_BATCHES) {
      const oldest = [...this.batches.values()].find((b) => b.status === "ended");
      if (oldest) this.batches.delete(oldest.id);
    }
    this.batches.set(batch.id, batch);
    void this.process(batch);
    return { kind: "json", status: 200, headers: {}, body: present(batch) };
  }

  async retrieve(id: string): Promise<UpstreamResponse> {
    const batch = this.batches.get(id);
    return batch ? { kind: "json", status: 200, headers: {}, body: present(batch) } : error(404, "not_found_error", `No batch ${id}.`);
  }

  async cancel(id: string): Promise<UpstreamResponse> {
    const batch = this.batches.get(id);
    if (!batch) return error(404, "not_found_error", `No batch ${id}.`);
    if (batch.status === "in_progress") {
      batch.status = "canceling";
      batch.cancelInitiatedAt = Date.now();
      const snapshot = present(batch);
      batch.wake?.();
      return { kind: "json", status: 200, headers: {}, body: snapshot };
    }
    return { kind: "json", status: 200, headers: {}, body: present(batch) };
  }

  async results(id: string): Promise<UpstreamBatchResults> {
    const batch = this.batches.get(id);
    if (!batch) return { kind: "error", status: 404, headers: {}, body: vendorError("not_found_error", `No batch ${id}.`) };
    if (batch.status !== "ended") return { kind: "error", status: 400, headers: {}, body: vendorError("invalid_request_error", `Batch ${id} is still processing; results are available once it has ended.`) };
    return { kind: "results", lines: batch.requests.map((r) => JSON.stringify({ custom_id: r.custom_id, result: batch.results.get(r.custom_id) ?? { type: "expired" } })) };
  }

  private async process(batch: SimBatch): Promise<void> {
    const d = batch.directives;
    for (const [i, r] of batch.requests.entries()) {
      if (d.stopAfter !== undefined && i >= d.stopAfter && batch.status === "in_progress") {
        await new Promise<void>((resolve) => {
          batch.wake = resolve;
        });
      }
      if (batch.status === "canceling") break;
      if (d.expireAfter !== undefined && i >= d.expireAfter) break;
      if (d.erroredEvery !== undefined && d.erroredEvery > 0 && (i + 1) % d.erroredEvery === 0) {
        batch.results.set(r.custom_id, { type: "errored", error: vendorError("api_error", "Internal server error (simulated upstream: x-simulate batch_errored_every).") });
        continue;
      }
      const { stream: _stream, ...params } = r.params;
      let result: Result;
      try {
        const answer = await this.answer({ body: params, headers: batch.headers }, AbortSignal.timeout(60_000));
        result = answer.kind === "json" ? { type: "succeeded", message: answer.body } : { type: "errored", error: answer.kind === "error" ? answer.body : vendorError("invalid_request_error", "stream is not supported in a batch") };
      } catch (err) {
        result = { type: "errored", error: vendorError("api_error", `The request failed: ${err instanceof Error ? err.message : String(err)}`) };
      }
      batch.results.set(r.custom_id, result);
    }
    const leftover: Result = batch.status === "canceling" ? { type: "canceled" } : { type: "expired" };
    for (const r of batch.requests) if (!batch.results.has(r.custom_id)) batch.results.set(r.custom_id, leftover);
    batch.status = "ended";
    batch.endedAt = Date.now();
  }
}

function present(b: SimBatch) {
  const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  for (const r of b.requests) {
    const res = b.results.get(r.custom_id);
    if (res) counts[res.type]++;
    else counts.processing++;
  }
  return {
    id: b.id,
    type: "message_batch",
    processing_status: b.status,
    request_counts: counts,
    ended_at: iso(b.endedAt),
    created_at: iso(b.createdAt),
    expires_at: iso(b.createdAt + EXPIRES_MS),
    archived_at: null,
    cancel_initiated_at: iso(b.cancelInitiatedAt),
    results_url: b.status === "ended" ? `/v1/messages/batches/${b.id}/results` : null,
  };
}
