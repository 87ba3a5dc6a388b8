// Money actions that cannot double. A purchase intent (what is bought, with which card) gets one
// Idempotency-Key, kept in sessionStorage: a re-click, a reload mid-purchase or a retry after a
// lost answer sends the same key, and the server (and the payment provider behind it) answers
// with the first payment instead of charging again. The outcome is kept beside the key and shown
// until the user dismisses it; only then does the same intent get a fresh key (a new purchase).

export interface IntentResult {
  readonly kind: "ok" | "error";
  readonly text: string;
}

interface Stored {
  readonly intent: string;
  readonly key: string;
  readonly started_at: string;
  readonly result: IntentResult | null;
}

const PREFIX = "uc.intent.";

const read = (scope: string): Stored | null => {
  try {
    const raw = sessionStorage.getItem(PREFIX + scope);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
};
const write = (scope: string, s: Stored): void => {
  try {
    sessionStorage.setItem(PREFIX + scope, JSON.stringify(s));
  } catch {
    // Storage full or disabled: the key still holds for this page's life.
  }
};

/**
 * One action slot (e.g. "purchase:<org>"): the last intent, its key and its outcome. A different
 * intent in the slot replaces it only once the previous outcome is known (a purchase whose answer
 * never arrived keeps its key until the user sends it again or dismisses it).
 */
export class IntentSlot {
  constructor(private readonly scope: string) {}

  /** The stored intent (for the page to restore the form and its message after a reload). */
  current(): Stored | null {
    return read(this.scope);
  }

  /** The key for this intent: the stored one if it is the same intent, else a new one. */
  keyFor(intent: string): string {
    const s = read(this.scope);
    if (s && s.intent === intent) return s.key;
    const fresh: Stored = { intent, key: crypto.randomUUID(), started_at: new Date().toISOString(), result: null };
    write(this.scope, fresh);
    return fresh.key;
  }

  /** Records the outcome: it stays on screen (and in storage) until dismissed. */
  settle(intent: string, result: IntentResult): void {
    const s = read(this.scope);
    if (!s || s.intent !== intent) return;
    write(this.scope, { ...s, result });
  }

  /** The user read the outcome: the next purchase, even of the same amount, is a new one. */
  dismiss(): void {
    try {
      sessionStorage.removeItem(PREFIX + this.scope);
    } catch {
      // nothing stored
    }
  }
}
