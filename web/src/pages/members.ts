// Members and keys: roles, seat tiers, usage credits per member, fast mode for the organization,
// each member's spending limit, dashboard passwords, pending credit requests (approve/decline)
// and API keys (created and shown once, revoked). Changing anything here needs owner or admin.

import { api, ApiError, idempotencyKey } from "../api.js";
import { confirmChange } from "../confirm.js";
import type { Page, PageCtx } from "../context.js";
import { field, h, messageBox, section, select, table } from "../dom.js";
import { pretty, usd, when } from "../format.js";
import type { ApiKey, CreditRequest, Limit, List, Member, Org, Payment, PaymentMethod, Workspace } from "../wire.js";

const errText = (err: unknown): string => (err instanceof ApiError || err instanceof Error ? err.message : String(err));
const ROLES = ["owner", "admin", "billing", "member"] as const;
const SEATS = ["standard", "premium"] as const;
const SURFACES = ["interactive", "sdk", "cli_headless", "ci"] as const;

export const membersPage: Page = async (ctx, view) => {
  const [members, limits, org] = await Promise.all([
    api<List<Member>>("GET", `${ctx.base}/members`),
    api<List<Limit>>("GET", `${ctx.base}/spend_limits`),
    api<Org>("GET", ctx.base),
  ]);
  const msg = messageBox();
  const memberLimit = (id: string): string => {
    const l = limits.data.find((x) => x.scope === "member" && x.scope_id === id && x.period === "monthly");
    return l ? (l.amount === null ? "Unlimited" : `${usd(l.amount)} / month`) : "None";
  };
  const patch = (m: Member, body: Record<string, unknown>): void => {
    msg.clear();
    api<Member>("PATCH", `${ctx.base}/members/${m.id}`, body)
      .then((r) => msg.ok(`Saved ${r.email}.`))
      .catch((err: unknown) => {
        msg.error(errText(err));
        setTimeout(ctx.reload, 1500);
      });
  };
  const rows = members.data.map((m) => {
    if (!ctx.canManage) return [m.email, pretty(m.role), m.seat_tier, m.usage_credits_enabled ? "On" : "Off", m.fast_mode_enabled ? "Allowed" : "Off", memberLimit(m.id)];
    const role = select(`role-${m.id}`, ROLES.map((r) => [r, pretty(r)] as const), m.role, { "aria-label": `Role of ${m.email}` });
    // Role and permission changes take effect at once: each asks for a confirmation first, and a
    // cancelled change puts the control back.
    let shownRole: string = m.role;
    role.addEventListener("change", () => {
      const next = role.value;
      void confirmChange(`Change the role of ${m.email}?`, `${m.email} becomes ${pretty(next)} (was ${pretty(shownRole)}). What they may see and change follows at once.`, "Change role").then((yes) => {
        if (!yes) return void (role.value = shownRole);
        shownRole = next;
        patch(m, { role: next });
      });
    });
    const seat = select(`seat-${m.id}`, SEATS.map((r) => [r, r] as const), m.seat_tier, { "aria-label": `Seat tier of ${m.email}` });
    seat.addEventListener("change", () => patch(m, { seat_tier: seat.value }));
    const toggle = (box: HTMLInputElement, what: string, field: "usage_credits_enabled" | "fast_mode_enabled"): void => {
      box.addEventListener("change", () => {
        const on = box.checked;
        void confirmChange(`${on ? "Allow" : "Stop"} ${what} for ${m.email}?`, on ? `${m.email} may use ${what} from their next request.` : `${m.email}'s next request that needs ${what} is refused.`, on ? "Allow" : "Stop").then((yes) => {
          if (!yes) return void (box.checked = !on);
          patch(m, { [field]: on });
        });
      });
    };
    const credits = h("input", { type: "checkbox", checked: m.usage_credits_enabled, "aria-label": `Usage credits for ${m.email}` });
    toggle(credits, "usage credits", "usage_credits_enabled");
    const fastMode = h("input", { type: "checkbox", checked: m.fast_mode_enabled, "aria-label": `Fast mode for ${m.email}` });
    toggle(fastMode, "fast mode", "fast_mode_enabled");
    return [m.email, role, seat, credits, fastMode, h("a", { href: "#/limits" }, memberLimit(m.id))];
  });
  view.append(section("Members", table(["Member", "Role", "Seat tier", "Usage credits", "Fast mode", "Monthly limit"], rows, { label: "Members" }), msg));

  const fast = h("input", { type: "checkbox", checked: org.fast_mode_enabled, disabled: !ctx.canManage });
  const fastMsg = messageBox();
  fast.addEventListener("change", () => {
    fastMsg.clear();
    const on = fast.checked;
    void confirmChange(on ? "Allow fast mode in this organization?" : "Turn fast mode off for everyone?", on ? "Members allowed fast mode may use it at the fast rate from their next request." : "Every fast-mode request is refused (or falls back to standard speed) from the next request.", on ? "Allow" : "Turn off").then((yes) => {
      if (!yes) return void (fast.checked = !on);
      patchOrg();
    });
  });
  const patchOrg = (): void => {
    api<Org>("PATCH", ctx.base, { fast_mode_enabled: fast.checked })
      .then((o) => fastMsg.ok(o.fast_mode_enabled ? "Fast mode is allowed in this organization." : "Fast mode is off for everyone."))
      .catch((err: unknown) => fastMsg.error(errText(err)));
  };
  view.append(
    section(
      "Fast mode",
      h("label", { class: "choice" }, fast, " Allow fast mode in this organization (priced at the fast rate)"),
      h("p", { class: "muted" }, "Each member's own Fast mode box (above) must be ticked too; a member's spending limit caps what they can spend on it."),
      fastMsg,
    ),
  );

  if (!ctx.canManage) {
    view.append(h("p", { class: "muted" }, "Only owners and admins manage members, credit requests and API keys."));
    return;
  }
  const [requests, keys, methods] = await Promise.all([
    api<List<CreditRequest>>("GET", `${ctx.base}/credit_requests`),
    api<List<ApiKey>>("GET", `${ctx.base}/api_keys`),
    api<List<PaymentMethod>>("GET", `${ctx.base}/payment_methods`),
  ]);
  const workspaces = await api<List<Workspace>>("GET", `${ctx.base}/workspaces`);
  view.append(
    addMember(ctx, workspaces.data),
    workspacesSection(ctx, workspaces.data, members.data),
    creditRequests(ctx, requests.data, members.data, methods.data.filter((m) => m.detached_at === null)),
    apiKeys(ctx, keys.data, members.data),
    passwords(ctx, members.data),
  );
};

function creditRequests(ctx: PageCtx, requests: CreditRequest[], members: Member[], methods: PaymentMethod[]): HTMLElement {
  const msg = messageBox();
  const emailOf = new Map(members.map((m) => [m.id, m.email]));
  const pending = requests.filter((r) => r.status === "pending");
  const rows = pending.map((r) => {
    const method = select(`pm-${r.id}`, methods.map((m) => [m.id, `${m.brand} •••• ${m.last4}`] as const), undefined, { "aria-label": `Card to charge for ${emailOf.get(r.member_id) ?? r.member_id}` });
    const approve = h("button", { type: "button" }, "Approve");
    const decline = h("button", { type: "button", class: "secondary" }, "Decline");
    approve.addEventListener("click", () => {
      msg.clear();
      if (!method.value) return msg.error("Add a card on the Usage credits page first.");
      api<Payment>("POST", `${ctx.base}/credit_requests/${r.id}/approve`, { payment_method_id: method.value, confirm: true }, { "idempotency-key": idempotencyKey() })
        .then((p) => {
          msg.ok(`Approved: ${usd(p.credit_amount)} of usage credits added.`);
          setTimeout(ctx.reload, 1000);
        })
        .catch((err: unknown) => msg.error(errText(err)));
    });
    decline.addEventListener("click", () => {
      msg.clear();
      api("POST", `${ctx.base}/credit_requests/${r.id}/decline`)
        .then(() => ctx.reload())
        .catch((err: unknown) => msg.error(errText(err)));
    });
    return [emailOf.get(r.member_id) ?? r.member_id, usd(r.amount), r.note || "—", when(r.created_at), h("div", { class: "actions" }, method, approve, decline)];
  });
  return section("Pending credit requests", table(["Member", "Amount", "Note", "Asked", ""], rows, { empty: "No pending credit requests.", label: "Pending credit requests" }), msg);
}

function apiKeys(ctx: PageCtx, keys: ApiKey[], members: Member[]): HTMLElement {
  const msg = messageBox();
  const emailOf = new Map(members.map((m) => [m.id, m.email]));
  const rows = keys.map((k) => {
    const revoke = h("button", { type: "button", class: "link danger", "aria-label": `Revoke key ${k.name}` }, "Revoke");
    revoke.addEventListener("click", () => {
      msg.clear();
      api("POST", `${ctx.base}/api_keys/${k.id}/revoke`)
        .then(() => ctx.reload())
        .catch((err: unknown) => msg.error(errText(err)));
    });
    return [k.name, h("span", { class: "mono" }, `${k.prefix}…`), emailOf.get(k.member_id ?? "") ?? "—", k.surface, k.revoked_at ? `Revoked ${when(k.revoked_at)}` : "Active", k.revoked_at ? "" : revoke];
  });
  const name = h("input", { type: "text", name: "key_name", maxlength: 200, placeholder: "CI key" });
  const member = select("key_member", members.map((m) => [m.id, m.email] as const), ctx.session.member.id);
  const surface = select("surface", SURFACES.map((s) => [s, pretty(s)] as const));
  const secret = h("div", { class: "secret", hidden: true, role: "status" });
  const form = h("form", { novalidate: true, "aria-label": "Create an API key" }, field("Name", name), field("For member", member), field("Surface", surface), h("button", { type: "submit" }, "Create key"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    if (name.value.trim() === "") return msg.error("Give the key a name.");
    api<ApiKey>("POST", `${ctx.base}/api_keys`, { name: name.value.trim(), member_id: member.value, surface: surface.value }, { "idempotency-key": idempotencyKey() })
      .then((k) => {
        secret.hidden = false;
        secret.replaceChildren(
          h("p", {}, h("strong", {}, "Copy this key now: it is shown only once.")),
          h("code", { "data-testid": "new-key-secret" }, k.secret ?? ""),
        );
        name.value = "";
        tableBody.replaceChildren(...table(["Name", "Key", "Member", "Surface", "Status", ""], [[k.name, h("span", { class: "mono" }, `${k.prefix}…`), emailOf.get(k.member_id ?? "") ?? "—", k.surface, "Active", ""]]).querySelectorAll("tbody tr"), ...tableBody.children);
      })
      .catch((err: unknown) => msg.error(errText(err)));
  });
  const keysTable = table(["Name", "Key", "Member", "Surface", "Status", ""], rows, { empty: "No API keys.", label: "API keys" });
  const tableBody = keysTable.querySelector("tbody") ?? h("tbody", {});
  return section("API keys", keysTable, msg, h("h3", {}, "Create an API key"), form, secret);
}

function passwords(ctx: PageCtx, members: Member[]): HTMLElement {
  const msg = messageBox();
  const member = select("password_member", members.map((m) => [m.id, m.email] as const));
  const password = h("input", { type: "password", name: "new_password", autocomplete: "new-password", minlength: 12, maxlength: 256 });
  const form = h("form", { novalidate: true, "aria-label": "Set a dashboard password" }, field("Member", member), field("New password", password, "At least 12 characters."), msg, h("button", { type: "submit" }, "Set password"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    if (password.value.length < 12) return msg.error("A password needs at least 12 characters.");
    api("PUT", `${ctx.base}/members/${member.value}/password`, { password: password.value })
      .then(() => {
        password.value = "";
        msg.ok("Password set: the member can sign in to the dashboard.");
      })
      .catch((err: unknown) => msg.error(errText(err)));
  });
  return section("Dashboard sign-in", h("p", { class: "muted" }, "Give a member a password to sign in to this dashboard."), form);
}

/**
 * Add a member (the invitation: they sign in once an owner or admin sets their dashboard password
 * below, or use an API key made for them). A fresh Idempotency-Key per form shown: a double
 * submit adds one member.
 */
function addMember(ctx: PageCtx, workspaces: Workspace[]): HTMLElement {
  const msg = messageBox();
  const email = h("input", { type: "email", name: "new_email", maxlength: 254, autocomplete: "off" });
  const name = h("input", { type: "text", name: "new_name", maxlength: 200, autocomplete: "off" });
  const role = select("new_role", ROLES.map((r) => [r, pretty(r)] as const), "member");
  const seat = select("new_seat", SEATS.map((r) => [r, r] as const), "standard");
  const ws = select("new_workspace", [["", "No workspace"], ...workspaces.map((w) => [w.id, w.name] as const)], "");
  let key = idempotencyKey();
  const form = h("form", { novalidate: true, "aria-label": "Add a member" }, field("New member's email", email), field("New member's name", name), field("Role", role), field("Seat tier", seat), field("Workspace", ws), msg, h("button", { type: "submit" }, "Add member"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    if (!email.checkValidity() || email.value.trim() === "") return msg.error("Enter the member's email address.");
    if (name.value.trim() === "") return msg.error("Enter the member's name.");
    api<Member>("POST", `${ctx.base}/members`, { email: email.value.trim(), name: name.value.trim(), role: role.value, seat_tier: seat.value, workspace_id: ws.value || null }, { "idempotency-key": key })
      .then((m) => {
        key = idempotencyKey();
        msg.ok(`Added ${m.email} as ${pretty(m.role)}. Set their dashboard password below, or create an API key for them.`);
        setTimeout(ctx.reload, 1500);
      })
      .catch((err: unknown) => msg.error(errText(err)));
  });
  return section("Add a member", form);
}

/** Workspaces: create one, and move a member into (or out of) a workspace. */
function workspacesSection(ctx: PageCtx, workspaces: Workspace[], members: Member[]): HTMLElement {
  const msg = messageBox();
  const count = (id: string): number => members.filter((m) => m.workspace_id === id).length;
  const list = table(["Workspace", "Members"], workspaces.map((w) => [w.name, String(count(w.id))]), { empty: "No workspaces.", label: "Workspaces" });
  const wsName = h("input", { type: "text", name: "workspace_name", maxlength: 200, autocomplete: "off" });
  const create = h("form", { novalidate: true, class: "inline", "aria-label": "Create a workspace" }, field("New workspace", wsName), h("button", { type: "submit", class: "secondary" }, "Create workspace"));
  create.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    if (wsName.value.trim() === "") return msg.error("Name the workspace.");
    api("POST", `${ctx.base}/workspaces`, { name: wsName.value.trim() }, { "idempotency-key": idempotencyKey() })
      .then(() => ctx.reload())
      .catch((err: unknown) => msg.error(errText(err)));
  });
  const who = select("move_member", members.map((m) => [m.id, m.email] as const), undefined, { "aria-label": "Member to move" });
  const where = select("move_workspace", [["", "No workspace"], ...workspaces.map((w) => [w.id, w.name] as const)], "", { "aria-label": "Move to workspace" });
  const move = h("form", { novalidate: true, class: "inline", "aria-label": "Move a member" }, who, where, h("button", { type: "submit", class: "secondary" }, "Move member"));
  move.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    const m = members.find((x) => x.id === who.value);
    if (!m) return;
    const target = workspaces.find((w) => w.id === where.value)?.name ?? "no workspace";
    void confirmChange(`Move ${m.email} to ${target}?`, "Workspace spending limits apply to them from their next request.", "Move member").then((yes) => {
      if (!yes) return;
      api<Member>("PATCH", `${ctx.base}/members/${m.id}`, { workspace_id: where.value || null })
        .then(() => ctx.reload())
        .catch((err: unknown) => msg.error(errText(err)));
    });
  });
  return section("Workspaces", list, create, h("h3", {}, "Move a member"), move, msg);
}
