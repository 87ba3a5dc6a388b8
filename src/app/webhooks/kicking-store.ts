// A store wrapper that tells the dispatcher a commit wrote outbox events (so it runs at once).

import type { OutboxEvent } from "../../core/money-in-model.js";
import type { Store, StoreTx } from "../../ports/store.js";

/** Wraps a store so that a commit which wrote outbox events calls `onEvents` (the dispatcher's kick). */
export function kickingStore(store: Store, onEvents: () => void): Store {
  const watch = (tx: StoreTx, wrote: () => void): StoreTx =>
    new Proxy(tx, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop !== "moneyIn") return typeof value === "function" ? value.bind(target) : value;
        const moneyIn = target.moneyIn;
        return new Proxy(moneyIn, {
          get(m, p) {
            const v: unknown = Reflect.get(m, p, m);
            if (p === "insertEvents") {
              return (events: readonly OutboxEvent[]) => {
                if (events.length > 0) wrote();
                return m.insertEvents(events);
              };
            }
            return typeof v === "function" ? v.bind(m) : v;
          },
        });
      },
    });
  return {
    capabilities: store.capabilities,
    async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      let wrote = false;
      const result = await store.transaction((tx) => fn(watch(tx, () => (wrote = true))));
      if (wrote) onEvents();
      return result;
    },
    read: (fn) => store.read(fn),
    schemaVersion: () => store.schemaVersion(),
    close: () => store.close(),
  };
}
