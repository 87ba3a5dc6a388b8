// Operator console: plans and price books. Books are versioned and effective-dated (immutable once
// published); a new version is edited as JSON, previewed against a past month's real usage with
// the engine's own rating code (POST /v1/price_books/preview), and only then published.

import { confirmChange } from "../confirm.js";
import { field, h, messageBox, section, table } from "../dom.js";
import { int, serverNow, usd, when } from "../format.js";
import type { List, Plan, PreviewLine, PricePreview as Preview } from "../wire.js";
import { errText, type OperatorPage } from "./console.js";

interface BookSpec {
  readonly id: string;
  readonly version: number;
  readonly effective_from: string;
  readonly models: ReadonlyArray<{ readonly id: string }>;
}

const signedUsd = (micros: string): string => (BigInt(micros) > 0n ? `+${usd(micros)}` : usd(micros));

export const priceBooksPage: OperatorPage = async (ctx, view) => {
  const [books, plans] = await Promise.all([ctx.call<List<BookSpec>>("GET", "/v1/price_books"), ctx.call<List<Plan>>("GET", "/v1/plans")]);
  const now = serverNow();
  const sorted = books.data.slice().sort((a, b) => Date.parse(a.effective_from) - Date.parse(b.effective_from) || a.version - b.version);
  const inForce = sorted.filter((b) => Date.parse(b.effective_from) <= now).at(-1);
  const latest = sorted.at(-1);
  const rows = sorted
    .slice()
    .reverse()
    .map((b) => [b.id, String(b.version), when(b.effective_from), String(b.models.length), b === inForce ? "In force" : Date.parse(b.effective_from) > now ? "Scheduled" : "Superseded"]);

  const d = new Date(now);
  const nextMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString().replace(".000Z", "Z");
  const lastMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
  const draft = latest ? { ...latest, version: latest.version + 1, effective_from: nextMonth } : {};
  const text = h("textarea", { name: "book", rows: 14, spellcheck: false, class: "mono" });
  text.value = JSON.stringify(draft, null, 2);
  const month = h("input", { type: "month", name: "preview_month", value: lastMonth });
  const previewButton = h("button", { type: "button" }, "Preview against usage");
  const publish = h("button", { type: "button", class: "secondary", disabled: true }, "Publish");
  const msg = messageBox();
  const out = h("div", { "data-testid": "preview" });
  let previewed = "";
  let key = crypto.randomUUID();
  const parse = (): unknown => {
    try {
      return JSON.parse(text.value) as unknown;
    } catch {
      msg.error("The price book is not valid JSON.");
      return undefined;
    }
  };
  text.addEventListener("input", () => {
    publish.disabled = text.value !== previewed;
  });
  previewButton.addEventListener("click", () => {
    msg.clear();
    const spec = parse();
    if (spec === undefined) return;
    delete document.body.dataset["ready"];
    ctx
      .call<Preview>("POST", `/v1/price_books/preview?month=${encodeURIComponent(month.value)}`, spec)
      .then((p) => {
        previewed = text.value;
        publish.disabled = false;
        const line = (label: string, r: PreviewLine): string[] => [label, int(r.requests), usd(r.recorded), usd(r.current), usd(r.proposed), signedUsd(r.difference), r.unrated > 0 ? int(r.unrated) : "—"];
        out.replaceChildren(
          h("p", {}, `${p.month}: ${int(p.totals.requests)} requests re-rated. With this book they would cost `, h("strong", { "data-testid": "preview-proposed" }, usd(p.totals.proposed)), " instead of ", h("strong", { "data-testid": "preview-current" }, usd(p.totals.current)), ` (${signedUsd(p.totals.difference)}).`),
          table(["Model", "Requests", "Charged", "Book then", "Proposed", "Difference", "Not re-rated"], p.rows.map((r) => line(r.model, r)), { foot: line("Total", p.totals), empty: "No usage in that month.", label: "Price book preview" }),
          h("p", { class: "hint" }, "Both columns rate all input tokens at the input rate (usage records keep cache tokens with input), so they compare with each other; requests metered by amount are carried at their charge."),
        );
      })
      .catch((err: unknown) => msg.error(errText(err)))
      .finally(() => {
        document.body.dataset["ready"] = "operator-price-books";
      });
  });
  publish.addEventListener("click", async () => {
    msg.clear();
    const spec = parse() as BookSpec | undefined;
    if (spec === undefined) return;
    if (!(await confirmChange(`Publish ${spec.id} version ${spec.version}?`, `Effective ${when(spec.effective_from)}. Published books cannot be changed.`, "Publish"))) return;
    ctx
      .call("POST", "/v1/price_books", spec, { "idempotency-key": key })
      .then(() => {
        key = crypto.randomUUID();
        ctx.reload();
      })
      .catch((err: unknown) => msg.error(errText(err)));
  });
  view.append(
    section("Price books", table(["Book", "Version", "Effective from", "Models", "Status"], rows, { label: "Price books" })),
    section(
      "Propose a new version",
      h("p", { class: "hint" }, "Edit the JSON (rates are USD per million tokens, as decimal strings), preview it against a month's usage, then publish. Publishing is enabled only for the text you previewed."),
      field("Price book (JSON)", text),
      h("div", { class: "controls" }, field("Usage month to re-rate", month), previewButton, publish),
      msg,
      out,
    ),
    section("Plans", table(["Plan", "Name"], plans.data.map((p) => [h("a", { href: `#/operator/plan/${encodeURIComponent(p.id)}`, class: "mono" }, p.id), p.name]), { label: "Plans" }), h("p", { class: "hint" }, "Plans are versioned: open one to see its versions and create a new one (a running window keeps its quota until it resets).")),
  );
};
