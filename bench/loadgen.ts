// An HTTP load generator run as its own process: C keep-alive connections, each sending the next
// request as soon as the previous answer arrives, for a fixed time. The same generator measures the
// bare node:http ceiling and our server, so their ratio is fair. Loopback only, bounded in time.
// Benches start it with `runLoad(spec)`, which runs this very file as the child.

import { spawn } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";

export interface LoadSpec {
  readonly targets: ReadonlyArray<{ url: string; headers: Record<string, string> }>;
  readonly method: "GET" | "POST";
  readonly body: string;
  readonly connections: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly statuses: Record<string, number>;
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const body = Buffer.from(spec.body);
  let measuring = false;
  let stop = false;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const target = spec.targets[i % spec.targets.length];
      if (!target) return resolve();
      const started = performance.now();
      const req = http.request(target.url, { method: spec.method, agent, headers: { ...target.headers, "content-length": body.length } }, (res) => {
        res.resume();
        res.on("end", () => {
          if (measuring) {
            latencies.push(performance.now() - started);
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          }
          resolve();
        });
      });
      req.on("error", () => {
        if (measuring) statuses["error"] = (statuses["error"] ?? 0) + 1;
        resolve();
      });
      req.end(body);
    });
  const loops = Array.from({ length: spec.connections }, async (_, c) => {
    let n = c;
    while (!stop) await one((n += spec.connections));
  });
  await new Promise((r) => setTimeout(r, spec.warmupSeconds * 1000));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, spec.seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(loops);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { requests: latencies.length, rps: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), statuses };
}

/** Runs `spec` in a load-generator process of its own (so it does not share our event loop) and resolves with its result. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", JSON.stringify(spec)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => {
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch {
        reject(new Error(`the load generator exited with ${String(code)} without a result`));
      }
    });
  });
}

// As a child process: the spec arrives as argv[3] (JSON), the result leaves on stdout.
if (process.argv[2] === "--child") {
  const spec = JSON.parse(process.argv[3] ?? "{}") as LoadSpec;
  void run(spec).then((r) => {
    process.stdout.write(JSON.stringify(r));
  });
}
