// Two small mechanisms behind the work done after a money operation commits (auto-reload,
// money-path webhook events): a per-process list of the organizations that work can concern, and
// a per-organization coalescing runner so bursts of settles cost one evaluation, not one each.

import type { Clock } from "../ports/clock.js";

/**
 * The ids of organizations that have some setting (auto-reload, a webhook endpoint), loaded from the
 * store and refreshed in the background once older than `maxAgeMs`. Until the first load completes
 * every organization may be in it (nothing is missed). This instance's own additions count at once;
 * other instances' changes are seen within `maxAgeMs`.
 */
export class RefreshingOrgSet {
  private ids: Set<string> | undefined;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  /** Added here while a load was in flight: the load may not include them yet. */
  private addedDuringLoad = new Set<string>();

  constructor(
    private readonly load: () => Promise<string[]>,
    private readonly clock: Clock,
    private readonly maxAgeMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** False only when the organization is known not to be in the set; starts a refresh when due. */
  mayContain(orgId: string): boolean {
    this.refresh();
    return this.ids === undefined || this.ids.has(orgId);
  }

  add(orgId: string): void {
    this.ids?.add(orgId);
    if (this.loading) this.addedDuringLoad.add(orgId);
  }

  private refresh(): void {
    if (this.loading || this.clock.now() - this.loadedAt < this.maxAgeMs) return;
    const startedAt = this.clock.now();
    this.addedDuringLoad = new Set();
    this.loading = this.load()
      .then((ids) => {
        this.ids = new Set([...ids, ...this.addedDuringLoad]);
        this.loadedAt = startedAt;
      })
      .catch(this.onError)
      .finally(() => {
        this.loading = undefined;
      });
  }
}

/**
 * Runs `run(orgId)` in the background, one run at a time per organization; requests that arrive
 * during a run are coalesced into one more run after it. Errors go to `onError`.
 */
export class PerOrgRunner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();

  constructor(
    private readonly run: (orgId: string) => Promise<unknown>,
    private readonly onError: (orgId: string, err: unknown) => void,
  ) {}

  request(orgId: string): void {
    if (this.running.has(orgId)) {
      this.again.add(orgId);
      return;
    }
    const job = Promise.resolve().then(async () => {
      try {
        do {
          this.again.delete(orgId);
          await this.run(orgId);
        } while (this.again.has(orgId));
      } catch (err) {
        this.onError(orgId, err);
      } finally {
        this.running.delete(orgId);
      }
    });
    this.running.set(orgId, job);
  }

  get busy(): boolean {
    return this.running.size > 0;
  }

  /** Resolves once no run is in flight. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }
}
