// The layers hold by rule (issue 17, docs/architecture.md): every import in src/ runs an allowed
// way (LAYERS, the one table of allowed directions, which docs/architecture.md reproduces), no
// cycle runs among src/ modules, no file is over 400 lines without a one-line reason in its header,
// and no function is over 80 lines. The TypeScript compiler (already a dependency) parses the
// sources, so type-only imports count as arrows too. The allow-lists hold what is known and being
// removed; an entry that no longer matches anything fails too, so the lists only shrink.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SRC = join(ROOT, "src");

/**
 * The layers, each with the layers it may import (itself always). A file's layer is its folder
 * under src/, except the files named in FILE_LAYERS. Nothing imports cli or main but main.
 */
export const LAYERS: Record<string, readonly string[]> = {
  core: [],
  wire: ["core"],
  ports: ["core"],
  config: ["core"],
  schemas: ["core"],
  adapters: ["core", "ports", "wire", "config"],
  app: ["core", "ports"],
  presenters: ["core", "ports", "app", "schemas"],
  route: ["core", "ports", "app"],
  gateway: ["core", "ports", "wire", "app", "route", "schemas", "presenters"],
  http: ["core", "ports", "wire", "app", "config", "route", "gateway", "schemas", "presenters"],
  cli: ["core", "ports", "app", "config", "adapters", "schemas", "presenters"],
  root: ["core", "ports", "wire", "config", "adapters", "app", "route", "gateway", "http", "schemas", "presenters"],
  main: ["core", "ports", "wire", "config", "adapters", "app", "route", "gateway", "http", "cli", "root", "schemas", "presenters"],
};

/** Files that are a layer of their own. */
const FILE_LAYERS: Record<string, string> = {
  "src/app.ts": "root",
  "src/main.ts": "main",
  "src/http/route.ts": "route",
  "src/http/error-status.ts": "route",
};

/** Wrong-way imports known today, being removed (from → to). */
const ALLOWED_ARROWS: readonly string[] = [
];

/** Cycles known today (their files, sorted), being removed. */
const ALLOWED_CYCLES: readonly string[] = [
];

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;
/** A file over MAX_FILE_LINES says why in its header (its first 20 lines), in one line. */
const SIZE_REASON = /^\/\/ Over 400 lines: \S.{10,}$/m;

/** Files being split by other parts of issue 17 (the lead empties those entries after merging them), and files not split yet. */
const ALLOWED_LONG_FILES: readonly string[] = [
];
/** Long functions (file:function): in files being split by other parts of issue 17, and not split yet. */
const ALLOWED_LONG_FUNCTIONS: readonly string[] = [
];

// --- the source graph

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : name.endsWith(".ts") ? [p] : [];
  });
}

const rel = (file: string) => relative(ROOT, file).split("\\").join("/");

function layerOf(file: string): string {
  const r = rel(file);
  const own = FILE_LAYERS[r];
  if (own) return own;
  const parts = r.split("/");
  return parts.length > 2 ? (parts[1] ?? "") : "?";
}

interface Parsed {
  readonly file: string;
  readonly text: string;
  readonly source: ts.SourceFile;
  /** Relative imports resolved to src/ files (import, export … from, import()). */
  readonly imports: readonly string[];
}

function parse(file: string, text = readFileSync(file, "utf8")): Parsed {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const specs: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specs.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteral(arg)) specs.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const imports = specs.filter((s) => s.startsWith(".")).map((s) => resolve(dirname(file), s.replace(/\.js$/, ".ts")));
  return { file, text, source, imports };
}

const FILES = sources(SRC).sort().map((f) => parse(f));

export function wrongWayArrows(files: readonly Parsed[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const from = layerOf(f.file);
    for (const target of f.imports) {
      const to = layerOf(target);
      if (to === from) continue;
      const allowed = LAYERS[from];
      if (!allowed) out.push(`${rel(f.file)} → ${rel(target)} (layer "${from}" is not in LAYERS)`);
      else if (!allowed.includes(to)) out.push(`${rel(f.file)} → ${rel(target)}`);
    }
  }
  return [...new Set(out)];
}

/** The cycles (strongly connected components of more than one file, or a file importing itself). */
export function cycles(files: readonly Parsed[]): string[] {
  const graph = new Map(files.map((f) => [f.file, f.imports.filter((i) => i.startsWith(SRC))]));
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.map(rel).sort().join(" ↔ "));
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return found.sort();
}

// --- sizes

const lineOf = (source: ts.SourceFile, pos: number) => source.getLineAndCharacterOfPosition(pos).line;

/**
 * Functions longer than MAX_FUNCTION_LINES (file:name (lines)). A function's length is its lines
 * without the lines of the functions nested in it (each of those is measured on its own). A
 * declarative table (a function whose body only returns an array or object literal, like a route
 * table) is exempt: its length is its number of entries, not its logic.
 */
/** A test file's describe(…) callback groups tests; it is not a function of logic. */
const isGroup = (node: ts.Node) => ts.isCallExpression(node.parent) && /^(describe|suite)$/.test(node.parent.expression.getText());

export function longFunctions(files: readonly Parsed[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const measure = (fn: ts.FunctionLikeDeclaration & { body?: ts.Node }, name: string): void => {
      const body = fn.body;
      if (!body || !ts.isBlock(body)) return;
      const only = body.statements.length === 1 ? body.statements[0] : undefined;
      const table = only && ts.isReturnStatement(only) && only.expression && (ts.isArrayLiteralExpression(only.expression) || ts.isObjectLiteralExpression(only.expression));
      let nested = 0;
      const inner = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && "body" in node && node.body && ts.isBlock(node.body as ts.Node)) {
          nested += lineOf(f.source, node.getEnd()) - lineOf(f.source, node.getStart(f.source)) + 1;
          return;
        }
        ts.forEachChild(node, inner);
      };
      ts.forEachChild(body, inner);
      const lines = lineOf(f.source, fn.getEnd()) - lineOf(f.source, fn.getStart(f.source)) + 1 - nested;
      if (!table && lines > MAX_FUNCTION_LINES) out.push(`${rel(f.file)}:${name} (${lines} lines)`);
    };
    const visit = (node: ts.Node, name: string): void => {
      let here = name;
      if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) {
        here = node.name?.getText(f.source) ?? "(anonymous)";
      } else if (ts.isVariableDeclaration(node) || ts.isPropertyAssignment(node) || ts.isPropertyDeclaration(node)) {
        here = node.name.getText(f.source);
      } else if (ts.isClassDeclaration(node)) {
        here = node.name?.getText(f.source) ?? "(class)";
      }
      if (ts.isFunctionLike(node) && "body" in node && !isGroup(node)) measure(node as ts.FunctionLikeDeclaration, here);
      ts.forEachChild(node, (child) => visit(child, here));
    };
    visit(f.source, "(module)");
  }
  return out;
}

export function longFiles(files: readonly Parsed[]): string[] {
  return files
    .filter((f) => f.text.split("\n").length - (f.text.endsWith("\n") ? 1 : 0) > MAX_FILE_LINES)
    .filter((f) => !SIZE_REASON.test(f.text.split("\n").slice(0, 20).join("\n")))
    .map((f) => rel(f.file));
}

// --- the checks

/** What is found and not allowed, and the allow-list's entries that no longer match anything. */
function against(found: readonly string[], allowed: readonly string[], key: (s: string) => string = (s) => s): { extra: string[]; stale: string[] } {
  const keys = new Set(found.map(key));
  return { extra: found.filter((s) => !allowed.includes(key(s))), stale: allowed.filter((a) => !keys.has(a)) };
}

function report(what: string, { extra, stale }: { extra: string[]; stale: string[] }): string {
  return [
    ...(extra.length > 0 ? [`${extra.length} ${what}:`, ...extra.map((s) => `  ${s}`)] : []),
    ...(stale.length > 0 ? [`allow-list entries that match nothing any more (remove them):`, ...stale.map((s) => `  ${s}`)] : []),
  ].join("\n");
}

test("architecture: every import in src/ runs an allowed way (LAYERS)", () => {
  const found = against(wrongWayArrows(FILES), ALLOWED_ARROWS);
  assert.equal(report("wrong-way imports", found), "");
});

test("architecture: no import cycle among src/ modules", () => {
  const found = against(cycles(FILES), ALLOWED_CYCLES);
  assert.equal(report("cycles", found), "");
});

test("architecture: no src/ file over 400 lines without a one-line reason in its header", () => {
  const found = against(longFiles(FILES), ALLOWED_LONG_FILES);
  assert.equal(report(`files over ${MAX_FILE_LINES} lines without "// Over 400 lines: <reason>" in their first 20 lines`, found), "");
});

test("architecture: no function over 80 lines outside declarative tables", () => {
  const found = against(longFunctions(FILES), ALLOWED_LONG_FUNCTIONS, (s) => s.replace(/ \(\d+ lines\)$/, ""));
  assert.equal(report(`functions over ${MAX_FUNCTION_LINES} lines`, found), "");
});

test("architecture: docs/architecture.md states the table of allowed directions as LAYERS does", () => {
  const doc = readFileSync(join(ROOT, "docs", "architecture.md"), "utf8");
  const missing = Object.entries(LAYERS)
    .map(([layer, may]) => `| ${layer} | ${may.length > 0 ? may.join(", ") : "(nothing)"} |`)
    .filter((row) => !doc.includes(row));
  assert.deepEqual(missing, [], "rows of docs/architecture.md's layer table that differ from LAYERS in test/architecture.test.ts");
});

test("architecture: the checks see what they should (a wrong arrow, a cycle, a long function, a long file)", () => {
  const fake = (file: string, text: string) => parse(join(SRC, file), text);
  const body = Array.from({ length: 85 }, (_, i) => `  const x${i} = ${i};`).join("\n");
  const rows = Array.from({ length: 85 }, (_, i) => `    { n: ${i} },`).join("\n");
  const files = [
    fake("core/a.ts", `import { b } from "./b.js";\nexport const a = 1;`),
    fake("core/b.ts", `import type { A } from "./a.js";\nimport { S } from "../app/s.js";\nexport function long() {\n${body}\n}`),
    fake("app/s.ts", `export const S = 1;\nexport const table = () => {\n  return [\n${rows}\n  ];\n};`),
  ];
  assert.deepEqual(wrongWayArrows(files), ["src/core/b.ts → src/app/s.ts"]);
  assert.deepEqual(cycles(files), ["src/core/a.ts ↔ src/core/b.ts"]);
  assert.deepEqual(longFunctions(files), ["src/core/b.ts:long (87 lines)"]);
  assert.deepEqual(longFiles([fake("x/long.ts", "// x\n" + body + body + body + body + body)]), ["src/x/long.ts"]);
  assert.deepEqual(longFiles([fake("x/long.ts", "// x\n// Over 400 lines: one row per case of a table\n" + body + body + body + body + body)]), []);
});
