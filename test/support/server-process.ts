// `usage-credits serve` as its own OS process, for the suites and the soak that kill it (-9), starve
// it (a file-size limit) or measure it (resident memory from /proc). The setup a test needs before
// the server starts (organizations, a platform key) is done in-process by `prepareDatabase`, through
// the same composition root, so no demo data and no credentials file are involved.

import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createApp, type App } from "../../src/app.js";
import { loadConfig } from "../../src/config/config.js";
import { silentLogger } from "../../src/ports/logger.js";
import { openTestStore } from "./backends.js";

export const MAIN = fileURLToPath(new URL("../../src/main.js", import.meta.url));

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** The last lines the process wrote (its JSON log on stdout, and stderr), for failure messages. */
  readonly output: string[];
  /** Resident set size of the process in bytes (Linux /proc), or 0 once it is gone. */
  rss(): number;
  /** kill -9, resolved when the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (drain and exit), resolved when the process is gone; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: Record<string, string>;
  /**
   * Run through `bash -c "<prefix>; exec node …"`, e.g. `ulimit -f 2048` (a file-size limit) or
   * `trap '' XFSZ` so a write past the limit fails with EFBIG instead of killing the process.
   */
  readonly shellPrefix?: string;
  readonly startTimeoutMs?: number;
  /** Options for node itself, before the script (e.g. `--expose-gc`, `--import <file>`). */
  readonly nodeArgs?: readonly string[];
}

const exited = (c: ChildProcess): Promise<void> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));

export function spawnServer(databaseUrl: string, options: SpawnOptions = {}): Promise<ServerProcess> {
  const args = [...(options.nodeArgs ?? []), MAIN, "serve", "--port", "0", "--no-demo", "--database", databaseUrl];
  const env = { ...process.env, USAGE_CREDITS_LOG: "error", ...(options.env ?? {}) };
  const child =
    options.shellPrefix !== undefined
      ? spawn("bash", ["-c", `${options.shellPrefix}; exec "$0" "$@"`, process.execPath, ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
      : spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const keep = (l: string) => {
    output.push(l);
    if (output.length > 200) output.shift();
  };
  createInterface({ input: child.stderr! }).on("line", keep);
  const stdout = createInterface({ input: child.stdout! });
  stdout.on("line", keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start in time:\n${output.join("\n")}`));
    }, options.startTimeoutMs ?? 30_000);
    const early = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (${code ?? signal}):\n${output.join("\n")}`));
    };
    child.once("exit", early);
    stdout.on("line", (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (!m?.[1]) return;
      clearTimeout(timer);
      child.off("exit", early);
      resolve({
        url: m[1],
        child,
        output,
        rss: () => residentBytes(child.pid),
        async kill9() {
          child.kill("SIGKILL");
          await exited(child);
        },
        async stop(graceMs = 10_000) {
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
          await exited(child);
          clearTimeout(t);
        },
      });
    });
  });
}

/** VmRSS of a process in bytes (0 if it is gone). The server under test is always a child of ours. */
export function residentBytes(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m?.[1] ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Brings a database's schema up to date and runs `fn` on an in-process app over it (no listener),
 * e.g. to create a platform key and organizations before the server process starts.
 */
export async function prepareDatabase<T>(databaseUrl: string, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(loadConfig({ USAGE_CREDITS_SWEEP_SECONDS: "86400" }, { database: databaseUrl }), { log: silentLogger, store: await openTestStore(databaseUrl) });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
