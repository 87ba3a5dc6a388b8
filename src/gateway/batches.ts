// The Message Batches API through the gateway (/v1/messages/batches: create, retrieve, list,
// cancel, results), so the 50% batch price is reachable and every request of a batch is metered.
// Over 400 lines: one class, the batch's whole life (create, reconcile, the search for a lost create, settle), sharing its in-flight maps.
//
// Create: every request is priced at its worst case at the batch price (the book's batch modifier,
// US-only inference where it asks for it) and held like any request (plan windows, credits,
// spending limits), all or nothing: one refusal refuses the batch and releases the rest. The batch
// and each request's hold are recorded before the batch goes to the upstream, so no hold is ever
// lost track of. Then it is forwarded to the upstream's own Batches API.
//
// Settle: once the upstream says the batch has ended (seen on retrieve, list, results or the
// scheduled reconcile job, whichever comes first), its results are read and each request is
// settled from the usage its result reports (a succeeded request) or released (errored, canceled,
// expired). Each hold resolves at most once, so a request is charged exactly once however many
// times reconciling runs. Batch holds live 25 hours: the upstream ends a batch within 24.
//
// Ids are the gateway's own (msgbatch_…); results_url points at the gateway.
//
// A lost answer: each request goes upstream under the gateway's own custom_id (the batch id and
// the request's index, mapped back in results), unique across every batch. If the create call fails
// without an answer (timeout, dropped connection, a 2xx without a batch id) the upstream may still
// have taken the batch: the holds are kept and the batch stays "submitting". Once no create can
// still be in flight (the upstream timeout plus a minute), reconciling looks for it in the
// upstream's batch list (newest first, the last SCAN_LIMIT batches): an ended batch with the same
// number of requests whose results carry these custom_ids is this one, and it is then settled like
// any other, once; if no such batch exists and none that could be it is still running, the upstream
// never took it and the holds are released. A refusal the upstream answered releases at once.

import { z } from "zod";
import { domainError, type DomainError } from "../core/errors.js";
import type { Hold } from "../core/model.js";
import { unknownModelError } from "../core/price-book.js";
import type { Speed } from "../core/rating.js";
import { newId } from "../core/ids.js";
import { HOUR_MS } from "../core/plans.js";
import type { Services } from "../app/services.js";
import { errorReply, HttpError, route, type AnyRoute, type Ctx, type Reply } from "../http/route.js";
import type { MessageBatchRequestRow, MessageBatchRow } from "../ports/batch-store.js";
import { hasBatches, type Upstream, type UpstreamBatches } from "../ports/upstream.js";
import { boundWebSearch, worstCaseCost } from "./estimate.js";
import { callerOf, passThrough } from "./gateway.js";
import { dataResidencyOf, isRecord, MessagesBody, readUsage, toCoreUsage } from "../wire/messages.js";

/** The vendor's processing window: a batch not done in 24 hours expires. */
const BATCH_WINDOW_MS = 24 * HOUR_MS;
/** Batch holds outlive the window by an hour, so reconciling always finds them pending. */
export const BATCH_HOLD_TTL_MS = BATCH_WINDOW_MS + HOUR_MS;
/** Batches the reconcile job looks at per run. */
const RECONCILE_PER_RUN = 50;
/** Upstream batches looked at (newest first) when searching for one whose create answer was lost. */
const SCAN_LIMIT = 1_000;
const SCAN_PAGE = 100;

/** The custom_id a request travels under upstream: unique across every batch, mapped back in results. */
export function upstreamCustomId(batchId: string, index: number): string {
  return `${batchId}-${index}`;
}

export interface GatewayBatchesOptions {
  /** How long a create may still be in flight (the upstream timeout plus a margin): a batch whose answer was lost is searched for only after it. */
  readonly submitGraceMs: number;
}

const CreateBody = z.looseObject({
  requests: z
    .array(z.looseObject({ custom_id: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "1 to 64 letters, digits, - or _"), params: MessagesBody }))
    .min(1)
    .max(100_000),
});
type CreateBody = z.infer<typeof CreateBody>;

const ListQuery = z.looseObject({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  after_id: z.string().min(1).max(100).optional(),
  before_id: z.string().min(1).max(100).optional(),
});
type ListQuery = z.infer<typeof ListQuery>;
const AnyQuery = z.looseObject({});

interface Priced {
  readonly customId: string;
  readonly params: MessagesBody;
  readonly speed: Speed;
  readonly dataResidency: boolean;
  readonly estimate: number;
}

interface UpstreamView {
  readonly processing_status?: unknown;
  readonly request_counts?: unknown;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const invalid = (message: string, details?: Record<string, unknown>) => new HttpError(domainError("invalid_request", message, details));
const ZERO = { succeeded: 0, errored: 0, canceled: 0, expired: 0 };

export class GatewayBatches {
  /** Reconciles in flight on this instance, by batch id (another instance's duplicate is harmless: holds resolve once). */
  private readonly reconciling = new Map<string, Promise<MessageBatchRow>>();
  /** Searches for a batch whose create answer was lost, in flight on this instance, by batch id. */
  private readonly searching = new Map<string, Promise<MessageBatchRow>>();

  constructor(
    private readonly services: Services,
    private readonly upstream: Upstream,
    private readonly options: GatewayBatchesOptions = { submitGraceMs: 11 * 60_000 },
  ) {}

  /** POST /v1/messages/batches. */
  async create(ctx: Ctx<CreateBody, unknown>): Promise<Reply> {
    const caller = callerOf(ctx);
    const batches = this.batches();
    const { catalog, engine, clock, store } = this.services;
    const now = clock.now();
    const seen = new Set<string>();
    const priced: Priced[] = ctx.body.requests.map((r, i) => {
      const where = `requests.${i}`;
      if (seen.has(r.custom_id)) throw invalid(`${where}.custom_id: duplicate ${r.custom_id}; custom_id must be unique within a batch.`, { field: `${where}.custom_id` });
      seen.add(r.custom_id);
      if (r.params.stream === true) throw invalid(`${where}.params.stream: a batch request cannot stream.`, { field: `${where}.params.stream` });
      const bounded = boundWebSearch(r.params);
      if (!bounded.ok) throw invalid(`${where}.params.${bounded.message}`, { field: `${where}.params.tools` });
      const geo = dataResidencyOf(bounded.body);
      if (!geo.ok) throw invalid(`${where}.params.${geo.message}`, { field: `${where}.params.inference_geo` });
      const speed: Speed = bounded.body.speed === "fast" ? "fast" : "standard";
      const found = catalog.model(bounded.body.model, now);
      const estimate = found ? worstCaseCost(found.book, bounded.body, speed, { batch: true, dataResidency: geo.value }) : undefined;
      if (estimate === undefined) {
        const e = unknownModelError(catalog.bookAtCached(now), bounded.body.model);
        throw new HttpError({ ...e, message: `${where}.params.model: ${e.message}`, details: { ...e.details, field: `${where}.params.model` } });
      }
      return { customId: r.custom_id, params: bounded.body, speed, dataResidency: geo.value, estimate };
    });

    // Admission, like any request: every worst case is held, or none is.
    const outcomes = await Promise.all(
      priced.map((p) =>
        engine.authorize({
          orgId: caller.orgId,
          memberId: caller.memberId,
          surface: caller.surface,
          model: p.params.model,
          speed: p.speed,
          estimate: { amount: p.estimate },
          ttlMs: BATCH_HOLD_TTL_MS,
          metadata: { source: "gateway_batch", request_id: ctx.requestId, custom_id: p.customId },
        }),
      ),
    );
    const holds: Hold[] = [];
    let refused: { error: DomainError; index: number } | undefined;
    outcomes.forEach((o, index) => {
      if (o.kind !== "fresh") throw new Error("batch holds are authorized without an idempotency key, so they cannot be replays");
      if (o.result.ok) holds.push(o.result.value.hold);
      else refused ??= { error: o.result.error, index };
    });
    if (refused) {
      await this.releaseAll(caller.orgId, holds.map((h) => h.id));
      const { error, index } = refused;
      const customId = priced[index]?.customId ?? "";
      throw new HttpError({ ...error, message: `${error.message} (request ${index}, custom_id ${customId}; nothing of the batch was accepted)`, details: { ...error.details, index, custom_id: customId } });
    }

    // Recorded before the upstream sees it, so every hold can be found and resolved.
    const row: MessageBatchRow = {
      id: newId("messageBatch", now),
      orgId: caller.orgId,
      memberId: caller.memberId,
      upstreamId: null,
      status: "submitting",
      requestCount: priced.length,
      createdAt: now,
      expiresAt: now + BATCH_WINDOW_MS,
      endedAt: null,
      cancelInitiatedAt: null,
      counts: ZERO,
    };
    const requests: MessageBatchRequestRow[] = priced.map((p, index) => ({
      batchId: row.id,
      index,
      customId: p.customId,
      holdId: holds[index]?.id ?? "",
      estimate: p.estimate,
      dataResidency: p.dataResidency,
    }));
    await store.transaction((tx) => tx.messageBatches.insertBatch(row, requests));

    // Not tied to the client's connection: once sent, the upstream runs the batch whether or not the client waits.
    const forward = { ...ctx.body, requests: priced.map((p, i) => ({ custom_id: upstreamCustomId(row.id, i), params: p.params })) };
    let answer;
    try {
      answer = await batches.create({ body: forward, headers: passThrough(ctx.headers) }, new AbortController().signal);
    } catch (err) {
      this.services.log.error("upstream did not answer a batch create; its holds are kept until the batch is found or known never to have been taken", { request_id: ctx.requestId, batch_id: row.id, upstream: this.upstream.name, error: String(err) });
      return this.unconfirmed(ctx, row);
    }
    if (answer.kind === "error") {
      // The upstream answered with a refusal: it did not take the batch.
      await this.abandon(row, requests);
      return { status: answer.status, body: answer.body };
    }
    if (answer.kind !== "json" || typeof answer.body["id"] !== "string") {
      this.services.log.error("upstream answered a batch create without a batch id; its holds are kept until the batch is found", { request_id: ctx.requestId, batch_id: row.id, upstream: this.upstream.name });
      return this.unconfirmed(ctx, row);
    }
    const started: MessageBatchRow = { ...row, upstreamId: answer.body["id"], status: "in_progress" };
    await store.transaction((tx) => tx.messageBatches.updateBatch(started));
    return { status: 200, body: this.present(ctx, started, answer.body) };
  }

  /** 503 for a create the upstream may have taken: the client is told the batch id and not to resubmit blindly. */
  private unconfirmed(ctx: Ctx<unknown, unknown>, row: MessageBatchRow): Reply {
    const e = domainError(
      "service_unavailable",
      `The model provider did not confirm batch ${row.id}; it may have been created. Its requests stay held until the gateway knows: if the provider runs it, it is charged once as it ends; otherwise the holds are released. Check GET /v1/messages/batches/${row.id} before submitting it again.`,
      { batch_id: row.id },
    );
    const reply = errorReply(e, ctx.requestId, this.services.clock.now());
    return { ...reply, headers: { ...reply.headers, "x-should-retry": "false" } };
  }

  /** GET /v1/messages/batches/{id}. */
  async retrieve(ctx: Ctx<unknown, unknown>): Promise<Reply> {
    const { row, view } = await this.refresh(await this.load(ctx));
    return { status: 200, body: this.present(ctx, row, view) };
  }

  /** GET /v1/messages/batches: newest first. */
  async list(ctx: Ctx<unknown, ListQuery>): Promise<Reply> {
    const caller = callerOf(ctx);
    const { limit, after_id: afterId, before_id: beforeId } = ctx.query;
    if (afterId !== undefined && beforeId !== undefined) throw invalid("Give after_id or before_id, not both.");
    const rows = await this.services.store.read((tx) =>
      tx.messageBatches.listBatches(caller.orgId, { limit: limit + 1, ...(afterId !== undefined ? { afterId } : {}), ...(beforeId !== undefined ? { beforeId } : {}) }),
    );
    const hasMore = rows.length > limit;
    const page = beforeId !== undefined ? rows.slice(rows.length - Math.min(rows.length, limit)) : rows.slice(0, limit);
    const data = [];
    for (const r of page) {
      const { row, view } = await this.refresh(r);
      data.push(this.present(ctx, row, view));
    }
    return { status: 200, body: { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null } };
  }

  /** POST /v1/messages/batches/{id}/cancel: requests not yet processed end canceled, and are released. */
  async cancel(ctx: Ctx<unknown, unknown>): Promise<Reply> {
    const row = await this.load(ctx);
    if (row.status !== "in_progress" || row.upstreamId === null) return { status: 200, body: this.present(ctx, row) };
    const answer = await this.ask(() => this.batches().cancel(row.upstreamId ?? "", passThrough(ctx.headers), new AbortController().signal));
    if (answer.kind === "error") return { status: answer.status, body: answer.body };
    if (answer.kind !== "json") throw new HttpError(domainError("service_unavailable", "The model provider answered cancel with a stream; retry shortly."));
    const canceled: MessageBatchRow = { ...row, cancelInitiatedAt: row.cancelInitiatedAt ?? this.services.clock.now() };
    await this.services.store.transaction((tx) => tx.messageBatches.updateBatch(canceled));
    const { row: now, view } = await this.refresh(canceled, answer.body);
    return { status: 200, body: this.present(ctx, now, view) };
  }

  /** GET /v1/messages/batches/{id}/results: the upstream's JSONL, once every request of the batch is settled or released. */
  async results(ctx: Ctx<unknown, unknown>): Promise<Reply> {
    const { row } = await this.refresh(await this.load(ctx));
    if (row.status !== "ended" || row.upstreamId === null) throw invalid(`Batch ${row.id} is still processing; results are available once processing_status is ended.`, { batch_id: row.id });
    const results = await this.ask(() => this.batches().results(row.upstreamId ?? "", {}, new AbortController().signal));
    if (results.kind === "error") return { status: results.status, body: results.body };
    const requests = await this.services.store.read((tx) => tx.messageBatches.requests(row.id));
    const clientIds = new Map(requests.map((r) => [upstreamCustomId(row.id, r.index), r.customId]));
    const text = results.lines.map((l) => `${clientCustomId(l, clientIds)}\n`).join("");
    return {
      status: 200,
      body: null,
      headers: { "content-type": "application/x-jsonl", "content-length": String(Buffer.byteLength(text)) },
      write: async (res) => void res.end(text),
    };
  }

  /** The scheduled job: settles batches that ended upstream although no client asked about them. */
  async reconcileOpen(): Promise<number> {
    if (!hasBatches(this.upstream)) return 0;
    const open = await this.services.store.read((tx) => tx.messageBatches.openBatches(RECONCILE_PER_RUN));
    let ended = 0;
    for (const row of open) {
      try {
        if ((await this.refresh(row)).row.status === "ended") ended++;
      } catch (err) {
        this.services.log.error("batch reconcile failed", { batch_id: row.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return ended;
  }

  private batches(): UpstreamBatches {
    if (!hasBatches(this.upstream)) throw new HttpError(domainError("not_found", "The configured model provider does not run Message Batches."));
    return this.upstream.batches;
  }

  private async load(ctx: Ctx<unknown, unknown>): Promise<MessageBatchRow> {
    const caller = callerOf(ctx);
    const id = ctx.params["batch_id"] ?? "";
    const row = await this.services.store.read((tx) => tx.messageBatches.getBatch(caller.orgId, id));
    if (!row || row.status === "failed") throw new HttpError(domainError("not_found", `No message batch ${id}.`, { batch_id: id }));
    return row;
  }

  /** The batch as it stands: asks the upstream while it runs, and reconciles once it has ended. */
  private async refresh(row: MessageBatchRow, known?: Record<string, unknown>): Promise<{ row: MessageBatchRow; view?: UpstreamView }> {
    if (row.status === "submitting") row = await this.search(row);
    if (row.status !== "in_progress" || row.upstreamId === null) return { row };
    const id = row.upstreamId;
    let view = known;
    if (!view || view["processing_status"] !== "ended") {
      const answer = await this.ask(() => this.batches().retrieve(id, {}, new AbortController().signal));
      if (answer.kind !== "json") throw new HttpError(domainError("service_unavailable", `The model provider did not report on batch ${row.id}; retry shortly.`));
      view = answer.body;
    }
    if (view["processing_status"] !== "ended") return { row, view };
    return { row: await this.reconcile(row) };
  }

  private reconcile(row: MessageBatchRow): Promise<MessageBatchRow> {
    const running = this.reconciling.get(row.id);
    if (running) return running;
    const p = this.settleResults(row).finally(() => this.reconciling.delete(row.id));
    this.reconciling.set(row.id, p);
    return p;
  }

  /** Settles each succeeded request from its reported usage at the batch price; releases the rest. */
  private async settleResults(row: MessageBatchRow): Promise<MessageBatchRow> {
    const { store, engine, clock, log } = this.services;
    const results = await this.ask(() => this.batches().results(row.upstreamId ?? "", {}, new AbortController().signal));
    if (results.kind === "error") throw new HttpError(domainError("service_unavailable", `The model provider did not return the results of batch ${row.id}; retry shortly.`));
    const byId = new Map<string, Record<string, unknown>>();
    for (const line of results.lines) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      if (isRecord(parsed) && typeof parsed["custom_id"] === "string" && isRecord(parsed["result"])) byId.set(parsed["custom_id"], parsed["result"]);
    }
    const requests = await store.read((tx) => tx.messageBatches.requests(row.id));
    const counts = { succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    const outcomes = await Promise.allSettled(
      requests.map(async (r) => {
        // Sent under the gateway's custom_id; batches created before it was introduced, under the client's.
        const result = byId.get(upstreamCustomId(row.id, r.index)) ?? byId.get(r.customId);
        const type = result?.["type"];
        if (type === "succeeded") {
          counts.succeeded++;
          const message = result?.["message"];
          const usage = readUsage(isRecord(message) ? message["usage"] : undefined);
          // A result delivered without usage is charged its worst case, never free.
          return engine.settle(row.orgId, r.holdId, usage ? { usage: toCoreUsage(usage), batch: true, dataResidency: r.dataResidency } : { amount: r.estimate });
        }
        if (type === "errored" || type === "canceled" || type === "expired") counts[type]++;
        else counts.expired++; // missing from the results: nothing was delivered
        return engine.release(row.orgId, r.holdId);
      }),
    );
    for (const [i, o] of outcomes.entries()) {
      if (o.status === "rejected") throw o.reason instanceof Error ? o.reason : new Error(String(o.reason));
      const out = o.value;
      // Already resolved (a concurrent reconcile on another instance) is fine; anything else is logged.
      if (out.kind === "fresh" && !out.result.ok && out.result.error.code !== "hold_not_pending") {
        log.error("batch request settle refused", { batch_id: row.id, hold_id: requests[i]?.holdId, code: out.result.error.code, message: out.result.error.message });
      }
    }
    const ended: MessageBatchRow = { ...row, status: "ended", endedAt: clock.now(), counts };
    await store.transaction((tx) => tx.messageBatches.updateBatch(ended));
    return ended;
  }

  /**
   * A batch whose create got no answer: found in the upstream's list (then it runs its course like
   * any other), or known never to have been taken (then its holds are released), or still unknown.
   */
  private search(row: MessageBatchRow): Promise<MessageBatchRow> {
    if (this.services.clock.now() < row.createdAt + this.options.submitGraceMs) return Promise.resolve(row); // its create may still be in flight
    const running = this.searching.get(row.id);
    if (running) return running;
    const p = this.searchUpstream(row).finally(() => this.searching.delete(row.id));
    this.searching.set(row.id, p);
    return p;
  }

  private async searchUpstream(row: MessageBatchRow): Promise<MessageBatchRow> {
    const { store, log } = this.services;
    const batches = this.batches();
    const signal = new AbortController().signal;
    const tag = upstreamCustomId(row.id, 0);
    let afterId: string | undefined;
    let scanned = 0;
    let undecided = false;
    while (scanned < SCAN_LIMIT) {
      const page = await this.ask(() => batches.list({ limit: SCAN_PAGE, ...(afterId !== undefined ? { afterId } : {}) }, {}, signal));
      if (page.kind !== "json") throw new HttpError(domainError("service_unavailable", `The model provider did not list its batches (looking for batch ${row.id}); retry shortly.`));
      const data = Array.isArray(page.body["data"]) ? page.body["data"] : [];
      for (const b of data) {
        scanned++;
        if (!isRecord(b) || typeof b["id"] !== "string" || requestTotal(b["request_counts"]) !== row.requestCount) continue;
        // Same size: it may be this batch. Its results say, once it has ended.
        if (b["processing_status"] !== "ended") {
          undecided = true;
          continue;
        }
        const id = b["id"];
        const results = await this.ask(() => batches.results(id, {}, signal));
        if (results.kind !== "results") {
          undecided = true;
          continue;
        }
        if (!results.lines.some((l) => l.includes(JSON.stringify(tag)) && customIdOf(l) === tag)) continue;
        const found: MessageBatchRow = { ...row, upstreamId: id, status: "in_progress" };
        await store.transaction((tx) => tx.messageBatches.updateBatch(found));
        log.info("batch found upstream after its create answer was lost", { batch_id: row.id, upstream_batch_id: id });
        return found;
      }
      const last = page.body["last_id"];
      if (page.body["has_more"] !== true || data.length === 0 || typeof last !== "string") break;
      afterId = last;
    }
    if (undecided) return row; // a batch that may be this one has not ended yet: ask again later
    log.info("batch never reached the upstream; its holds are released", { batch_id: row.id, scanned });
    await this.abandon(row, await store.read((tx) => tx.messageBatches.requests(row.id)));
    return { ...row, status: "failed" };
  }

  /** The upstream never took the batch: release every hold and hide the record. */
  private async abandon(row: MessageBatchRow, requests: readonly MessageBatchRequestRow[]): Promise<void> {
    await this.releaseAll(row.orgId, requests.map((r) => r.holdId));
    await this.services.store.transaction((tx) => tx.messageBatches.updateBatch({ ...row, status: "failed" }));
  }

  private async releaseAll(orgId: string, holdIds: readonly string[]): Promise<void> {
    await Promise.all(holdIds.map((id) => this.services.engine.release(orgId, id)));
  }

  private async ask<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof HttpError) throw err;
      this.services.log.error("upstream unavailable", { upstream: this.upstream.name, error: String(err) });
      throw new HttpError(domainError("service_unavailable", "The model provider did not answer. Retry shortly."));
    }
  }

  /** The vendor's batch object, with the gateway's id, times and results_url. */
  private present(ctx: Ctx<unknown, unknown>, row: MessageBatchRow, view?: UpstreamView) {
    const ended = row.status === "ended";
    const upstreamCounts = isRecord(view?.request_counts) ? view.request_counts : undefined;
    const status = ended ? "ended" : view?.processing_status === "canceling" || view?.processing_status === "in_progress" ? view.processing_status : row.cancelInitiatedAt !== null ? "canceling" : "in_progress";
    return {
      id: row.id,
      type: "message_batch",
      processing_status: status,
      request_counts: ended ? { processing: 0, ...row.counts } : (upstreamCounts ?? { processing: row.requestCount, ...ZERO }),
      ended_at: iso(row.endedAt),
      created_at: iso(row.createdAt),
      expires_at: iso(row.expiresAt),
      archived_at: null,
      cancel_initiated_at: iso(row.cancelInitiatedAt),
      results_url: ended ? `${origin(ctx)}/v1/messages/batches/${row.id}/results` : null,
    };
  }
}

/** The number of requests in a batch object's request_counts. */
function requestTotal(counts: unknown): number {
  if (!isRecord(counts)) return -1;
  return ["processing", "succeeded", "errored", "canceled", "expired"].reduce((n, k) => n + (typeof counts[k] === "number" ? counts[k] : 0), 0);
}

function customIdOf(line: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    return isRecord(parsed) && typeof parsed["custom_id"] === "string" ? parsed["custom_id"] : undefined;
  } catch {
    return undefined;
  }
}

/** A results line with the client's own custom_id in place of the one the gateway sent upstream. */
function clientCustomId(line: string, clientIds: ReadonlyMap<string, string>): string {
  const sent = customIdOf(line);
  const client = sent === undefined ? undefined : clientIds.get(sent);
  if (client === undefined) return line;
  const parsed = JSON.parse(line) as Record<string, unknown>;
  return JSON.stringify({ ...parsed, custom_id: client });
}

/** This server's origin as the client reached it (results_url must point back at the gateway). */
function origin(ctx: Ctx<unknown, unknown>): string {
  const proto = ctx.headers["x-forwarded-proto"];
  const scheme = typeof proto === "string" && /^https?$/.test(proto) ? proto : "http";
  const host = typeof ctx.headers.host === "string" && /^[A-Za-z0-9.:[\]-]+$/.test(ctx.headers.host) ? ctx.headers.host : "localhost";
  return `${scheme}://${host}`;
}

export function batchRoutes(b: GatewayBatches): AnyRoute[] {
  return [
    route<CreateBody>({
      method: "POST",
      path: "/v1/messages/batches",
      summary: "Creates a Message Batch: each request is held at its worst case at the batch price (all or none), then the batch is forwarded to the upstream.",
      tag: "Gateway",
      auth: "authenticated",
      body: CreateBody,
      handler: (ctx) => b.create(ctx),
    }),
    route<undefined, ListQuery>({
      method: "GET",
      path: "/v1/messages/batches",
      summary: "Lists the organization's Message Batches, newest first (after_id / before_id / limit).",
      tag: "Gateway",
      auth: "authenticated",
      query: ListQuery,
      handler: (ctx) => b.list(ctx),
    }),
    route<undefined, Record<string, unknown>>({
      method: "GET",
      path: "/v1/messages/batches/:batch_id",
      summary: "A Message Batch; once it has ended, every request in it is settled (succeeded, at the batch price) or released.",
      tag: "Gateway",
      auth: "authenticated",
      query: AnyQuery,
      handler: (ctx) => b.retrieve(ctx),
    }),
    route<undefined, Record<string, unknown>>({
      method: "POST",
      path: "/v1/messages/batches/:batch_id/cancel",
      summary: "Cancels a Message Batch; requests not yet processed end canceled and their holds are released.",
      tag: "Gateway",
      auth: "authenticated",
      query: AnyQuery,
      handler: (ctx) => b.cancel(ctx),
    }),
    route<undefined, Record<string, unknown>>({
      method: "GET",
      path: "/v1/messages/batches/:batch_id/results",
      summary: "The results of an ended Message Batch, as JSONL (one line per request).",
      tag: "Gateway",
      auth: "authenticated",
      query: AnyQuery,
      handler: (ctx) => b.results(ctx),
    }),
  ];
}
