// Operator console: customers (search; balance, debt, plan, this month's spend) and one
// organization's page — its figures, grants (grant, adjust and void, each with a reason), holds in
// flight, limits, members, keys, payments and audit log.

import { confirmChange } from "../confirm.js";
import { field, h, messageBox, section, select, table } from "../dom.js";
import { parseDollars, pretty, usd, when } from "../format.js";
import { statusText } from "../pages/payments.js";
import type { ApiKey, AuditEntry, Customer, Grant, Limit, List, Member, Org, Payment, Transaction } from "../wire.js";
import { errText, type OperatorPage } from "./console.js";

const orgLink = (c: { id: string; name: string }): HTMLElement => h("a", { href: `#/operator/org/${encodeURIComponent(c.id)}` }, c.name);

export const customersPage: OperatorPage = async (ctx, view) => {
  const q = h("input", { type: "search", name: "q", placeholder: "Name or org_ id", autocomplete: "off", maxlength: 200, value: new URLSearchParams(location.hash.split("?")[1] ?? "").get("q") ?? "" });
  const out = h("div", {});
  const msg = messageBox();
  const show = async (): Promise<void> => {
    const r = await ctx.call<List<Customer>>("GET", `/v1/operator/customers?limit=200&q=${encodeURIComponent(q.value.trim())}`);
    const rows = r.data.map((c) => [
      orgLink(c),
      c.plan_id,
      h("span", { "data-testid": "customer-balance", "data-org": c.id }, usd(c.balance)),
      h("span", { "data-testid": "customer-debt", "data-org": c.id }, usd(c.debt)),
      h("span", { "data-testid": "customer-spend", "data-org": c.id }, usd(c.month_spend)),
      c.usage_credits_enabled ? "On" : "Off",
    ]);
    out.replaceChildren(table(["Customer", "Plan", "Balance", "Debt", "Paid with credits this month", "Usage credits"], rows, { empty: "No customer matches.", label: "Customers" }));
  };
  const form = h("form", { class: "controls", role: "search", "aria-label": "Customer search" }, field("Search customers", q), h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    delete document.body.dataset["ready"];
    show()
      .catch((err: unknown) => msg.error(errText(err)))
      .finally(() => {
        document.body.dataset["ready"] = "operator-customers";
      });
  });
  view.append(section("Customers", h("p", { class: "hint" }, "Balance: usage credits the organization can spend (purchased, promotional, adjustments; members' monthly SDK credits not included), minus debt."), form, msg, out));
  await show();
};

/** A dialog asking why (required), for changes an operator makes to a customer's money. */
function askReason(title: string, action: string): Promise<string | null> {
  return new Promise((resolve) => {
    const reason = h("textarea", { name: "reason", rows: 3, maxlength: 500, required: true });
    const msg = messageBox();
    const ok = h("button", { type: "submit", "data-testid": "reason-ok" }, action);
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const form = h("form", { method: "dialog", novalidate: true }, h("h2", { id: "reason-title" }, title), field("Reason (kept in the audit log)", reason), msg, h("div", { class: "actions" }, ok, cancel));
    const dialog = h("dialog", { class: "confirm-dialog", "aria-labelledby": "reason-title" }, form);
    let done = false;
    const finish = (v: string | null): void => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(v);
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (reason.value.trim() === "") return msg.error("Say why: the reason is kept in the audit log.");
      finish(reason.value.trim());
    });
    cancel.addEventListener("click", () => finish(null));
    dialog.addEventListener("close", () => finish(null));
    document.body.append(dialog);
    dialog.showModal();
    reason.focus();
  });
}

export const orgPage: OperatorPage = async (ctx, view) => {
  const id = ctx.param;
  const base = `/v1/organizations/${encodeURIComponent(id)}`;
  const [customers, org, grants, limits, members, keys, payments, audit, txs] = await Promise.all([
    ctx.call<List<Customer>>("GET", `/v1/operator/customers?limit=1&q=${encodeURIComponent(id)}`),
    ctx.call<Org>("GET", base),
    ctx.call<List<Grant>>("GET", `${base}/grants`),
    ctx.call<List<Limit>>("GET", `${base}/spend_limits`),
    ctx.call<List<Member>>("GET", `${base}/members`),
    ctx.call<List<ApiKey>>("GET", `${base}/api_keys`),
    ctx.call<List<Payment>>("GET", `${base}/purchases?limit=50`),
    ctx.call<List<AuditEntry>>("GET", `${base}/audit_log?limit=20`),
    ctx.call<List<Transaction>>("GET", `${base}/transactions?limit=200`),
  ]);
  const c = customers.data.find((x) => x.id === id);
  const heading = view.querySelector("h1");
  if (heading) heading.textContent = org.name;
  const emailOf = new Map(members.data.map((m) => [m.id, m.email]));
  const msg = messageBox();

  // Grants: void (with a reason) each active one; grant or adjust (with a reason) below.
  const grantRows = grants.data
    .slice()
    .reverse()
    .map((g) => {
      const voidIt = h("button", { type: "button", class: "link danger", "aria-label": `Void grant ${g.id}` }, "Void");
      voidIt.addEventListener("click", async () => {
        const reason = await askReason(`Void ${usd(g.remaining)} left of this ${pretty(g.kind)} grant?`, "Void grant");
        if (reason === null) return;
        ctx
          .call("POST", `${base}/grants/${encodeURIComponent(g.id)}/void?reason=${encodeURIComponent(reason)}`, undefined, { "idempotency-key": `void-${g.id}` })
          .then(() => ctx.reload())
          .catch((err: unknown) => msg.error(errText(err)));
      });
      return [pretty(g.kind), g.description || "—", g.member_id ? (emailOf.get(g.member_id) ?? g.member_id) : "Organization", usd(g.amount), h("span", { "data-testid": "grant-remaining", "data-grant": g.id }, usd(g.remaining)), g.expires_at ? when(g.expires_at) : "Never", pretty(g.status), g.status === "active" ? voidIt : ""];
    });
  const kind = select("grant_kind", [["adjustment", "Adjustment (goodwill, correction)"], ["promotional", "Promotional"]], "adjustment");
  const amount = h("input", { type: "text", inputmode: "decimal", name: "grant_amount", placeholder: "25.00", autocomplete: "off" });
  const reason = h("input", { type: "text", name: "grant_reason", maxlength: 500, autocomplete: "off" });
  const grantMsg = messageBox();
  // One key per form shown: a double submit grants once; a new grant after success gets a new key.
  let key = crypto.randomUUID();
  const grantForm = h("form", { novalidate: true, "aria-label": "Grant or adjust credits", class: "inline" }, field("Kind", kind), field("Amount (USD)", amount), field("Reason", reason, "Shown as the grant's description and kept in the audit log."), h("button", { type: "submit" }, "Grant credits"), grantMsg);
  grantForm.addEventListener("submit", (e) => {
    e.preventDefault();
    grantMsg.clear();
    const micros = parseDollars(amount.value);
    if (micros === null || micros <= 0) return grantMsg.error("Enter the amount in dollars, e.g. 25.");
    if (reason.value.trim() === "") return grantMsg.error("Say why: the reason is the grant's description.");
    void confirmChange(`Grant ${usd(micros)} (${kind.value}) to ${org.name}?`, `Reason: ${reason.value.trim()}. It is spendable at once.`, "Grant").then((yes) => {
      if (!yes) return;
      ctx
        .call<Grant>("POST", `${base}/grants`, { kind: kind.value, amount: String(micros), description: reason.value.trim() }, { "idempotency-key": key })
        .then(() => {
          key = crypto.randomUUID();
          ctx.reload();
        })
        .catch((err: unknown) => grantMsg.error(errText(err)));
    });
  });

  // Holds in flight: hold transactions with no settle or release yet (of the latest 200).
  const resolved = new Set(txs.data.filter((t) => t.kind === "settle" || t.kind === "release").map((t) => t.ref));
  const holds = txs.data.filter((t) => t.kind === "hold" && !resolved.has(t.ref));
  const held = (t: Transaction): string => usd(String(t.entries.reduce((s, e) => (e.account.startsWith("hold:") && BigInt(e.amount) > 0n ? s + BigInt(e.amount) : s), 0n)));

  view.append(
    section(
      "Customer",
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Organization"),
        h("dd", { class: "mono" }, org.id),
        h("dt", {}, "Plan"),
        h("dd", {}, org.plan_id),
        h("dt", {}, "Balance"),
        h("dd", { "data-testid": "org-balance" }, c ? usd(c.balance) : "—"),
        h("dt", {}, "Debt"),
        h("dd", { "data-testid": "org-debt" }, usd(org.debt)),
        h("dt", {}, "Paid with credits this month"),
        h("dd", {}, c ? usd(c.month_spend) : "—"),
        h("dt", {}, "Usage credits"),
        h("dd", {}, org.usage_credits_enabled ? "On" : "Off"),
      ),
      h("p", {}, h("a", { href: `#/operator/lab?org=${encodeURIComponent(org.id)}` }, "Replay its usage in the pricing lab")),
      msg,
    ),
    section("Grants", table(["Kind", "Description", "For", "Amount", "Remaining", "Expires", "Status", ""], grantRows, { empty: "No grants.", label: "Grants" }), h("h3", {}, "Grant or adjust credits"), grantForm),
    section("Holds in flight", table(["Since", "Hold", "Held"], holds.map((t) => [when(t.created_at), h("span", { class: "mono" }, t.ref), held(t)]), { empty: "No request is holding credits.", label: "Holds" })),
    section(
      "Spending limits",
      table(
        ["Scope", "Applies to", "Period", "Limit"],
        limits.data.map((l) => [pretty(l.scope), l.scope === "member" ? (emailOf.get(l.scope_id) ?? l.scope_id) : l.scope === "organization" ? org.name : l.scope_id, l.period, l.amount === null ? "Unlimited" : usd(l.amount)]),
        { empty: "No spending limits.", label: "Spending limits" },
      ),
    ),
    section("Members", table(["Member", "Role", "Seat", "Usage credits"], members.data.map((m) => [m.email, pretty(m.role), m.seat_tier, m.usage_credits_enabled ? "On" : "Off"]), { label: "Members" })),
    section("API keys", table(["Name", "Key", "Member", "Status"], keys.data.map((k) => [k.name, h("span", { class: "mono" }, `${k.prefix}…`), emailOf.get(k.member_id ?? "") ?? "—", k.revoked_at ? `Revoked ${when(k.revoked_at)}` : "Active"]), { empty: "No keys.", label: "API keys" })),
    section("Payments", table(["When", "Status", "Charged", "Credits"], payments.data.map((p) => [when(p.created_at), statusText(p), usd(p.amount), p.status === "succeeded" ? usd(p.credit_amount) : "—"]), { empty: "No payments.", label: "Payments" })),
    section(
      "Audit log (latest 20)",
      table(["When", "Who", "Action", "Object"], audit.data.map((a) => [when(a.at), a.actor.type === "platform_key" ? "Operator" : (emailOf.get(a.actor.member_id ?? "") ?? pretty(a.actor.type)), a.action, `${pretty(a.target.type)}${a.after && typeof a.after["reason"] === "string" ? ` · reason: ${a.after["reason"]}` : ""}`]), { empty: "Nothing audited yet.", label: "Audit log" }),
    ),
  );
};
