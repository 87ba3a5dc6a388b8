// The dashboard's files: one HTML page, one stylesheet and the compiled browser modules
// (web/src → dist/web by `tsc -p web/tsconfig.json`, run by `npm ci`'s prepare step). Read once at
// start-up and served from memory with a strict Content-Security-Policy: scripts only from this
// origin (no inline script, no eval), never framed, no referrer leaks.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Reply } from "./server.js";

/** On top of the headers every response carries (server.ts securityHeaders: nosniff, DENY, no-referrer). */
const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
};

interface File {
  readonly type: string;
  readonly body: Buffer;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Loads the dashboard's files from the package root (the directory holding web/ and dist/). */
export function loadDashboardFiles(root = fileURLToPath(new URL("../../../", import.meta.url))): Map<string, File> {
  const files = new Map<string, File>();
  const add = (url: string, path: string) => {
    const ext = path.slice(path.lastIndexOf("."));
    const type = TYPES[ext];
    if (type) files.set(url, { type, body: readFileSync(path) });
  };
  const page = join(root, "web", "index.html");
  if (existsSync(page)) add("/dashboard/", page);
  const css = join(root, "web", "styles.css");
  if (existsSync(css)) add("/dashboard/styles.css", css);
  const built = join(root, "dist", "web");
  for (const path of walk(built)) if (path.endsWith(".js")) add(`/dashboard/js/${relative(built, path).split(sep).join("/")}`, path);
  return files;
}

/** The `pages` hook of the HTTP server: the dashboard's files, and `/` → the dashboard. */
export function dashboardPages(files: Map<string, File>): (method: string, pathname: string) => Reply | undefined {
  return (method, pathname) => {
    if (method !== "GET") return undefined;
    // Without a built dashboard, `/` is left to the route table (it must never 404 a client).
    if ((pathname === "/" || pathname === "/dashboard") && files.has("/dashboard/")) return { status: 302, body: null, headers: { location: "/dashboard/", ...DASHBOARD_HEADERS }, write: async (res) => void res.end() };
    if (!pathname.startsWith("/dashboard/")) return undefined;
    const file = files.get(pathname);
    if (!file) return undefined;
    return {
      status: 200,
      body: null,
      headers: {
        ...DASHBOARD_HEADERS,
        "content-type": file.type,
        "content-length": String(file.body.length),
        // The page is never cached (it is tiny); modules revalidate so an upgrade is picked up.
        "cache-control": file.type.startsWith("text/html") ? "no-store" : "no-cache",
      },
      write: async (res) => void res.end(file.body),
    };
  };
}
