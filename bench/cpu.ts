// CPU time of processes from /proc/<pid>/stat (utime + stime, in clock ticks of 1/100 s on Linux),
// for the per-operation CPU cost of our server and of PostgreSQL: sampled before and after a
// measured load, the difference divided by the operations done in between.

import { readdirSync, readFileSync } from "node:fs";

const TICK_SECONDS = 0.01; // USER_HZ is 100 on every Linux the project targets

/** CPU seconds used so far by pid (0 when it is gone or unreadable). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_SECONDS; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}

/** Every PostgreSQL process on this machine (postmaster, backends, WAL writer, checkpointer…). */
export function postgresPids(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() === "postgres") pids.push(Number(d));
    } catch {
      // gone already
    }
  }
  return pids;
}

export interface CpuSample {
  readonly server: number;
  readonly postgres: Map<number, number>;
}

export function sampleCpu(serverPids: readonly number[]): CpuSample {
  return { server: serverPids.reduce((s, p) => s + cpuSeconds(p), 0), postgres: new Map(postgresPids().map((p) => [p, cpuSeconds(p)])) };
}

/** CPU seconds spent between two samples by the server(s) and by PostgreSQL (new backends count from 0). */
export function cpuBetween(a: CpuSample, b: CpuSample): { server: number; postgres: number } {
  let postgres = 0;
  for (const [pid, t] of b.postgres) postgres += t - (a.postgres.get(pid) ?? 0);
  return { server: b.server - a.server, postgres: Math.max(0, postgres) };
}
