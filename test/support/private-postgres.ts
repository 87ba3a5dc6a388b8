// A private PostgreSQL cluster for suites that stop and start the database under load: initdb into a
// temporary directory, a free loopback port, pg_ctl to start and stop it (immediate = a crash of the
// database server, fast = an orderly shutdown that cuts every session). Never the shared server at
// 5432, which other suites use at the same time. PostgreSQL refuses to run as root, so as root the
// cluster belongs to the `postgres` OS user (runuser); otherwise to the current user.

import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

function binDir(): string {
  const fromEnv = process.env["UC_PG_BIN"];
  if (fromEnv) return fromEnv;
  for (const v of ["17", "16", "15", "14"]) {
    const d = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(d, "initdb"))) return d;
  }
  return ""; // on PATH
}

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  start(): Promise<void>;
  stop(mode: "immediate" | "fast"): Promise<void>;
  /** Stops the cluster (if running) and removes its directory. */
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const tool = (name: string) => (bin ? join(bin, name) : name);
  const root = process.getuid?.() === 0;
  const as = (cmd: string, args: string[]) => (root ? run("runuser", ["-u", "postgres", "--", cmd, ...args]) : run(cmd, args));
  const dir = mkdtempSync(join(tmpdir(), "uc-pg-"));
  if (root) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  await as(tool("initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  let running = false;
  const pgctl = async (args: string[]) => {
    try {
      await as(tool("pg_ctl"), ["-D", data, ...args]);
    } catch (err) {
      const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-20).join("\n") : "";
      throw new Error(`pg_ctl ${args.join(" ")} failed: ${(err as Error).message}\n${tail}`);
    }
  };
  const pgp: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await pgctl(["-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, "-l", log, "-w", "-t", "60", "start"]);
      running = true;
    },
    async stop(mode) {
      await pgctl(["-m", mode, "-w", "-t", "60", "stop"]);
      running = false;
    },
    async destroy() {
      if (running) await pgp.stop("immediate").catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await pgp.start();
  return pgp;
}
