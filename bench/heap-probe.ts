// Preloaded into the soak's steady server (`node --expose-gc --import …/heap-probe.js`), never into
// production: on SIGUSR2 it runs a full garbage collection and writes the live heap to stderr, so the
// soak can tell a leak (live heap growing) from the collector's sawtooth (RSS moving, heap flat).

process.on("SIGUSR2", () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  process.stderr.write(`heap-probe ${m.heapUsed} ${m.rss} ${m.external}\n`);
});
