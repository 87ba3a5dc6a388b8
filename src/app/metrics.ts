// Prometheus metrics without a dependency: counters, gauges and histograms with labels, rendered
// in the text exposition format (version 0.0.4). One registry per app; gauges that are cheap to
// read at scrape time (queue depth, pending holds, memory) are collected then, not tracked.
// The event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution timer) is reported as
// quantiles over the interval since the previous scrape, so each scrape says how responsive the
// loop was lately (a cumulative histogram would hide a stall behind hours of idle time).

import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

type Labels = Readonly<Record<string, string>>;

const escape = (v: string): string => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labelText = (l: Labels): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
};
// A series' map key: its labels in name order (code-unit order: names are ASCII identifiers, and
// localeCompare cost a microsecond per sample).
const key = (l: Labels): string => JSON.stringify(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const num = (v: number): string => (Number.isFinite(v) ? String(v) : v > 0 ? "+Inf" : "-Inf");

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const v = this.values.get(k);
    if (v) v.value += by;
    else this.values.set(k, { labels, value: by });
  }

  get(labels: Labels = {}): number {
    return this.values.get(key(labels))?.value ?? 0;
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.values.values()].map((v) => `${this.name}${labelText(v.labels)} ${num(v.value)}`)];
  }
}

/** A gauge whose value is read when scraped. */
export class Gauge implements Metric {
  private readonly readers: Array<() => ReadonlyArray<{ labels: Labels; value: number }>> = [];
  private last: ReadonlyArray<{ labels: Labels; value: number }> = [];
  constructor(readonly name: string, readonly help: string) {}

  collect(read: () => ReadonlyArray<{ labels: Labels; value: number }>): void {
    this.readers.push(read);
  }

  /** Sets the values an asynchronous collector read just before rendering. */
  set(values: ReadonlyArray<{ labels: Labels; value: number }>): void {
    this.last = values;
  }

  render(): string[] {
    const values = this.readers.length > 0 ? this.readers.flatMap((r) => r()) : this.last;
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...values.map((v) => `${this.name}${labelText(v.labels)} ${num(v.value)}`)];
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}

  observe(value: number, labels: Labels = {}): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= (this.buckets[i] ?? 0)) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count++;
  }

  count(labels: Labels = {}): number {
    return this.series.get(key(labels))?.count ?? 0;
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText({ ...s.labels, le: num(b) })} ${s.counts[i] ?? 0}`));
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`, `${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** The application's metrics (names and labels are listed in docs/observability.md). */
export class Metrics {
  readonly httpRequests = new Counter("usage_credits_http_requests_total", "HTTP requests answered, by method, route pattern and status.");
  readonly httpDuration = new Histogram(
    "usage_credits_http_request_duration_seconds",
    "Time from request arrival to the end of the response, by method and route pattern.",
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  readonly batchSize = new Histogram("usage_credits_batch_size", "Money operations committed per group-commit transaction.", [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
  readonly batchQueue = new Gauge("usage_credits_batch_queue_depth", "Money operations waiting for the next batch.");
  readonly holdsPending = new Gauge("usage_credits_holds_pending", "Holds not yet settled, released or expired (all organizations; read from the database at scrape).");
  readonly reloads = new Counter("usage_credits_auto_reload_total", "Auto-reload outcomes on this instance: started, succeeded, failed, skipped.");
  readonly webhookDeliveries = new Counter("usage_credits_webhook_deliveries_total", "Webhook delivery attempts on this instance, by outcome: delivered, retry, failed.");
  readonly authFailures = new Counter("usage_credits_auth_failures_total", "API-key authentications refused, by outcome: invalid (a wrong key) or blocked (too many failures from the address).");
  readonly memory = new Gauge("usage_credits_process_memory_bytes", "Process memory by kind (rss, heap_used, heap_total, external).");
  readonly uptime = new Gauge("usage_credits_process_uptime_seconds", "Seconds since the process started.");
  readonly draining = new Gauge("usage_credits_draining", "1 while the server drains for shutdown, else 0.");
  readonly eventLoopDelay = new Gauge(
    "usage_credits_event_loop_delay_seconds",
    "Event-loop delay since the previous scrape (perf_hooks.monitorEventLoopDelay), by quantile: 0.5, 0.99 and 1 (the maximum).",
  );
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.memory.collect(() => {
      const m = process.memoryUsage();
      return [
        { labels: { kind: "rss" }, value: m.rss },
        { labels: { kind: "heap_used" }, value: m.heapUsed },
        { labels: { kind: "heap_total" }, value: m.heapTotal },
        { labels: { kind: "external" }, value: m.external },
      ];
    });
    this.uptime.collect(() => [{ labels: {}, value: Math.round(process.uptime()) }]);
    this.loopDelay.enable();
    this.eventLoopDelay.collect(() => {
      const h = this.loopDelay;
      // The histogram is in nanoseconds; an empty interval (no sample yet) reads as 0.
      const at = (q: number): number => (h.count === 0 ? 0 : h.percentile(q) / 1e9);
      const values = [
        { labels: { quantile: "0.5" }, value: at(50) },
        { labels: { quantile: "0.99" }, value: at(99) },
        { labels: { quantile: "1" }, value: h.count === 0 ? 0 : h.max / 1e9 },
      ];
      h.reset();
      return values;
    });
  }

  /** Stops the event-loop sampler (the app is closing). */
  close(): void {
    this.loopDelay.disable();
  }

  render(): string {
    const all: Metric[] = [
      this.httpRequests, this.httpDuration, this.batchSize, this.batchQueue, this.holdsPending, this.reloads,
      this.webhookDeliveries, this.authFailures, this.memory, this.uptime, this.draining, this.eventLoopDelay,
    ];
    return `${all.flatMap((m) => m.render()).join("\n")}\n`;
  }
}
