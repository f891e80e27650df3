// Builds the bots binary once, runs every test file with Node's test runner against it, and
// removes the binary. The runner's summary (tests, pass, fail) is its last lines.

import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBots } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(here).filter((f) => f.endsWith(".test.mjs")).map((f) => join(here, f));

const { bin, dir } = await buildBots();
let code = 1;
try {
  const child = spawn(process.execPath, ["--test", "--test-reporter=spec", ...files], {
    env: { ...process.env, BOTS_BIN: bin },
    stdio: "inherit",
  });
  code = await new Promise((resolve) => child.once("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))));
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(code);
