#!/usr/bin/env node
// `usage-credits`: serve the API, initialise a database, administer it, verify the ledger.

import { createApp, openDriver } from "./app.js";
import { writeDemoEnv, type DemoCredentials } from "./app/demo.js";
import { actingAs } from "./app/audit.js";
import { migrate, SchemaTooNew } from "./adapters/store/migrations.js";
import { CLI_RENAMES } from "./core/legacy-names.js";
import { CliError, COMMANDS as BASE_COMMANDS, commandHelp, parseCommandArgs } from "./cli/commands.js";
import { OPERATOR_KEY_COMMANDS } from "./cli/operator-key-commands.js";
import { LAB_COMMANDS } from "./cli/commands/lab.js";
import { ENV_HELP, loadConfig, type Config } from "./config/config.js";
import type { Services } from "./app/services.js";
import { jsonLogger } from "./ports/logger.js";
import { runBackup } from "./cli/backup.js";
import { DatabaseMissing } from "./adapters/store/postgres-create.js";
import { demoDir, firstStart, MODE_HELP, MODE_OPTIONS, modeFlag, prepareDatabase } from "./cli/first-start.js";
import { parseArgs } from "node:util";

const COMMANDS = [...BASE_COMMANDS, ...OPERATOR_KEY_COMMANDS, ...LAB_COMMANDS];

const SERVE_HELP = `usage-credits serve [options]

Starts the API server and the dashboard (/dashboard/). In development mode (the default on SQLite)
an empty database gets a demo organization, and its API key and the owner's dashboard sign-in are
printed. In production mode (the default for postgres://) a missing PostgreSQL database is created
when the role may, there is no demo, and the database's first operator key is printed once; later
starts print no secret and say how to get a key (docs/operations.md).
On SIGTERM or SIGINT it drains: /readyz answers 503, no new connections are accepted, in-flight
requests and queued batches finish (within USAGE_CREDITS_SHUTDOWN_TIMEOUT_SECONDS), then it exits 0.

Options:
  --port <n>                  port (default 8787, or USAGE_CREDITS_PORT)
  --host <addr>               address (default 127.0.0.1, or USAGE_CREDITS_HOST)
  --database <url>            sqlite:<file> or postgres://… (default sqlite:./data/usage-credits.db)
${MODE_HELP}
  -h, --help                  show this help

Environment:
${ENV_HELP.map(([k, d, h]) => `  ${k.padEnd(Math.max(...ENV_HELP.map(([name]) => name.length)) + 2)}${h} (default ${d})`).join("\n")}
`;

const INIT_HELP = `usage-credits init [--database <url>] [--json] [--demo]

Bootstraps a database for production: creates the PostgreSQL database if it is missing and the role
may (otherwise prints the exact createdb command to run), creates or upgrades the schema, seeds the
default plans and price book, and creates the database's first operator (platform) key, printing its
secret once. No demo data unless --demo. Running it again changes nothing and prints no secret.
More operator keys: usage-credits operator-keys --help. Guide: docs/operations.md.

Options:
  --database <url>            sqlite:<file> or postgres://… (default from USAGE_CREDITS_DATABASE_URL)
  --demo                      also create the demo organization (only if there is no organization yet)
  --json                      print JSON: {"mode","database_created","operator_key","demo"}
  -h, --help                  show this help
`;

const MIGRATE_HELP = `usage-credits migrate [--database <url>] [--json]

Applies pending schema migrations (each in one transaction). Refuses a database newer than this server.
`;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 14) + 2;
  return `usage-credits: plans with usage windows, prepaid usage credits, spending limits and an exact ledger.

Usage: usage-credits <command> [options]     (every command takes --help)

Commands:
  ${"serve".padEnd(width)}start the API server (npm start)
  ${"init".padEnd(width)}create the database and schema and print the first operator key (production bootstrap)
  ${"migrate".padEnd(width)}apply pending schema migrations
  ${"backup".padEnd(width)}copy a live SQLite database to a file, consistently (online backup)
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}
`;
}

/** The CLI uses the same composition root as the server (it just never listens). */
async function services(config: Config): Promise<{ s: Services; close: () => Promise<void> }> {
  const app = await createApp(config, { log: jsonLogger(undefined, "error") });
  return { s: app.services, close: () => app.close() };
}

function demoBanner(url: string, creds: DemoCredentials | null, created: boolean, envFile: string | null = null): string {
  const lines = [`usage-credits listening on ${url}`, `  Dashboard: ${url}/dashboard/`, `  OpenAPI document: ${url}/openapi.json`];
  if (creds) {
    lines.push(
      `  ${created ? "Created the demo organization" : "Demo organization"} ${creds.org_id} (Pro plan, $25.00 of usage credits)`,
      `  Demo API key (owner ${creds.member_id}): ${creds.api_key}`,
      `  Operator (platform) key: ${creds.platform_key}`,
      ...(creds.dashboard_email && creds.dashboard_password ? [`  Dashboard sign-in (owner): ${creds.dashboard_email} / ${creds.dashboard_password}`] : []),
      ...(envFile ? [`  Shell variables (UC_URL, UC_KEY, UC_ORG, UC_MEMBER, UC_OPERATOR_KEY): source ${envFile}`] : []),
      `  Try: curl -H "x-api-key: ${creds.api_key}" ${url}/v1/organizations/${creds.org_id}/usage_summary`,
    );
  }
  return lines.join("\n");
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { port: { type: "string" }, host: { type: "string" }, database: { type: "string" }, ...MODE_OPTIONS, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) return void process.stdout.write(SERVE_HELP);
  const config = loadConfig(process.env, { port: values.port, host: values.host, database: values.database, mode: modeFlag(values) });
  await prepareDatabase(config);
  const app = await createApp(config);
  const { boot, lines } = await firstStart(app.services, config, values);
  const demo = boot.demo;
  const url = await app.listen();
  const dataDir = demoDir(config);
  const envFile = demo.credentials && dataDir ? writeDemoEnv(dataDir, url, demo.credentials) : null;
  process.stdout.write(`${[demoBanner(url, demo.credentials, demo.created, envFile), ...lines].join("\n")}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: draining in-flight requests and batches, then exiting\n`);
    void app.close().then(
      () => {
        process.stdout.write("drained; exiting\n");
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/** Old option words of the rename (`--extra-usage`) as deprecated aliases of the new ones. */
function renameLegacyWords(argv: string[]): string[] {
  return argv.map((a) => {
    const m = /^--([a-z-]+)(=.*)?$/.exec(a);
    const renamed = m?.[1] !== undefined && Object.hasOwn(CLI_RENAMES, m[1]) ? CLI_RENAMES[m[1]] : undefined;
    if (renamed === undefined) return a;
    process.stderr.write(`note: --${m?.[1]} is deprecated; use --${renamed}\n`);
    return `--${renamed}${m?.[2] ?? ""}`;
  });
}

/** `init` (the production bootstrap: schema, first operator key, the demo only with --demo) and `migrate`. */
async function initOrMigrate(first: "init" | "migrate", args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { database: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" }, ...(first === "init" ? { demo: MODE_OPTIONS.demo } : {}) },
    strict: true,
  });
  if (values.help) return void process.stdout.write(first === "init" ? INIT_HELP : MIGRATE_HELP), 0;
  // init is the production bootstrap: never the demo unless --demo asks for it.
  const config = loadConfig(process.env, { database: values.database, ...(first === "init" ? { mode: "production" } : {}) });
  if (first === "migrate") {
    const driver = openDriver(config);
    const r = await migrate(driver).finally(() => driver.close());
    process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : `schema at version ${r.to} (was ${r.from})\n`);
    return 0;
  }
  const databaseCreated = await prepareDatabase(config);
  const { s, close } = await services(config);
  try {
    const { boot, lines } = await actingAs({ actor: { type: "cli", id: null, memberId: null }, requestId: null }, () => firstStart(s, config, { demo: values["demo"] === true, database: values.database }));
    const json = { mode: boot.mode, database_created: databaseCreated, operator_key: boot.operatorKey ? { id: boot.operatorKey.key.id, secret: boot.operatorKey.secret } : null, active_operator_keys: boot.activeOperatorKeys, demo: boot.demo };
    const text = [
      ...(databaseCreated ? ["created the PostgreSQL database"] : []),
      `schema ready; ${boot.operatorKey ? "created the first operator key" : "database already initialised"}`,
      ...(boot.demo.created ? [demoBanner("(not serving)", boot.demo.credentials, true)] : []),
      ...lines.map((l) => l.trimStart()),
    ];
    process.stdout.write(values.json ? `${JSON.stringify(json)}\n` : `${text.join("\n")}\n`);
  } finally {
    await close();
  }
  return 0;
}

export async function main(input: string[]): Promise<number> {
  const argv = renameLegacyWords(input);
  const [first, second, ...rest] = argv;
  if (!first || first === "help" || first === "--help" || first === "-h") {
    process.stdout.write(mainHelp());
    return first ? 0 : 1;
  }
  if (first === "serve") {
    await serve(argv.slice(1));
    return -1; // keep running
  }
  if (first === "backup") return runBackup(argv.slice(1));
  if (first === "init" || first === "migrate") return initOrMigrate(first, argv.slice(1));
  const cmd = COMMANDS.find((c) => c.name === `${first} ${second ?? ""}`.trim()) ?? COMMANDS.find((c) => c.name === first);
  if (!cmd) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    if (group.length > 0 && (second === undefined || second === "--help" || second === "-h")) {
      process.stdout.write(`usage-credits ${first} <${group.map((c) => c.name.split(" ")[1]).join("|")}> [options]\n\n${group.map((c) => `  ${c.name.padEnd(Math.max(18, ...group.map((g) => g.name.length + 2)))}${c.summary}`).join("\n")}\n`);
      return second ? 0 : 1;
    }
    process.stderr.write(`unknown command: ${argv.slice(0, 2).join(" ")}\n\n${mainHelp()}`);
    return 2;
  }
  const args = cmd.name.includes(" ") ? rest : argv.slice(1);
  let opts: Record<string, string | boolean | undefined>;
  try {
    opts = parseCommandArgs(cmd, args);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${commandHelp(cmd)}`);
    return 2;
  }
  if (opts["help"]) {
    process.stdout.write(commandHelp(cmd));
    return 0;
  }
  for (const [k, o] of Object.entries(cmd.options)) {
    if (o.required && opts[k] === undefined) {
      process.stderr.write(`--${k} is required\n\n${commandHelp(cmd)}`);
      return 2;
    }
  }
  const config = loadConfig(process.env, { database: typeof opts["database"] === "string" ? opts["database"] : undefined });
  const { s, close } = await services(config);
  try {
    // Changes made from the CLI appear in the audit log as the CLI (it runs on the server's machine).
    const out = await actingAs({ actor: { type: "cli", id: null, memberId: null }, requestId: null }, () => cmd.run(s, opts));
    process.stdout.write(opts["json"] ? `${JSON.stringify(out.json, null, 2)}\n` : `${out.text}\n`);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof DatabaseMissing) {
      process.stderr.write(`usage-credits: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof SchemaTooNew) {
      // A stable code and status (3) so deploy scripts can tell "roll the server forward" apart.
      process.stderr.write(`usage-credits: error ${err.code}: ${err.message}\n`);
      process.exitCode = 3;
      return;
    }
    process.stderr.write(`usage-credits: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
