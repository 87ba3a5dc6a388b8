// A minimal method + path router: "/v1/organizations/:org_id" patterns, exact segments otherwise.

export interface Match<R> {
  readonly route: R;
  readonly params: Record<string, string>;
}

interface Compiled<R> {
  readonly method: string;
  readonly regex: RegExp;
  readonly names: string[];
  readonly route: R;
}

export class Router<R> {
  private readonly routes: Compiled<R>[] = [];

  add(method: string, path: string, route: R): void {
    const names: string[] = [];
    const pattern = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:([a-z_]+)/g, (_, name: string) => {
      names.push(name);
      return "([^/]+)";
    });
    this.routes.push({ method, regex: new RegExp(`^${pattern}$`), names, route });
  }

  /** The route for method + path; `allowed` lists the methods a known path accepts (for 405). */
  find(method: string, path: string): { match?: Match<R>; allowed: string[] } {
    const allowed: string[] = [];
    for (const r of this.routes) {
      const m = r.regex.exec(path);
      if (!m) continue;
      if (r.method !== method) {
        allowed.push(r.method);
        continue;
      }
      const params: Record<string, string> = {};
      r.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1] ?? "");
      });
      return { match: { route: r.route, params }, allowed };
    }
    return { allowed };
  }
}
