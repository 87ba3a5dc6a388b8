// Reads a PDF with an independent reader (Mozilla's pdf.js, the npm package pdfjs-dist) and
// returns its text as lines (items on one baseline joined left to right), so tests check what a
// person opening the file would read, not what our writer meant to write.

import { fileURLToPath } from "node:url";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";

const FONTS = fileURLToPath(new URL("../../../node_modules/pdfjs-dist/standard_fonts/", import.meta.url));

export async function pdfLines(bytes: Uint8Array): Promise<{ pages: number; lines: string[]; title: string | undefined }> {
  const doc = await getDocument({ data: new Uint8Array(bytes), standardFontDataUrl: FONTS, isEvalSupported: false, useSystemFonts: false, verbosity: 0 }).promise;
  const lines: string[] = [];
  for (let p = 1; p <= doc.numPages; p++) {
    const page = await doc.getPage(p);
    const content = await page.getTextContent();
    const rows = new Map<number, Array<{ x: number; s: string }>>();
    for (const item of content.items) {
      if (!("str" in item) || item.str === "") continue;
      const y = Math.round(item.transform[5] ?? 0);
      const row = rows.get(y) ?? [];
      row.push({ x: item.transform[4] ?? 0, s: item.str });
      rows.set(y, row);
    }
    for (const y of [...rows.keys()].sort((a, b) => b - a)) lines.push((rows.get(y) ?? []).sort((a, b) => a.x - b.x).map((i) => i.s).join("  "));
  }
  const meta = await doc.getMetadata();
  const title = (meta.info as { Title?: string } | undefined)?.Title;
  await doc.destroy();
  return { pages: doc.numPages, lines, title };
}

/** The amount as printed at the end of the line that starts with `label` ("$1,234.50"). */
export function printedAfter(lines: readonly string[], label: string): string {
  const line = lines.find((l) => l.startsWith(label));
  const m = line ? /-?\$[\d,]+\.\d{2}$/.exec(line.trim()) : null;
  if (!line || !m) throw new Error(`no line starting with ${JSON.stringify(label)} and ending in an amount in:\n${lines.join("\n")}`);
  return m[0];
}

/** The amount at the end of the line that starts with `label` ("$1,234.50" → micro-dollars, whole cents as printed). */
export function amountAfter(lines: readonly string[], label: string): bigint {
  const line = lines.find((l) => l.startsWith(label));
  if (!line) throw new Error(`no line starting with ${JSON.stringify(label)} in:\n${lines.join("\n")}`);
  const m = /(-?)\$([\d,]+)\.(\d{2})$/.exec(line.trim());
  if (!m) throw new Error(`no amount at the end of ${JSON.stringify(line)}`);
  const cents = BigInt(`${m[2]?.replace(/,/g, "") ?? "0"}${m[3] ?? "00"}`);
  return (m[1] === "-" ? -cents : cents) * 10_000n;
}
