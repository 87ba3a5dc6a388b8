// The environment as one schema. Every variable is declared once — its name, its default (as the
// help shows it and as it is parsed), its help line and its parser (a zod schema) — and that one
// declaration yields both the parsed value (`readEnv`) and the `serve --help` line (`envHelp`).
// Parsers fail with a message that names the variable and what it must be.

import { z } from "zod";

/** A declared environment variable; T is what its parser yields. */
export interface EnvVar<T> {
  readonly name: string;
  /** The value used when the variable is unset (or empty, unless `keepEmpty`); undefined: no value. */
  readonly fallback: string | undefined;
  /** The default as `serve --help` and docs/configuration.md show it (usually `fallback`). */
  readonly shown: string;
  readonly help: string;
  /** An empty value is a value (not the default). */
  readonly keepEmpty: boolean;
  readonly schema: z.ZodType<T, string | undefined>;
}

export type EnvSchema = Readonly<Record<string, EnvVar<unknown>>>;
export type EnvValues<S extends EnvSchema> = { readonly [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never };

/** A value that does not parse: the end of the sentence "<NAME> must be …, got …" (or ": …" for "<NAME>: …"). */
export class Invalid {
  constructor(readonly message: string) {}
}
export const invalid = (message: string): Invalid => new Invalid(message);

/** A parser from the raw string (undefined when unset without a default) to T, or Invalid. */
export function parser<T>(check: (raw: string | undefined) => T | Invalid): z.ZodType<T, string | undefined> {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      const out = check(raw);
      if (out instanceof Invalid) {
        ctx.addIssue({ code: "custom", message: out.message });
        return z.NEVER;
      }
      return out;
    });
}

export function envVar<T>(
  name: string,
  fallback: string | undefined,
  help: string,
  schema: z.ZodType<T, string | undefined>,
  more: { readonly shown?: string; readonly keepEmpty?: boolean } = {},
): EnvVar<T> {
  return { name, fallback, shown: more.shown ?? fallback ?? "", help, keepEmpty: more.keepEmpty ?? false, schema };
}

/** Parses every variable of a schema from `env`; the first that does not parse throws its message. */
export function readEnv<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv): EnvValues<S> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(schema)) {
    const raw = env[v.name];
    const given = raw === undefined || (raw === "" && !v.keepEmpty) ? v.fallback : raw;
    const parsed = v.schema.safeParse(given);
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? "is not valid";
      throw new Error(message.startsWith(":") ? `${v.name}${message}` : `${v.name} ${message}`);
    }
    out[key] = parsed.data;
  }
  return out as EnvValues<S>;
}

/** The `serve --help` lines of some schemas: [name, default, help]. */
export function envHelp(...schemas: EnvSchema[]): ReadonlyArray<[string, string, string]> {
  return schemas.flatMap((s) => Object.values(s).map((v): [string, string, string] => [v.name, v.shown, v.help]));
}

// ------------------------------------------------------------ the kinds of value

const got = (raw: string | undefined): string => JSON.stringify(raw ?? "");

export const int = (min: number, max: number) =>
  parser((raw) => {
    const v = Number(raw);
    return raw !== undefined && raw !== "" && Number.isInteger(v) && v >= min && v <= max ? v : invalid(`must be an integer from ${min} to ${max}, got ${got(raw)}`);
  });

export const bool = () => parser((raw) => (raw === "true" || raw === "1" ? true : raw === "false" || raw === "0" ? false : invalid(`must be true or false, got ${got(raw)}`)));

/** One of a closed list of words (`as const`, so the value's type is the union). */
export const oneOf = <const W extends readonly string[]>(words: W) =>
  parser((raw): W[number] | Invalid => (raw !== undefined && words.includes(raw) ? raw : invalid(`must be ${words.join(" or ")}, got ${got(raw)}`)));

/** The value absent is undefined; present, it goes through `inner`. */
export const optional = <T>(inner: z.ZodType<T, string | undefined>) => parser((raw): T | undefined | Invalid => {
  if (raw === undefined) return undefined;
  const r = inner.safeParse(raw);
  return r.success ? r.data : invalid(r.error.issues[0]?.message ?? "is not valid");
});

/** Free text (absent: empty). */
export const text = () => parser((raw) => raw ?? "");

/** Free text that may be absent (undefined). */
export const maybeText = () => parser((raw) => raw);

/** An ISO 8601 date or instant ("2027-06-30", "2027-06-30T00:00:00Z") as epoch milliseconds. */
export const instant = () =>
  parser((raw) => {
    const t = raw !== undefined && /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/.test(raw) ? Date.parse(raw) : Number.NaN;
    return Number.isFinite(t) ? t : invalid(`must be an ISO 8601 date such as 2027-06-30 (UTC), got ${got(raw)}`);
  });
