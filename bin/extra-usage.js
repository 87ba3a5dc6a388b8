#!/usr/bin/env node
// The old name of the command line, kept as a deprecated alias: same commands, same options.
process.stderr.write("note: `extra-usage` is deprecated; it is now `usage-credits` (same commands and options)\n");
await import("../dist/src/main.js");
