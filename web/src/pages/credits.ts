// Usage credits: the balance, add funds (bundles or a custom amount, the confirmation above the
// threshold, the daily cap explained up front), saved cards, auto-reload (settings, status, the
// last attempts with reasons), grants with source and expiry, the transaction history (filtered,
// paged) and monthly statements. Members without billing rights see it read-only and may request credits.

import { api, ApiError, idempotencyKey } from "../api.js";
import { IntentSlot } from "../intent.js";
import { confirmChange } from "../confirm.js";
import type { Page, PageCtx } from "../context.js";
import { field, h, messageBox, section, select, table, type Child } from "../dom.js";
import { dollarsInput, parseDollars, pretty, serverNow, usd, when } from "../format.js";
import type { Attempt, AutoReload, Bundles, CreditRequest, Grant, List, Member, Payment, PaymentMethod, Statement, Summary, Transaction, UsageRecords } from "../wire.js";
import { BALANCE_INCLUDES } from "./overview.js";

const KINDS = ["grant", "hold", "settle", "release", "void", "expire", "debt_repayment"] as const;
const errText = (err: unknown): string => (err instanceof ApiError || err instanceof Error ? err.message : String(err));
const card = (m: PaymentMethod): string => `${m.brand} •••• ${m.last4}`;

function addFunds(ctx: PageCtx, bundles: Bundles, methods: PaymentMethod[]): HTMLElement {
  const msg = messageBox();
  const choices = [
    ...bundles.data.map((b) =>
      h(
        "label",
        { class: "choice" },
        h("input", { type: "radio", name: "what", value: b.id }),
        ` ${usd(b.credit_amount)} of usage credits for ${usd(b.price)}${b.discount_percent > 0 ? ` (${b.discount_percent}% off)` : ""}`,
      ),
    ),
    h("label", { class: "choice" }, h("input", { type: "radio", name: "what", value: "custom", checked: true }), " A custom amount"),
  ];
  const amount = h("input", { type: "text", inputmode: "decimal", name: "amount", placeholder: "50.00", autocomplete: "off" });
  const method = select("payment_method", methods.map((m) => [m.id, card(m)] as const));
  const confirmBox = h("input", { type: "checkbox", name: "confirm" });
  const confirmRow = h("label", { class: "choice confirm", hidden: true }, confirmBox, h("span", { class: "confirm-text" }, ""));
  const button = h("button", { type: "submit" }, "Add funds");
  const form = h(
    "form",
    { novalidate: true, "aria-label": "Add funds" },
    h("fieldset", {}, h("legend", {}, "Amount"), ...choices),
    field("Custom amount (USD)", amount, `Between ${usd(bundles.minimum_amount)} and ${usd(bundles.maximum_amount)}, whole cents.`),
    methods.length > 0 ? field("Payment method", method) : h("p", { class: "muted" }, "Add a card below first."),
    confirmRow,
    h(
      "p",
      { class: "hint" },
      `Charges above ${usd(bundles.confirm_above)} need your confirmation. You can add up to ${usd(bundles.daily_purchase_cap)} per day (UTC); beyond that, purchases are refused until the next day. Purchased usage credits expire after ${bundles.credits_expire_after_days} days and are non-refundable.`,
    ),
    msg,
    button,
  );
  const choice = (): string => (form.querySelector<HTMLInputElement>('input[name="what"]:checked')?.value ?? "custom");
  /** The charge the current choice would make, in micro-dollars (null when the amount is not valid). */
  const charge = (): number | null => {
    const c = choice();
    if (c === "custom") return parseDollars(amount.value);
    const b = bundles.data.find((x) => x.id === c);
    return b ? Number(b.price) : null;
  };
  const refresh = (): void => {
    const c = charge();
    const above = c !== null && c > Number(bundles.confirm_above);
    confirmRow.hidden = !above;
    const text = confirmRow.querySelector(".confirm-text");
    if (text) text.textContent = ` I confirm a charge of ${usd(c ?? 0)} (above ${usd(bundles.confirm_above)}).`;
    amount.disabled = choice() !== "custom";
  };
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  refresh();
  // One Idempotency-Key per purchase intent, kept across re-clicks and reloads (intent.ts).
  const slot = new IntentSlot(`purchase:${ctx.session.organization.id}`);
  const result = h("div", { class: "result", "data-testid": "purchase-result", hidden: true });
  const showResult = (): void => {
    const s = slot.current();
    if (!s) {
      result.hidden = true;
      result.replaceChildren();
      return;
    }
    const dismiss = h("button", { type: "button", class: "secondary" }, "Dismiss");
    dismiss.addEventListener("click", () => {
      slot.dismiss();
      showResult();
    });
    result.hidden = false;
    if (s.result) {
      result.className = `result message ${s.result.kind}`;
      result.replaceChildren(h("p", { role: "status" }, s.result.text), dismiss);
    } else {
      const what = describeIntent(s.intent, bundles);
      result.className = "result message pending";
      result.replaceChildren(
        h("p", { role: "status" }, `A purchase of ${what} was sent at ${when(s.started_at)} and its answer did not arrive. Press "Add funds" again to learn its outcome: it is sent with the same key and cannot charge twice.`),
        dismiss,
      );
      restoreIntent(s.intent);
    }
  };
  const restoreIntent = (intent: string): void => {
    try {
      const b = JSON.parse(intent) as { amount?: string; bundle_id?: string; payment_method_id?: string; confirm?: boolean };
      const radio = form.querySelector<HTMLInputElement>(`input[name="what"][value="${b.bundle_id ?? "custom"}"]`);
      if (radio) radio.checked = true;
      if (b.amount !== undefined) amount.value = dollarsInput(b.amount);
      if (b.payment_method_id && methods.some((m) => m.id === b.payment_method_id)) method.value = b.payment_method_id;
      confirmBox.checked = b.confirm === true;
      refresh();
    } catch {
      // not ours: ignore
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    const c = choice();
    const body: Record<string, unknown> = {};
    if (methods.length === 0 || !method.value) return msg.error("Add a card first, then choose it as the payment method.");
    if (c === "custom") {
      const micros = parseDollars(amount.value);
      if (micros === null) return msg.error("Enter the amount in dollars with at most two decimals, e.g. 50 or 12.50.");
      if (micros < Number(bundles.minimum_amount) || micros > Number(bundles.maximum_amount)) {
        return msg.error(`The amount must be between ${usd(bundles.minimum_amount)} and ${usd(bundles.maximum_amount)}.`);
      }
      body["amount"] = String(micros);
    } else {
      body["bundle_id"] = c;
    }
    body["payment_method_id"] = method.value;
    const total = charge() ?? 0;
    if (total > Number(bundles.confirm_above)) {
      if (!confirmBox.checked) return msg.error(`Tick the box to confirm a charge of ${usd(total)}.`);
      body["confirm"] = true;
    }
    const intent = JSON.stringify(body);
    const open = slot.current();
    if (open && open.result === null && open.intent !== intent) {
      return msg.error(`The purchase of ${describeIntent(open.intent, bundles)} has no known outcome yet: send it again (same amount and card) or dismiss it before buying something else.`);
    }
    const key = slot.keyFor(intent);
    button.disabled = true;
    api<Payment>("POST", `${ctx.base}/purchases`, body, { "idempotency-key": key })
      .then((p) => {
        const text = p.status === "pending" ? `Your payment of ${usd(p.amount)} is pending; the usage credits arrive when it succeeds.` : `Added ${usd(p.credit_amount)} of usage credits (charged ${usd(p.amount)}).`;
        slot.settle(intent, { kind: "ok", text });
        // The page reloads its figures; the outcome stays on screen until dismissed.
        ctx.reload();
      })
      .catch((err: unknown) => {
        // No answer (network): the outcome is unknown, the key is kept for the retry.
        if (err instanceof ApiError && err.status === 0) return msg.error(errText(err));
        slot.settle(intent, { kind: "error", text: errText(err) });
        showResult();
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  showResult();
  form.insertBefore(result, msg);
  return section("Add funds", form);
}

/** "$25.00 with the card", "the 2,000 bundle" — what a stored purchase intent buys. */
function describeIntent(intent: string, bundles: Bundles): string {
  try {
    const b = JSON.parse(intent) as { amount?: string; bundle_id?: string };
    if (b.amount !== undefined) return usd(b.amount);
    const bundle = bundles.data.find((x) => x.id === b.bundle_id);
    return bundle ? `${usd(bundle.price)} (bundle of ${usd(bundle.credit_amount)})` : "a bundle";
  } catch {
    return "an amount";
  }
}

/** Removes a saved card (asks first: auto-reload charging it stops). */
function removeCard(ctx: PageCtx, m: PaymentMethod, reload: AutoReload): HTMLElement {
  const button = h("button", { type: "button", class: "link danger", "aria-label": `Remove card ${card(m)}` }, "Remove");
  button.addEventListener("click", async () => {
    const usedByReload = reload.enabled && reload.payment_method_id === m.id;
    const ok = await confirmChange(`Remove ${card(m)}?`, usedByReload ? "Auto-reload charges this card: it stops (missing payment method) until you choose another card." : "It can no longer be charged; past payments and receipts keep it.", "Remove card");
    if (!ok) return;
    api("DELETE", `${ctx.base}/payment_methods/${encodeURIComponent(m.id)}`)
      .then(() => ctx.reload())
      .catch((err: unknown) => {
        button.replaceWith(h("span", { class: "message error", role: "alert" }, errText(err)));
      });
  });
  return button;
}

function addCard(ctx: PageCtx): HTMLElement {
  const msg = messageBox();
  const number = h("input", { type: "text", inputmode: "numeric", name: "card_number", autocomplete: "off", maxlength: 23, placeholder: "4242 4242 4242 4242" });
  const form = h("form", { novalidate: true, class: "inline", "aria-label": "Add a card" }, field("Card number (sandbox test card)", number), h("button", { type: "submit", class: "secondary" }, "Add card"), msg);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    const digits = number.value.replace(/[\s-]/g, "");
    if (!/^\d{12,19}$/.test(digits)) return msg.error("Enter the card number: 12 to 19 digits.");
    api<PaymentMethod>("POST", `${ctx.base}/payment_methods`, { card_number: digits }, { "idempotency-key": idempotencyKey() })
      .then(() => ctx.reload())
      .catch((err: unknown) => msg.error(errText(err)));
  });
  return form;
}

function requestCredits(ctx: PageCtx): HTMLElement {
  const msg = messageBox();
  const amount = h("input", { type: "text", inputmode: "decimal", name: "amount", placeholder: "25.00", autocomplete: "off" });
  const note = h("textarea", { name: "note", maxlength: 1000, rows: 2 });
  const form = h("form", { novalidate: true, "aria-label": "Request usage credits" }, field("Amount (USD)", amount), field("Note for your admin (optional)", note), msg, h("button", { type: "submit" }, "Request credits"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    const micros = parseDollars(amount.value);
    if (micros === null || micros <= 0) return msg.error("Enter the amount in dollars with at most two decimals, e.g. 25.");
    api("POST", `${ctx.base}/credit_requests`, { amount: String(micros), note: note.value }, { "idempotency-key": idempotencyKey() })
      .then(() => msg.ok(`Requested ${usd(micros)} of usage credits; an admin will approve or decline it.`))
      .catch((err: unknown) => msg.error(errText(err)));
  });
  return section("Request usage credits", h("p", { class: "muted" }, "Your role cannot add funds. Ask an owner or admin for usage credits:"), form);
}

/** The signed-in member's own credit requests and what became of them. */
function myRequests(requests: readonly CreditRequest[]): HTMLElement {
  const rows = requests.map((r) => [when(r.created_at), usd(r.amount), r.note || "—", pretty(r.status), r.decided_at ? when(r.decided_at) : "—"]);
  return section("Your credit requests", table(["Asked", "Amount", "Note", "Status", "Decided"], rows, { empty: "You have not asked for usage credits.", label: "Your credit requests" }));
}

function autoReload(ctx: PageCtx, s: AutoReload, attempts: Attempt[], methods: PaymentMethod[]): HTMLElement {
  const status = h(
    "p",
    { "data-testid": "reload-status" },
    "Status: ",
    h("strong", {}, pretty(s.status)),
    s.consecutive_failures > 0 ? ` (${s.consecutive_failures} failed in a row)` : "",
  );
  const rows = attempts.slice(0, 10).map((a) => [when(a.created_at), pretty(a.outcome), a.reason ? pretty(a.reason) : a.failure_code ? pretty(a.failure_code) : "—", usd(a.amount), usd(a.balance)]);
  const history = table(["When", "Outcome", "Reason", "Amount", "Balance then"], rows, { empty: "No auto-reload attempts yet.", label: "Auto-reload attempts" });
  if (!ctx.canBill) {
    return section(
      "Auto-reload",
      status,
      s.enabled ? h("p", {}, `Reloads when the balance falls to ${usd(s.threshold)}.`) : null,
      h("h3", {}, "Last attempts"),
      history,
    );
  }
  const msg = messageBox();
  const enabled = h("input", { type: "checkbox", name: "enabled", checked: s.enabled });
  const threshold = h("input", { type: "text", inputmode: "decimal", name: "threshold", value: dollarsInput(s.threshold ?? "10000000") });
  const mode = select("mode", [["amount", "Buy a fixed amount"], ["target", "Top up to a target balance"]], s.mode ?? "amount");
  const amount = h("input", { type: "text", inputmode: "decimal", name: "reload_amount", value: dollarsInput(s.amount ?? "50000000") });
  const target = h("input", { type: "text", inputmode: "decimal", name: "target_balance", value: dollarsInput(s.target_balance) });
  const cap = h("input", { type: "text", inputmode: "decimal", name: "monthly_cap", value: dollarsInput(s.monthly_cap), placeholder: "no cap" });
  const method = select("reload_payment_method", [["", "Choose a card"], ...methods.map((m) => [m.id, card(m)] as const)], s.payment_method_id ?? "");
  const amountField = field("Reload amount (USD)", amount);
  const targetField = field("Target balance (USD)", target);
  const sync = (): void => {
    amountField.hidden = mode.value !== "amount";
    targetField.hidden = mode.value !== "target";
  };
  mode.addEventListener("change", sync);
  sync();
  const form = h(
    "form",
    { novalidate: true, "aria-label": "Auto-reload settings" },
    h("label", { class: "choice" }, enabled, " Reload automatically"),
    field("When the balance falls to (USD)", threshold),
    field("How", mode),
    amountField,
    targetField,
    field("Monthly cap (USD)", cap, "The most auto-reload may charge per UTC month; leave empty for no cap."),
    field("Payment method", method),
    msg,
    h("button", { type: "submit" }, "Save auto-reload"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    const t = parseDollars(threshold.value);
    if (t === null) return msg.error("Enter the threshold in dollars, e.g. 10.");
    const body: Record<string, unknown> = { enabled: enabled.checked, threshold: String(t), mode: mode.value, amount: null, target_balance: null, monthly_cap: null, payment_method_id: method.value || null };
    if (mode.value === "amount") {
      const a = parseDollars(amount.value);
      if (a === null || a <= 0) return msg.error("Enter the reload amount in dollars, e.g. 50.");
      body["amount"] = String(a);
    } else {
      const g = parseDollars(target.value);
      if (g === null || g <= t) return msg.error("The target balance must be above the threshold.");
      body["target_balance"] = String(g);
    }
    if (cap.value.trim() !== "") {
      const c = parseDollars(cap.value);
      if (c === null) return msg.error("Enter the monthly cap in dollars, or leave it empty for no cap.");
      body["monthly_cap"] = String(c);
    }
    if (enabled.checked && !method.value) return msg.error("Choose the card auto-reload charges.");
    api<AutoReload>("PUT", `${ctx.base}/auto_reload`, body)
      .then((r) => {
        msg.ok(r.enabled ? `Auto-reload is ${pretty(r.status)}.` : "Auto-reload is off.");
        setTimeout(ctx.reload, 800);
      })
      .catch((err: unknown) => msg.error(errText(err)));
  });
  return section("Auto-reload", status, form, h("h3", {}, "Last attempts"), history);
}

/** A transaction's change of the customer's balance: the sum of its entries on customer-side accounts. */
export const customerChange = (t: Transaction): bigint =>
  t.entries.reduce((sum, e) => (/^(grant|hold|debt):/.test(e.account) ? sum + BigInt(e.amount) : sum), 0n);
const positiveOn = (t: Transaction, prefix: string): bigint => t.entries.reduce((sum, e) => (e.account.startsWith(prefix) && BigInt(e.amount) > 0n ? sum + BigInt(e.amount) : sum), 0n);
const PAID_BY: Record<Payment["purpose"], string> = { purchase: "Purchase", credit_request: "Approved credit request", auto_reload: "Auto-reload" };
const signed = (v: bigint): string => (v > 0n ? `+${usd(String(v))}` : usd(String(v)));

interface TxContext {
  /** grant id → the payment that bought it (its receipt). */
  readonly receiptOf: ReadonlyMap<string, Payment>;
  readonly emailOf: ReadonlyMap<string, string>;
  readonly grantById: ReadonlyMap<string, Grant>;
  /** hold id → the request's model and member (from usage records). */
  readonly requestOf: ReadonlyMap<string, { model: string; member: string }>;
  /** The customer-side balance now (the current statement's closing balance), for the running balance. */
  readonly balanceNow: Promise<bigint | null>;
}

/**
 * The transaction history, readable: a request's hold and settle are one line with the final
 * charge (a hold alone is a request still in flight), amounts are signed changes of the balance,
 * a running balance follows each line (newest first, unfiltered), and references are links or
 * names — a purchase links to its receipt, a grant shows its source, a request its model.
 */
function transactions(ctx: PageCtx, tc: TxContext): { el: HTMLElement; first: Promise<void> } {
  const kind = select("kind", [["", "All kinds"], ...KINDS.map((k) => [k, pretty(k)] as const)]);
  const body = h("tbody", {});
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load older");
  const msg = messageBox();
  let cursor: string | null = null;
  let running: bigint | null = null;
  const resolved = new Set<string>();
  const heldBy = new Map<string, HTMLElement>();
  const inFlight = new Map<string, { row: HTMLElement; held: string }>();
  // Member ids in grant descriptions ("Monthly SDK credit … for mem_…") read as the member's email.
  const grantName = (g: Grant): string => `${g.kind === "monthly" ? "monthly SDK credit" : pretty(g.kind)}${g.description ? ` · ${g.description.replace(/\bmem_[a-z0-9]+\b/g, (id) => tc.emailOf.get(id) ?? id)}` : ""}`;
  const what = (t: Transaction): Child => {
    switch (t.kind) {
      case "grant": {
        const pay = tc.receiptOf.get(t.ref);
        const g = tc.grantById.get(t.ref);
        if (pay) return h("a", { href: `#/receipt/${encodeURIComponent(pay.id)}` }, `${PAID_BY[pay.purpose]} (receipt)`);
        return g ? `Grant: ${grantName(g)}` : "Grant";
      }
      case "settle":
      case "hold":
      case "release": {
        const r = tc.requestOf.get(t.ref);
        const name = r ? `Request · ${r.model}${r.member ? ` · ${r.member}` : ""}` : "Request";
        return t.kind === "settle" ? name : t.kind === "hold" ? `${name} (in flight)` : `${name} (released, not charged)`;
      }
      case "void":
      case "expire": {
        const g = tc.grantById.get(t.ref);
        return `${t.kind === "void" ? "Voided" : "Expired"}: ${g ? grantName(g) : "a grant"}`;
      }
      default:
        return pretty(t.kind);
    }
  };
  const detail = (t: Transaction): string => {
    if (t.kind === "settle") return `charged ${usd(String(positiveOn(t, "revenue:")))}`;
    if (t.kind === "hold") return `${usd(String(positiveOn(t, "hold:")))} held`;
    return "";
  };
  const page = async (reset: boolean): Promise<void> => {
    msg.clear();
    if (reset) {
      body.replaceChildren();
      cursor = null;
      resolved.clear();
      heldBy.clear();
      inFlight.clear();
      running = kind.value === "" ? await tc.balanceNow : null;
    }
    const q = new URLSearchParams({ limit: "50" });
    if (kind.value) q.set("kind", kind.value);
    if (cursor) q.set("before", cursor);
    const r = await api<List<Transaction>>("GET", `${ctx.base}/transactions?${q.toString()}`);
    for (const t of r.data) {
      const change = customerChange(t);
      const after = running;
      if (running !== null) running -= change;
      if (t.kind === "hold" && resolved.has(t.ref)) {
        // The settle (or release) of this hold is already a line: it takes the amount held.
        const row = heldBy.get(t.ref);
        const cell = row?.querySelector('[data-label="Details"]');
        if (cell) cell.textContent = `${usd(String(positiveOn(t, "hold:")))} held → ${cell.textContent ?? ""}`;
        continue;
      }
      const row = h(
        "tr",
        { "data-tx": t.id, "data-kind": t.kind },
        h("td", { "data-label": "When" }, when(t.created_at)),
        h("td", { "data-label": "What" }, what(t)),
        h("td", { "data-label": "Details" }, detail(t)),
        h("td", { "data-label": "Change", class: `num ${change < 0n ? "neg" : change > 0n ? "pos" : ""}`, "data-testid": "tx-change" }, signed(change)),
        h("td", { "data-label": "Balance after", class: "num", "data-testid": "tx-balance" }, after === null ? "—" : usd(String(after))),
      );
      if (t.kind === "settle" || t.kind === "release") {
        resolved.add(t.ref);
        heldBy.set(t.ref, row);
        // Its hold may already be a line (same millisecond, listed first): fold it into this one.
        const hold = inFlight.get(t.ref);
        if (hold) {
          inFlight.delete(t.ref);
          hold.row.remove();
          const cell = row.querySelector('[data-label="Details"]');
          if (cell) cell.textContent = `${hold.held} held → ${cell.textContent ?? ""}`;
        }
      }
      if (t.kind === "hold") inFlight.set(t.ref, { row, held: usd(String(positiveOn(t, "hold:"))) });
      body.append(row);
    }
    if (reset && r.data.length === 0) body.append(h("tr", {}, h("td", { colspan: 5, class: "empty" }, "No transactions.")));
    cursor = r.next_cursor ?? null;
    more.hidden = cursor === null;
  };
  kind.addEventListener("change", () => void page(true).catch((err: unknown) => msg.error(errText(err))));
  more.addEventListener("click", () => void page(false).catch((err: unknown) => msg.error(errText(err))));
  const t = h("table", {}, h("thead", {}, h("tr", {}, ...["When", "What", "Details", "Change", "Balance after"].map((c) => h("th", { scope: "col" }, c)))), body);
  const el = section(
    "Transaction history",
    h("p", { class: "hint" }, "Each line is one change of the organization's balance, newest first. A request's hold and settle are one line with the final charge. The balance after each line counts every grant, members' monthly SDK credits and amounts held included (the statement's closing balance)."),
    h("div", { class: "controls" }, field("Kind", kind)),
    h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Transactions" }, t),
    more,
    msg,
  );
  return { el, first: page(true) };
}

/**
 * Why the statement's closing balance differs from the balance at the top: it counts every grant
 * account — members' monthly SDK credits and amounts held for requests in flight included.
 */
function twoBalances(s: Statement, balance: string, grants: readonly Grant[]): HTMLElement {
  const sdkLeft = grants.filter((g) => g.kind === "monthly" && g.status === "active").reduce((t, g) => t + BigInt(g.remaining), 0n);
  const held = BigInt(s.closing.held);
  const other = BigInt(s.closing_balance) - BigInt(balance) - sdkLeft - held;
  return h(
    "p",
    { class: "hint", "data-testid": "two-balances" },
    `Closing balance so far ${usd(s.closing_balance)} = the balance above ${usd(balance)} + members' monthly SDK credits left ${usd(String(sdkLeft))} + held for requests in flight ${usd(String(held))}`,
    other !== 0n ? ` + expired credits not yet swept ${usd(String(other))}` : "",
    ".",
  );
}

function statements(ctx: PageCtx, balance: string, grants: readonly Grant[]): { el: HTMLElement; first: Promise<void> } {
  const now = new Date(serverNow());
  const months: string[] = [];
  for (let i = 0; i < 12; i++) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    months.push(d.toISOString().slice(0, 7));
  }
  const month = select("month", months.map((m) => [m, m] as const));
  const out = h("div", {});
  const msg = messageBox();
  const show = (): Promise<void> => {
    msg.clear();
    return api<Statement>("GET", `${ctx.base}/statements/${month.value}`)
      .then((s) => {
        const lines: Child[][] = s.lines.map((l) => [pretty(l.category), String(l.transactions), usd(l.amount)]);
        out.replaceChildren(
          table(["", "Transactions", "Amount"], [["Opening balance", "", usd(s.opening_balance)], ...lines, ["Usage paid with usage credits", "", usd(s.usage.total)]], {
            foot: ["Closing balance", "", h("span", { "data-testid": "statement-closing" }, usd(s.closing_balance))],
            label: `Statement ${s.month}`,
          }),
          h("p", { class: "muted" }, s.reconciled ? "Reconciled with the ledger." : "Not reconciled with the ledger.", s.complete ? "" : " The month is not over yet."),
          ...(s.month === months[0] ? [twoBalances(s, balance, grants)] : []),
          h(
            "p",
            { class: "actions" },
            h("a", { href: `${ctx.base}/statements/${s.month}.csv`, download: `statement-${s.month}.csv`, class: "button secondary", "data-testid": "statement-csv" }, `Download ${s.month} statement (CSV)`),
            h("a", { href: `${ctx.base}/statements/${s.month}.pdf`, download: `statement-${s.month}.pdf`, class: "button secondary", "data-testid": "statement-pdf" }, "PDF"),
            h("a", { href: `${ctx.base}/statements/${s.month}`, target: "_blank", rel: "noopener", class: "button secondary" }, "JSON"),
          ),
        );
      })
      .catch((err: unknown) => msg.error(errText(err)));
  };
  month.addEventListener("change", () => void show());
  return { el: section("Monthly statements", h("div", { class: "controls" }, field("Month", month)), msg, out), first: show() };
}

export const creditsPage: Page = async (ctx, view) => {
  const [summary, grants, reload, attempts, bundles, methods, requests, payments, usage, members] = await Promise.all([
    api<Summary>("GET", `${ctx.base}/usage_summary`),
    api<List<Grant>>("GET", `${ctx.base}/grants`),
    api<AutoReload>("GET", `${ctx.base}/auto_reload`),
    api<List<Attempt>>("GET", `${ctx.base}/auto_reload/attempts?limit=10`),
    api<Bundles>("GET", "/v1/bundles"),
    ctx.canBill ? api<List<PaymentMethod>>("GET", `${ctx.base}/payment_methods`) : Promise.resolve({ data: [] as PaymentMethod[] }),
    api<List<CreditRequest>>("GET", `${ctx.base}/members/${ctx.session.member.id}/credit_requests`),
    ctx.canBill ? api<List<Payment>>("GET", `${ctx.base}/purchases?limit=500`) : Promise.resolve({ data: [] as Payment[] }),
    api<UsageRecords>("GET", `${ctx.base}/usage${ctx.canBill ? "" : `?member_id=${ctx.session.member.id}`}`),
    api<List<Member>>("GET", `${ctx.base}/members`),
  ]);
  const live = methods.data.filter((m) => m.detached_at === null);
  const grantRows = grants.data
    .slice()
    .reverse()
    .map((g) => [pretty(g.kind), g.description || "—", usd(g.amount), usd(g.remaining), g.expires_at ? when(g.expires_at) : "Never", pretty(g.status)]);
  const receiptOf = new Map(payments.data.filter((p) => p.grant_id !== null).map((p) => [p.grant_id ?? "", p]));
  const emailOf = new Map(members.data.map((m) => [m.id, m.email]));
  const requestOf = new Map(usage.data.filter((u) => u.hold_id).map((u) => [u.hold_id ?? "", { model: u.model, member: emailOf.get(u.member_id) ?? "" }]));
  const month = new Date(serverNow()).toISOString().slice(0, 7);
  const balanceNow = api<Statement>("GET", `${ctx.base}/statements/${month}`).then((st) => BigInt(st.closing_balance));
  const tx = transactions(ctx, { receiptOf, emailOf, grantById: new Map(grants.data.map((g) => [g.id, g])), requestOf, balanceNow });
  const st = statements(ctx, summary.usage_credits.balance, grants.data);
  view.append(
    section(
      "Balance",
      h("p", { class: "big", "data-testid": "balance" }, usd(summary.usage_credits.balance)),
      h("p", { class: "hint", "data-testid": "balance-includes" }, BALANCE_INCLUDES),
      ctx.canBill ? h("p", { class: "muted" }, `Organization's spend paid with usage credits this month: ${usd(summary.usage_credits.used_credits)}`) : null,
    ),
    h(
      "div",
      { class: "grid two" },
      ...(ctx.canBill
        ? [addFunds(ctx, bundles, live), section("Payment methods", table(["Card", "Added", ""], live.map((m) => [card(m), when(m.created_at), removeCard(ctx, m, reload)]), { empty: "No saved card.", label: "Payment methods" }), addCard(ctx))]
        : [requestCredits(ctx), myRequests(requests.data)]),
    ),
    autoReload(ctx, reload, attempts.data, live),
    section("Grants", table(["Source", "Description", "Amount", "Remaining", "Expires", "Status"], grantRows, { empty: "No usage credits granted yet.", label: "Grants" })),
    tx.el,
    st.el,
  );
  await Promise.all([tx.first, st.first]);
};
