// A small PDF writer: text-only documents in the standard Helvetica and Courier fonts (PDF 1.4,
// the 14 base fonts need no embedding), enough for receipts and statements. Pure: it returns the
// file as a string of 8-bit characters (every character < 256), which the edge writes as latin1.
//
// Layout is by lines on A4 pages (595 × 842 pt). Amounts go in Courier so a right-aligned column
// can be computed exactly (every Courier glyph is 600/1000 em wide); prose uses Helvetica. Text is
// reduced to printable ASCII (a few typographic characters are mapped, the rest become "?"), so
// the byte offsets of the cross-reference table are the string's own offsets.

export type PdfFont = "regular" | "bold" | "mono";

export interface PdfText {
  readonly text: string;
  readonly x: number;
  readonly y: number;
  readonly size: number;
  readonly font: PdfFont;
}

const FONT_NAME: Readonly<Record<PdfFont, string>> = { regular: "F1", bold: "F2", mono: "F3" };
const BASE_FONT: Readonly<Record<PdfFont, string>> = { regular: "Helvetica", bold: "Helvetica-Bold", mono: "Courier" };

export const PAGE = { width: 595, height: 842, margin: 56 } as const;

const MAP: Readonly<Record<string, string>> = { "—": "-", "–": "-", "•": "*", "→": "->", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "×": "x", " ": " " };

/** Printable ASCII only: typographic characters mapped, anything else "?". */
export function pdfSafe(text: string): string {
  let out = "";
  for (const ch of text) {
    const m = MAP[ch];
    if (m !== undefined) out += m;
    else out += ch >= " " && ch <= "~" ? ch : "?";
  }
  return out;
}

const escape = (s: string): string => pdfSafe(s).replace(/[\\()]/g, (c) => `\\${c}`);

/** The width of `text` in Courier at `size` points (exact: 0.6 em a glyph). */
export const monoWidth = (text: string, size: number): number => pdfSafe(text).length * size * 0.6;

/** A document of pages, each a list of placed texts. */
export function renderPdf(pages: ReadonlyArray<readonly PdfText[]>, title: string): string {
  const objects: string[] = [];
  const add = (body: string): number => objects.push(body);
  const catalog = add("");
  const pagesObj = add("");
  const fonts = (["regular", "bold", "mono"] as const).map((f) => [f, add(`<< /Type /Font /Subtype /Type1 /BaseFont /${BASE_FONT[f]} /Encoding /WinAnsiEncoding >>`)] as const);
  const info = add(`<< /Title (${escape(title)}) /Producer (usage-credits) >>`);
  const fontRes = fonts.map(([f, n]) => `/${FONT_NAME[f]} ${n} 0 R`).join(" ");
  const kids: number[] = [];
  for (const page of pages.length > 0 ? pages : [[]]) {
    const ops = page.map((t) => `BT /${FONT_NAME[t.font]} ${t.size} Tf ${fmt(t.x)} ${fmt(t.y)} Td (${escape(t.text)}) Tj ET`).join("\n");
    const stream = add(`<< /Length ${ops.length} >>\nstream\n${ops}\nendstream`);
    kids.push(add(`<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 ${PAGE.width} ${PAGE.height}] /Resources << /Font << ${fontRes} >> >> /Contents ${stream} 0 R >>`));
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(" ")}] /Count ${kids.length} >>`;
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R /Info ${info} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return out;
}

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/**
 * Flows lines down A4 pages: a heading, prose, and "label …… amount" rows whose amounts are
 * right-aligned at the right margin. A new page starts when the next line would not fit.
 */
export class PdfLayout {
  private readonly pages: PdfText[][] = [[]];
  private y: number = PAGE.height - PAGE.margin;

  private line(height: number): number {
    if (this.y - height < PAGE.margin) {
      this.pages.push([]);
      this.y = PAGE.height - PAGE.margin;
    }
    this.y -= height;
    return this.y;
  }
  private put(t: PdfText): void {
    this.pages[this.pages.length - 1]?.push(t);
  }

  heading(text: string, size = 18): this {
    const y = this.line(size + 6);
    this.put({ text, x: PAGE.margin, y, size, font: "bold" });
    return this;
  }
  text(text: string, options: { size?: number; bold?: boolean; indent?: number } = {}): this {
    const size = options.size ?? 10;
    const y = this.line(size + 4);
    this.put({ text, x: PAGE.margin + (options.indent ?? 0), y, size, font: options.bold ? "bold" : "regular" });
    return this;
  }
  /** A row: a label at the left, an amount right-aligned at the right margin. */
  row(label: string, amount: string, options: { bold?: boolean; indent?: number; size?: number } = {}): this {
    const size = options.size ?? 10;
    const y = this.line(size + 5);
    this.put({ text: label, x: PAGE.margin + (options.indent ?? 0), y, size, font: options.bold ? "bold" : "regular" });
    this.put({ text: amount, x: PAGE.width - PAGE.margin - monoWidth(amount, size), y, size, font: "mono" });
    return this;
  }
  gap(points = 8): this {
    this.line(points);
    return this;
  }
  render(title: string): string {
    return renderPdf(this.pages, title);
  }
}
