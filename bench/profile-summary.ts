// `node dist/bench/profile-summary.js FILE.cpuprofile [N]`: the N functions with the most self time
// in a V8 CPU profile (node --cpu-prof), and the self time per source file, as plain text.
import { readFileSync } from "node:fs";

interface Node {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}
interface Profile {
  readonly nodes: Node[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error("usage: profile-summary FILE.cpuprofile [N]");
const top = Number(process.argv[3] ?? 30);
const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fns = new Map<string, number>();
const files = new Map<string, number>();
for (const [id, us] of self) {
  const f = byId.get(id)?.callFrame;
  if (!f) continue;
  const where = f.url.replace(/^.*\/(dist|node_modules)\//, "$1/") || "(native)";
  const fn = `${f.functionName || "(anonymous)"}  ${where}:${f.lineNumber + 1}`;
  fns.set(fn, (fns.get(fn) ?? 0) + us);
  files.set(where, (files.get(where) ?? 0) + us);
}
const pct = (us: number) => `${((us * 100) / total).toFixed(1).padStart(5)} %`;
process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n\nfunctions (self time)\n`);
for (const [fn, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${fn}\n`);
process.stdout.write(`\nfiles (self time)\n`);
for (const [f, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${f}\n`);
