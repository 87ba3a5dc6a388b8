// Reading the environment: one parser per kind of value, each failing with a message that names
// the variable and what it must be.

export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return v;
}

export function envBool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

/** An ISO 8601 date or instant ("2027-06-30", "2027-06-30T00:00:00Z") as epoch milliseconds. */
export function envInstant(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  const raw = env[name] === undefined || env[name] === "" ? fallback : (env[name] as string);
  const t = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(t)) throw new Error(`${name} must be an ISO 8601 date such as 2027-06-30 (UTC), got ${JSON.stringify(raw)}`);
  return t;
}
