// Brute-force protection for API keys: failed authentications are counted per client address in a
// fixed window that starts at the address's first failure; at `limit` failures the address is
// refused (429, retry-after = the rest of the window) for every key, valid or not, so it learns
// nothing more. Successful authentications cost nothing and reset nothing (a holder of one valid
// key must not be able to keep guessing others).
//
// In-process, per instance: with N instances an address gets at most N × limit guesses per window,
// which against 160-bit keys changes nothing; a shared table would put a write on the path of every
// bad request. Memory is bounded: past `maxAddresses` the oldest windows are forgotten first.

export class AuthFailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxAddresses = 100_000,
  ) {}

  /** Milliseconds until `address` may try again (0: it may now). */
  blockedFor(address: string, now: number): number {
    if (this.limit === 0) return 0;
    const w = this.windows.get(address);
    if (!w || now - w.start >= this.windowMs || w.failures < this.limit) return 0;
    return w.start + this.windowMs - now;
  }

  /** Counts a failure; returns the address's failures in its current window. */
  fail(address: string, now: number): number {
    if (this.limit === 0) return 0;
    let w = this.windows.get(address);
    if (!w || now - w.start >= this.windowMs) {
      this.windows.delete(address); // re-inserted last: Map order stays oldest window first
      w = { start: now, failures: 0 };
      this.windows.set(address, w);
      for (const oldest of this.windows.keys()) {
        if (this.windows.size <= this.maxAddresses) break;
        this.windows.delete(oldest);
      }
    }
    w.failures++;
    return w.failures;
  }
}
