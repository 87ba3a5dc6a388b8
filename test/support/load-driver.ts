// A small load driver in its own process, so the test process that times /healthz does nothing
// else (parsing 2 MB breakdowns or opening 300 connections in the prober's own event loop would be
// counted against the server). Run as `node load-driver.js <spec JSON>`:
// - { "loop": { url, headers } }: GETs back to back, bodies discarded, until SIGTERM; then prints
//   { count, times } (ms per request) as one JSON line and exits.
// - { "burst": [{ url, headers, body }, …] }: prints "ready", waits for a line on stdin, POSTs them
//   all at once and prints "sent"; prints { statuses } when all are answered, and exits. (Starting a process takes a few hundred ms on a busy
//   machine: the test starts it early and says when.)

interface Spec {
  readonly loop?: { readonly url: string; readonly headers: Record<string, string> };
  readonly burst?: ReadonlyArray<{ readonly url: string; readonly headers: Record<string, string>; readonly body: string }>;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as Spec;
const print = (x: unknown) => process.stdout.write(`${JSON.stringify(x)}\n`);

if (spec.loop) {
  const { url, headers } = spec.loop;
  const times: number[] = [];
  let running = true;
  process.once("SIGTERM", () => (running = false));
  process.stdout.write("started\n");
  while (running) {
    const t0 = performance.now();
    const r = await fetch(url, { headers });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
    times.push(performance.now() - t0);
  }
  print({ count: times.length, times });
} else if (spec.burst) {
  // One request first, so the HTTP client is loaded and warm when the burst is asked for.
  const first = spec.burst[0];
  if (first) await (await fetch(new URL("/healthz", first.url))).arrayBuffer();
  process.stdout.write("ready\n");
  await new Promise((r) => process.stdin.once("data", r));
  process.stdin.destroy();
  const sent = spec.burst.map(async (b) => (await fetch(b.url, { method: "POST", headers: b.headers, body: b.body })).status);
  await new Promise((r) => setTimeout(r, 0)); // the requests are written
  process.stdout.write("sent\n");
  print({ statuses: await Promise.all(sent) });
}
