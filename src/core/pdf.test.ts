// The PDF writer: a well-formed file (every cross-reference offset points at its object), text
// escaped and reduced to what a standard font can show, right-aligned amounts, page breaks.

import assert from "node:assert/strict";
import { test } from "node:test";
import { monoWidth, PAGE, PdfLayout, pdfSafe, renderPdf } from "./pdf.js";

test("every xref offset points at its object, and startxref at the table", () => {
  const pdf = new PdfLayout().heading("Receipt R-000001").row("Total paid (USD)", "$1,234.50").render("Receipt (R-000001)");
  const xrefAt = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(pdf)?.[1]);
  assert.equal(pdf.slice(xrefAt, xrefAt + 4), "xref");
  const offsets = [...pdf.slice(xrefAt).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
  assert.ok(offsets.length >= 6);
  offsets.forEach((o, i) => assert.ok(pdf.startsWith(`${i + 1} 0 obj\n`, o), `object ${i + 1} at ${o}`));
  assert.match(pdf, /\/Title \(Receipt \\\(R-000001\\\)\)/, "parentheses in text are escaped");
  for (const ch of pdf) assert.ok(ch.charCodeAt(0) < 128, "7-bit only: offsets are byte offsets");
});

test("text is reduced to printable ASCII; amounts are right-aligned exactly at the margin", () => {
  assert.equal(pdfSafe("visa •••• 4242 — café → ok"), "visa **** 4242 - caf? -> ok");
  const pdf = renderPdf([[{ text: "x", x: 10, y: 20, size: 10, font: "mono" }]], "t");
  assert.match(pdf, /BT \/F3 10 Tf 10 20 Td \(x\) Tj ET/);
  const layout = new PdfLayout().row("Total", "$12.50").render("t");
  const x = PAGE.width - PAGE.margin - monoWidth("$12.50", 10);
  assert.ok(layout.includes(`${x.toFixed(2)} `) || layout.includes(`${x} `), "the amount ends at the right margin");
});

test("a long document breaks onto new pages", () => {
  const doc = new PdfLayout();
  for (let i = 0; i < 120; i++) doc.row(`line ${i}`, "$1.00");
  const pdf = doc.render("long");
  assert.match(pdf, /\/Count (\d+)/);
  assert.ok(Number(/\/Count (\d+)/.exec(pdf)?.[1]) >= 3);
});
