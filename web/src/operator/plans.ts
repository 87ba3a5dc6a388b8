// Operator console: plans and their versions. A plan is a series of effective-dated versions
// (GET /v1/plans/:id/versions); editing one creates a new version (POST …/versions), now or at a
// later time, after a confirmation. A window already running keeps the quota it started with; the
// new quota applies from each member's next window (docs/money-rules.md R18), and the form says so.

import { confirmChange } from "../confirm.js";
import { field, h, messageBox, section, table } from "../dom.js";
import { dollarsInput, parseDollars, serverNow, usd, when } from "../format.js";
import type { CreatedPlanVersion, List, Plan, PlanVersion, PlanWindow } from "../wire.js";
import { errText, type OperatorPage } from "./console.js";

const SEATS = ["standard", "premium"] as const;
type SeatName = (typeof SEATS)[number];
const STATUS: Readonly<Record<PlanVersion["status"], string>> = { current: "In force", scheduled: "Scheduled", past: "Past" };

const planLink = (id: string, label: string): HTMLElement => h("a", { href: `#/operator/plan/${encodeURIComponent(id)}` }, label);

/** "five_hour $5.00 · seven_day $50.00" for a seat's windows. */
const windowsText = (windows: readonly PlanWindow[]): string => (windows.length === 0 ? "No included windows" : windows.map((w) => `${w.key} ${usd(w.quota)}`).join(" · "));

const seatText = (d: Plan): string =>
  SEATS.flatMap((s) => {
    const seat = d.seats[s];
    return seat ? [`${s === "premium" ? "Premium: " : ""}${windowsText(seat.windows)}; SDK credit ${usd(seat.monthly_sdk_credit)}/month`] : [];
  }).join(" — ");

export const plansPage: OperatorPage = async (ctx, view) => {
  const plans = await ctx.call<List<Plan>>("GET", "/v1/plans");
  const rows = plans.data.map((p) => [planLink(p.id, p.id), p.name, h("span", { "data-testid": "plan-windows", "data-plan": p.id }, seatText(p))]);
  view.append(
    section(
      "Plans",
      h("p", { class: "hint" }, "Each plan as its version in force now defines it. Open a plan to see its versions and to create a new one."),
      table(["Plan", "Name", "Windows and SDK credit (in force now)"], rows, { label: "Plans", empty: "No plans." }),
    ),
  );
};

/** "2026-03-02T09:00" (datetime-local, read as UTC) → ISO, or null when it is not a time. */
function utcInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return null;
  const t = Date.parse(`${value}:00Z`);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

export const planPage: OperatorPage = async (ctx, view) => {
  const id = ctx.param;
  const r = await ctx.call<List<PlanVersion>>("GET", `/v1/plans/${encodeURIComponent(id)}/versions`);
  const versions = r.data.slice().sort((a, b) => b.version - a.version);
  const current = versions.find((v) => v.status === "current") ?? versions[0];
  if (!current) throw new Error(`No versions of ${id}.`);
  const latest = versions[0] ?? current;
  const heading = view.querySelector("h1");
  if (heading) heading.textContent = `Plan ${current.definition.name}`;

  const rows = versions.map((v) => [
    String(v.version),
    h("span", { "data-testid": "version-status", "data-version": String(v.version) }, STATUS[v.status]),
    when(v.effective_at),
    h("span", { "data-testid": "version-windows", "data-version": String(v.version) }, seatText(v.definition)),
    v.definition.name,
    h("span", { class: "mono" }, v.created_by),
  ]);

  // The edit form: the latest version's definition (a scheduled one, if any), quotas in dollars.
  const base = latest.definition;
  const name = h("input", { name: "name", value: base.name, maxlength: 200, required: true, autocomplete: "off" });
  const effective = h("input", { type: "datetime-local", name: "effective_at", step: 60 });
  const inputs: Array<{ seat: SeatName; index: number; input: HTMLInputElement } | { seat: SeatName; sdk: true; input: HTMLInputElement }> = [];
  const seatFields = SEATS.flatMap((s) => {
    const seat = base.seats[s];
    if (!seat) return [];
    const controls = seat.windows.map((w, index) => {
      const input = h("input", { name: `${s}.${w.key}`, inputmode: "decimal", value: dollarsInput(w.quota), autocomplete: "off", "data-testid": `quota-${s}-${w.key}` });
      inputs.push({ seat: s, index, input });
      return field(`${w.key} quota (USD, ${w.kind === "session" ? `${w.duration_seconds / 3600} h session` : "weekly"}${w.families ? `, ${w.families.join(", ")} only` : ""})`, input);
    });
    const sdk = h("input", { name: `${s}.monthly_sdk_credit`, inputmode: "decimal", value: dollarsInput(seat.monthly_sdk_credit), autocomplete: "off" });
    inputs.push({ seat: s, sdk: true, input: sdk });
    return [h("fieldset", {}, h("legend", {}, s === "premium" ? "Premium seat" : "Standard seat"), ...controls, field("Monthly SDK credit (USD)", sdk))];
  });
  const msg = messageBox();
  const submit = h("button", { type: "submit" }, "Create version");
  const form = h(
    "form",
    { novalidate: true, "aria-label": "New version" },
    h("p", { class: "hint" }, `Starts from version ${latest.version}. A window already running when the new version takes effect keeps the quota it started with; the new quotas apply from each member's next window. Window names, lengths and models are kept (change them with the API).`),
    field("Name", name),
    field("Effective at (UTC)", effective, "Empty: now. A version never takes effect in the past."),
    ...seatFields,
    msg,
    h("div", { class: "controls" }, submit),
  );
  let key = crypto.randomUUID();
  let sent = "";
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    msg.clear();
    const problems: string[] = [];
    if (name.value.trim() === "") problems.push("Name: required.");
    let effectiveAt: string | null = null;
    if (effective.value !== "") {
      effectiveAt = utcInput(effective.value);
      if (effectiveAt === null) problems.push("Effective at: not a date and time.");
      else if (Date.parse(effectiveAt) < serverNow() - 60_000) problems.push("Effective at: in the past; a version takes effect now or later.");
    }
    const seats: Record<string, { windows: PlanWindow[]; monthly_sdk_credit: string }> = {};
    for (const s of SEATS) {
      const seat = base.seats[s];
      if (seat) seats[s] = { windows: seat.windows.map((w) => ({ ...w })), monthly_sdk_credit: seat.monthly_sdk_credit };
    }
    for (const i of inputs) {
      const micros = parseDollars(i.input.value);
      const label = "sdk" in i ? `${i.seat} monthly SDK credit` : `${i.seat} ${base.seats[i.seat]?.windows[i.index]?.key ?? ""} quota`;
      if (micros === null || micros < 0) {
        problems.push(`${label}: a dollar amount of 0 or more (e.g. 12.50).`);
        i.input.setAttribute("aria-invalid", "true");
        continue;
      }
      i.input.removeAttribute("aria-invalid");
      const seat = seats[i.seat];
      if (!seat) continue;
      if ("sdk" in i) seat.monthly_sdk_credit = String(micros);
      else seat.windows[i.index] = { ...(seat.windows[i.index] as PlanWindow), quota: String(micros) };
    }
    if (problems.length > 0) return msg.error(problems.join(" "));
    const body = { name: name.value.trim(), seats, credit_only_surfaces: base.credit_only_surfaces, ...(effectiveAt ? { effective_at: effectiveAt } : {}) };
    const quotas = Object.entries(seats)
      .map(([s, seat]) => `${s}: ${windowsText(seat.windows)}`)
      .join("; ");
    if (!(await confirmChange(`Create version ${latest.version + 1} of ${id}?`, `Effective ${effectiveAt ? when(effectiveAt) : "now"}. ${quotas}. Running windows keep their quota until they reset.`, "Create version"))) return;
    // One key per intent: a re-click or retry of the same form sends the same key (one version).
    const text = JSON.stringify(body);
    if (text !== sent) {
      key = crypto.randomUUID();
      sent = text;
    }
    submit.disabled = true;
    ctx
      .call<CreatedPlanVersion>("POST", `/v1/plans/${encodeURIComponent(id)}/versions`, body, { "idempotency-key": key })
      .then(() => ctx.reload())
      .catch((err: unknown) => msg.error(errText(err)))
      .finally(() => {
        submit.disabled = false;
      });
  });

  view.append(
    section(
      "Versions",
      h("p", { class: "hint" }, "In force: the version the engine uses now. Scheduled versions take effect at their time; past ones were superseded."),
      table(["Version", "Status", "Effective", "Windows and SDK credit", "Name", "Created by"], rows, { label: "Plan versions" }),
    ),
    section("New version", form),
    h("p", {}, h("a", { href: "#/operator/plans" }, "← All plans")),
  );
};
