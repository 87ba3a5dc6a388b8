// What every command file of the CLI shares: the Command row, option readers, the user-mistake
// error, turning a use case's result into a value, the text table, argument parsing and help.

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { domainError, type Result } from "../../core/errors.js";
import { parseUsd } from "../../core/money.js";
import type { Outcome } from "../../app/batcher.js";
import type { Services } from "../../app/services.js";

export interface Option {
  readonly type: "string" | "boolean";
  readonly help: string;
  readonly required?: boolean;
  /** May be given more than once; the values are joined with commas. */
  readonly multiple?: boolean;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly options: Record<string, Option>;
  /** One positional argument (e.g. the file of `import extra-usage FILE`), stored under this option name. */
  readonly positional?: { readonly name: string; readonly help: string };
  /** Longer help printed after the options. */
  readonly details?: string;
  /** Returns the JSON result and a human rendering. Throws CliError for user mistakes. */
  readonly run: (s: Services, o: Record<string, string | boolean | undefined>) => Promise<{ json: unknown; text: string }>;
}

export class CliError extends Error {}

/** A file's bytes; a file that cannot be read is the user's mistake (CliError naming it). */
export async function readInput(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export const str = (o: Record<string, string | boolean | undefined>, k: string): string => {
  const v = o[k];
  if (typeof v !== "string" || v === "") throw new CliError(`--${k} is required`);
  return v;
};
export const opt = (o: Record<string, string | boolean | undefined>, k: string): string | undefined => (typeof o[k] === "string" ? (o[k] as string) : undefined);

export function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new CliError(`--${flag} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  return value as T;
}

export function usd(text: string, flag: string): number {
  const v = parseUsd(text, 6);
  if (v === null) throw new CliError(`--${flag} must be an amount in USD like 25 or 12.50, got ${JSON.stringify(text)}`);
  return v;
}

export function unwrap<T>(out: Outcome<T> | Result<T>): T {
  const result = "kind" in out ? (out.kind === "fresh" ? out.result : { ok: false as const, error: domainError("conflict", "replayed") }) : out;
  if (!result.ok) throw new CliError(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

export const table = (rows: string[][]): string => {
  if (rows.length === 0) return "(none)";
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd()).join("\n");
};

export const ORG = { org: { type: "string", help: "organization id (org_…)", required: true } } as const;

export function parseCommandArgs(cmd: Command, args: string[]): Record<string, string | boolean | undefined> {
  const options = Object.fromEntries(Object.entries(cmd.options).map(([k, v]) => [k, { type: v.type, ...(v.multiple ? { multiple: true } : {}) }]));
  const { values, positionals } = parseArgs({
    args,
    options: { ...options, json: { type: "boolean" }, database: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
    allowPositionals: cmd.positional !== undefined,
  });
  const out = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v])) as Record<string, string | boolean | undefined>;
  if (cmd.positional && positionals.length > 0) {
    if (positionals.length > 1 || out[cmd.positional.name] !== undefined) throw new Error(`expected one ${cmd.positional.name.toUpperCase()}, got ${positionals.length + (out[cmd.positional.name] !== undefined ? 1 : 0)}`);
    out[cmd.positional.name] = positionals[0];
  }
  return out;
}

export function commandHelp(cmd: Command): string {
  const rows = Object.entries(cmd.options).map(([k, v]) => `  --${k}${v.type === "string" ? " <value>" : ""}`.padEnd(30) + `${v.help}${v.required ? " (required)" : ""}`);
  rows.push("  --json".padEnd(30) + "print JSON instead of text", "  --database <url>".padEnd(30) + "sqlite:<file> or postgres://… (default from USAGE_CREDITS_DATABASE_URL)", "  -h, --help".padEnd(30) + "show this help");
  const usage = `usage-credits ${cmd.name}${cmd.positional ? ` ${cmd.positional.name.toUpperCase()}` : ""} [options]`;
  return `${usage}\n\n${cmd.summary}\n\nOptions:\n${rows.join("\n")}\n${cmd.details ? `\n${cmd.details}\n` : ""}`;
}
