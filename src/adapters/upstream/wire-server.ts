// Serves an Upstream over HTTP in the provider's wire format: POST /v1/messages (JSON or SSE),
// POST /v1/messages/count_tokens and, for an upstream that runs them, the Message Batches API.
// This is how the simulated upstream runs as its own process or port, a fake that speaks the real wire format, so HttpUpstream, its SSE parser and real network
// failures (a connection cut mid-stream is a destroyed socket here) are exercised end to end.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { writeSse } from "../../wire/sse.js";
import { hasBatches, PASS_THROUGH_REQUEST_HEADERS, type Upstream, type UpstreamBatches, type UpstreamResponse } from "../../ports/upstream.js";
import { isRecord, vendorError } from "../../wire/messages.js";

export interface WireServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const MAX_BODY = 32 * 1_048_576; // the vendor's request size limit
const CUT_GRACE_MS = 50;

/** What arrived at the wire server: for tests that check what a gateway forwards, byte for byte. */
export interface ReceivedRequest {
  readonly method: string;
  /** The path with its query string, as sent. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface ServeOptions {
  readonly host?: string;
  readonly port?: number;
  /** Called with every request's exact bytes before it is answered. */
  readonly onRequest?: (request: ReceivedRequest) => void;
}

export function serveUpstream(upstream: Upstream, options: ServeOptions = {}): Promise<WireServer> {
  const server = createServer((req, res) => {
    void handle(upstream, req, res, options.onRequest).catch(() => res.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(":") ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function handle(upstream: Upstream, req: IncomingMessage, res: ServerResponse, onRequest: ServeOptions["onRequest"]): Promise<void> {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (path.startsWith("/v1/messages/batches") && hasBatches(upstream)) return handleBatches(upstream.batches, path, req, res);
  if (req.method !== "POST" || (path !== "/v1/messages" && path !== "/v1/messages/count_tokens")) {
    return json(res, 404, {}, vendorError("not_found_error", `No route ${req.method} ${path}.`));
  }
  const body = await readJson(req, res, (bytes) => onRequest?.({ method: req.method ?? "POST", url: req.url ?? "/", headers: req.headers, body: bytes }));
  if (body === undefined) return;
  const headers = passed(req);
  // The client going away stops the simulation, as it would stop a real generation.
  const gone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) gone.abort();
  });
  let answer: UpstreamResponse;
  try {
    answer = path === "/v1/messages" ? await upstream.send({ body, headers }, gone.signal) : await upstream.countTokens({ body, headers }, gone.signal);
  } catch {
    res.destroy(); // no answer at all: the connection drops
    return;
  }
  if (answer.kind !== "stream") return json(res, answer.status, answer.headers, answer.body);
  res.writeHead(answer.status, { ...answer.headers, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  res.flushHeaders();
  try {
    for await (const event of answer.events) {
      if (!(await writeSse(res, event))) return;
    }
    res.end();
  } catch {
    // Cut mid-stream: the socket closes without the end of the chunked body. A real cut comes a
    // while after the last bytes; closing in the same instant would let a fetch() client drop
    // bytes it had received but not yet read (an errored web stream discards its queue).
    await sleep(CUT_GRACE_MS);
    res.destroy();
  }
}

function json(res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The request's JSON object body, or undefined after answering 400/413; `onBytes` sees the exact bytes received. */
async function readJson(req: IncomingMessage, res: ServerResponse, onBytes?: (bytes: Buffer) => void): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) {
      json(res, 413, {}, vendorError("request_too_large", "Request exceeds the maximum allowed size."));
      return undefined;
    }
    chunks.push(c);
  }
  const bytes = Buffer.concat(chunks);
  onBytes?.(bytes);
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString("utf8"));
  } catch {
    json(res, 400, {}, vendorError("invalid_request_error", "The body is not valid JSON."));
    return undefined;
  }
  if (!isRecord(body)) {
    json(res, 400, {}, vendorError("invalid_request_error", "The body must be a JSON object."));
    return undefined;
  }
  return body;
}

function passed(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of PASS_THROUGH_REQUEST_HEADERS) {
    const v = req.headers[name];
    if (typeof v === "string") headers[name] = v;
  }
  return headers;
}

/** The Message Batches API: create, retrieve, cancel, results (JSONL). */
async function handleBatches(batches: UpstreamBatches, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const m = /^\/v1\/messages\/batches(?:\/([^/]+)(\/cancel|\/results)?)?$/.exec(path);
  const id = m?.[1] !== undefined ? decodeURIComponent(m[1]) : undefined;
  const action = m?.[2];
  const signal = new AbortController().signal;
  let answer: UpstreamResponse;
  if (m && id === undefined && req.method === "POST") {
    const body = await readJson(req, res);
    if (body === undefined) return;
    answer = await batches.create({ body, headers: passed(req) }, signal);
  } else if (id !== undefined && action === undefined && req.method === "GET") {
    answer = await batches.retrieve(id, passed(req), signal);
  } else if (id !== undefined && action === "/cancel" && req.method === "POST") {
    answer = await batches.cancel(id, passed(req), signal);
  } else if (id !== undefined && action === "/results" && req.method === "GET") {
    const results = await batches.results(id, passed(req), signal);
    if (results.kind === "error") return json(res, results.status, results.headers, results.body);
    const text = results.lines.map((l) => `${l}\n`).join("");
    res.writeHead(200, { "content-type": "application/x-jsonl", "content-length": Buffer.byteLength(text) });
    res.end(text);
    return;
  } else {
    return json(res, 404, {}, vendorError("not_found_error", `No route ${req.method} ${path}.`));
  }
  if (answer.kind === "stream") return json(res, 500, {}, vendorError("api_error", "A batch answer cannot be a stream."));
  return json(res, answer.status, answer.headers, answer.body);
}
