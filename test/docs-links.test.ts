// Every relative link in README.md and docs/*.md points at a file that exists and, when it names
// an anchor, at a heading that exists (GitHub's slugs), so moving a section cannot leave a dead link.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, "")
    .replace(/[^\p{L}\p{N} -]/gu, "")
    .replace(/ /g, "-");
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/^```[\s\S]*?^```$/gm, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? "")));
}

test("README.md and docs/*.md: every relative link and anchor resolves", () => {
  const pages = [join(ROOT, "README.md"), ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(ROOT, "docs", f))];
  const dead: string[] = [];
  let checked = 0;
  for (const page of pages) {
    const text = readFileSync(page, "utf8").replace(/^```[\s\S]*?^```$/gm, "");
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] ?? "";
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      const [path = "", anchor] = target.split("#");
      const file = path === "" ? page : join(dirname(page), path);
      checked++;
      if (!existsSync(file)) {
        dead.push(`${relative(ROOT, page)}: ${target} (no such file)`);
        continue;
      }
      if (anchor && file.endsWith(".md") && !anchors(file).has(anchor)) dead.push(`${relative(ROOT, page)}: ${target} (no such heading)`);
    }
  }
  assert.ok(checked > 50, `only ${checked} links found`);
  assert.deepEqual(dead, []);
});
