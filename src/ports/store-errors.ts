// The store's two infrastructure errors, as classes the callers test with instanceof (never by
// name): the drivers (src/adapters/store) throw them, the batcher and the gateway retry on
// StoreUnavailable, the edge maps it to 503/507 with retry-after, and an idempotent write that
// races another with the same key recovers from UniqueViolation.

/**
 * Why the database refuses service: it cannot be reached (or is shutting down), it is read-only,
 * or its disk is full. The HTTP edge answers 503 service_unavailable for the first two and 507
 * storage_full for the last, each with retry-after; a retry with the same idempotency key is safe.
 */
export type UnavailableReason = "unreachable" | "read_only" | "full";

/** Thrown when the database cannot be reached or refuses service; mapped to HTTP 503 (507 when full). */
export class StoreUnavailable extends Error {
  constructor(
    message: string,
    cause?: unknown,
    readonly reason: UnavailableReason = "unreachable",
  ) {
    super(message, { cause });
    this.name = "StoreUnavailable";
  }
}

/** A unique constraint refused a write (e.g. two requests racing with one idempotency key). */
export class UniqueViolation extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "UniqueViolation";
  }
}

/**
 * A batch decided on this instance's cached state found, inside its transaction, that an
 * organization changed since it was cached (another writer), or that one of its idempotency keys is
 * already stored. Nothing was written; the batcher reruns it on state it reads in its transaction.
 */
export class StaleSnapshot extends Error {
  /** Crosses from the SQLite writer thread by this code. */
  static readonly code = "UC_STALE_SNAPSHOT";
  constructor(message: string) {
    super(message);
    this.name = "StaleSnapshot";
  }
}
