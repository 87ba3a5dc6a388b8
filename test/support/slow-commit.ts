// Loaded into a server under test with `node --import <this file>` (worker threads inherit it): makes
// SQLite's write COMMIT slow on demand, as a disk with a slow fsync would, and says when a COMMIT is
// under way, so a test can act (kill -9, ask /healthz) while a batch is syncing. Inactive until the
// file `$UC_TEST_SLOW_COMMIT.on` exists; then every write COMMIT appends "begin <n>" to
// $UC_TEST_SLOW_COMMIT, waits UC_TEST_SLOW_COMMIT_MS (half before the real COMMIT, half after it,
// so a kill can land on either side of the moment the batch became durable), and appends "end <n>".

import Database from "better-sqlite3";
import { appendFileSync, existsSync } from "node:fs";
import { threadId } from "node:worker_threads";

const marker = process.env["UC_TEST_SLOW_COMMIT"];
const ms = Number(process.env["UC_TEST_SLOW_COMMIT_MS"] ?? 1000);
if (marker) {
  const exec = Database.prototype.exec;
  let n = 0;
  const sleep = (t: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, t);
  Database.prototype.exec = function (this: Database.Database, sql: string) {
    if (sql !== "COMMIT" || this.readonly || !existsSync(`${marker}.on`)) return exec.call(this, sql);
    const id = `${threadId}.${++n}`;
    appendFileSync(marker, `begin ${id}\n`);
    sleep(ms / 2);
    const r = exec.call(this, sql);
    sleep(ms / 2);
    appendFileSync(marker, `end ${id}\n`);
    return r;
  };
}
