// The real `bots serve` for the SDK's tests: a database of its own (created with createdb,
// migrated with `bots migrate`, dropped at stop), the server on a free loopback port, and
// tokens from `bots token`. The binary is the one test/run.mjs built (BOTS_BIN), or one built
// here when a test file runs alone.

import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository's root, where `go build ./cmd/bots` runs. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

const pgHost = process.env.TEST_DATABASE_HOST || "127.0.0.1";
const pgPort = process.env.TEST_DATABASE_PORT || "5432";
const pg = ["-h", pgHost, "-p", pgPort, "-U", "postgres"];

/** How long the server may take to say it listens, and to stop. */
const waitLimitMs = 60_000;

/** Builds bots into a new temporary folder; returns its path and the folder to remove. */
export async function buildBots() {
  const dir = await mkdtemp(join(tmpdir(), "bots-ts-"));
  const bin = join(dir, "bots");
  await run("go", ["build", "-o", bin, "./cmd/bots"], { cwd: repoRoot, maxBuffer: 1 << 24 });
  return { bin, dir };
}

/**
 * Starts `bots serve` on a new database. `env` adds settings (for example
 * CORS_ALLOWED_ORIGINS). Returns { url, token(user?), stop() }; call stop in an `after` hook.
 */
export async function startBots({ env = {} } = {}) {
  let built;
  let bin = process.env.BOTS_BIN;
  if (!bin) {
    built = await buildBots();
    bin = built.bin;
  }
  const db = `bots_ts_${process.pid}_${randomUUID().slice(0, 8)}`;
  await run("createdb", [...pg, db]);
  const secret = randomUUID() + randomUUID();
  const settings = {
    ...process.env,
    DATABASE_URL: `postgres://postgres@${pgHost}:${pgPort}/${db}?sslmode=disable&pool_max_conns=3`,
    JWT_SECRET: secret,
    LISTEN_ADDR: "127.0.0.1:0",
    ...env,
  };
  let child;
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), waitLimitMs);
      await exited;
      clearTimeout(timer);
    }
    await run("dropdb", [...pg, "--if-exists", "--force", db]);
    if (built) await rm(built.dir, { recursive: true, force: true });
  };
  try {
    await run(bin, ["migrate"], { env: settings });
    child = spawn(bin, ["serve"], { env: settings, stdio: ["ignore", "pipe", "pipe"] });
    const addr = await listening(child);
    const url = `http://${addr}`;
    const token = async (user = randomUUID()) => {
      const { stdout } = await run(bin, ["token", "--user", user, "--ttl", "1h"], { env: settings });
      return stdout.trim();
    };
    return { url, token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Waits for the server's JSON log line `listening` and returns its address. */
function listening(child) {
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr.on("data", (b) => {
      stderr = (stderr + b).slice(-4096);
    });
    const timer = setTimeout(() => reject(new Error(`bots serve was not ready within ${waitLimitMs} ms: ${stderr}`)), waitLimitMs);
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.msg === "listening") {
          clearTimeout(timer);
          resolve(entry.addr);
        }
      } catch {
        // not a log entry
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`bots serve stopped before it was ready (${code ?? signal}): ${stderr}`));
    });
  });
}
