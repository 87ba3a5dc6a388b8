// The auto-reload circuit breaker's bookkeeping for a resolved reload payment, written in the
// payment's own transaction (payments.ts applies the answer; this records what it means for reload).

import type { OutboxEvent, Payment } from "../../core/money-in-model.js";
import type { Micros } from "../../core/money.js";
import type { StoreTx } from "../../ports/store.js";
import { event, presentEventPayment } from "./common.js";

export async function recordReloadResult(tx: StoreTx, p: Payment, balance: Micros | null, now: number, events: OutboxEvent[], maxFailures: number): Promise<void> {
  const s = await tx.moneyIn.getAutoReload(p.orgId);
  const data = presentEventPayment(p, balance);
  if (p.status === "succeeded") {
    await tx.moneyIn.resolveReloadAttempt(p.id, "succeeded", null, null, now);
    events.push(event(p.orgId, "auto_reload.succeeded", data, now));
    if (s) {
      const recovered = balance !== null && balance > s.threshold;
      await tx.moneyIn.putAutoReload({ ...s, consecutiveFailures: 0, lastFailureAt: null, lastSkipReason: null, lowBalanceNotified: recovered ? false : s.lowBalanceNotified, updatedAt: now });
    }
    return;
  }
  await tx.moneyIn.resolveReloadAttempt(p.id, "failed", "charge_failed", p.failureCode, now);
  // A failure of a method that has since been replaced does not count against the new one.
  const counts = s !== undefined && s.paymentMethodId === p.paymentMethodId;
  const failures = s ? (counts ? s.consecutiveFailures + 1 : s.consecutiveFailures) : 0;
  events.push(event(p.orgId, "auto_reload.failed", { ...data, reason: "charge_failed", consecutive_failures: failures }, now));
  if (!s) return;
  const suspend = counts && !s.suspended && failures >= maxFailures;
  if (suspend) {
    events.push(event(p.orgId, "auto_reload.suspended", { reason: "suspended_after_failures", consecutive_failures: failures, payment_method_id: p.paymentMethodId, last_failure_code: p.failureCode }, now));
  }
  await tx.moneyIn.putAutoReload({
    ...s,
    consecutiveFailures: failures,
    lastFailureAt: counts ? now : s.lastFailureAt,
    suspended: s.suspended || suspend,
    lastSkipReason: null,
    updatedAt: now,
  });
}
