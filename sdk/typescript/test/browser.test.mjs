// Swagger UI at /docs and the SDK in a page of another origin, in Debian's Chromium driven by
// playwright-core (no browser download). The docs are used as a person would: the forms'
// defaults as the page fills them in, only the fields a person types changed.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";
import { startBots } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
/** Screenshots go here (gitignored), for a person to look at. */
const outDir = join(here, "..", "test-results");
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** How long one step in the page may take: long on a loaded two-core machine, never a wait. */
const stepMs = 60_000;

let server;
let browser;
let site; // the page of another origin: { origin, close }

before(async () => {
  await mkdir(outDir, { recursive: true });
  site = await startSite();
  server = await startBots({
    env: { WRITE_RATE: "0", LIST_RATE: "0", INFLIGHT_PER_USER: "0", CORS_ALLOWED_ORIGINS: site.origin },
  });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  await site?.close();
  await server?.stop();
});

/**
 * A new page that records every request's origin and every console error and uncaught
 * exception, to be checked at the end of a test.
 */
async function openPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(stepMs);
  const origins = new Set();
  const errors = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol !== "data:" && u.protocol !== "blob:") origins.add(u.origin);
  });
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  return { page, origins, errors, close: () => context.close() };
}

/** The JSON body of the latest answer that Swagger UI shows for an operation, and its status. */
async function liveResponse(op) {
  const row = op.locator(".live-responses-table tbody .response").first();
  const status = Number((await row.locator(".response-col_status").innerText()).trim());
  const text = await row.locator(".response-col_description pre").first().innerText();
  return { status, body: JSON.parse(text) };
}

/** Clicks Execute and waits until the page shows a new answer; returns it. */
async function execute(page, op) {
  const id = await op.getAttribute("id");
  const shown = op.locator(".live-responses-table .response-col_description pre");
  const before = (await shown.count()) > 0 ? await shown.first().textContent() : null;
  await op.locator("button.execute").click();
  await page.waitForFunction(
    ([id, before]) => {
      const pre = document.querySelector(`[id="${id}"] .live-responses-table .response-col_description pre`);
      return pre !== null && pre.textContent !== before;
    },
    [id, before],
  );
  return liveResponse(op);
}

describe("Swagger UI at /docs", () => {
  it("shows this API, authorises, creates two bots from the form and lists them", async () => {
    const { page, origins, errors, close } = await openPage();
    try {
      const doc = await (await fetch(`${server.url}/openapi.json`)).json();
      await page.goto(`${server.url}/docs`);
      await page.locator(".swagger-ui .info .title").filter({ hasText: doc.info.title }).waitFor();
      assert.equal(await page.title(), doc.info.title);

      // Every operation of the contract is on the page, under its tag.
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          if (method === "parameters") continue;
          const block = page.locator(`#operations-${op.tags[0]}-${op.operationId}`);
          assert.equal(await block.count(), 1, `${method.toUpperCase()} ${path} (${op.operationId}) is shown`);
          assert.match(await block.locator(".opblock-summary-path").innerText(), new RegExp(path.replace(/[{}]/g, ".").replace(/\//g, "\\/")));
        }
      }
      await page.screenshot({ path: join(outDir, "docs.png") });
      await page.locator("#operations-tag-bots").scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(outDir, "docs-operations.png") });

      // Authorise with a token from `bots token`.
      await page.locator(".auth-wrapper button.authorize").click();
      const modal = page.locator(".modal-ux");
      await modal.locator("input").first().fill(await server.token());
      await modal.locator("button.authorize").click();
      await modal.locator("button.btn-done").click();

      // Create: the form as the page fills it in, with only the name changed.
      const create = page.locator("#operations-bots-createBot");
      await create.locator(".opblock-summary").first().click();
      await create.locator("button.try-out__btn").click();
      const body = create.locator("textarea.body-param__text");
      const sample = JSON.parse(await body.inputValue());
      const first = await createFromForm(page, create, body, sample, "Billing helper");
      await shoot(page, create, "try-it-out-create.png");
      // A second bot from the same form: a new name, nothing else touched, is a new bot.
      const second = await createFromForm(page, create, body, sample, "Billing helper 2");
      assert.notEqual(second.id, first.id);

      // List with the form's defaults shows both.
      const list = page.locator("#operations-bots-listBots");
      await list.locator(".opblock-summary").first().click();
      await list.locator("button.try-out__btn").click();
      const listed = await execute(page, list);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      const ids = listed.body.items.map((b) => b.id);
      assert.ok(ids.includes(first.id) && ids.includes(second.id), `listed: ${JSON.stringify(listed.body)}`);
      await shoot(page, list, "try-it-out-list.png");

      assert.deepEqual([...origins], [server.url], "the page asked only its own server");
      assert.deepEqual(errors, [], "the console shows no error");
    } finally {
      await close();
    }
  });
});

/** Saves the part of an operation from its title down to the answer the server gave. */
async function shoot(page, op, file) {
  const id = await op.getAttribute("id");
  const clip = await page.evaluate((id) => {
    const top = document.getElementById(id).getBoundingClientRect();
    const live = document.querySelector(`[id="${id}"] .live-responses-table`).getBoundingClientRect();
    return { x: top.x, y: top.y + window.scrollY, width: top.width, height: live.bottom - top.top };
  }, id);
  await page.screenshot({ path: join(outDir, file), clip, fullPage: true });
}

/** Sends the create form with `sample` as the page filled it in, but for the name; expects 201. */
async function createFromForm(page, op, textarea, sample, name) {
  await textarea.fill(JSON.stringify({ ...sample, name }, null, 2));
  const res = await execute(page, op);
  assert.equal(res.status, 201, `create ${name}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.name, name);
  assert.equal(res.body.status, "training");
  return res.body;
}

describe("the SDK in a page of another origin", () => {
  it("creates, lists and watches bots through CORS", async () => {
    const { page, origins, errors, close } = await openPage();
    try {
      const token = await server.token();
      await page.goto(`${site.origin}/#api=${encodeURIComponent(server.url)}&token=${encodeURIComponent(token)}`);
      const result = await page.waitForFunction(() => window.result).then((h) => h.jsonValue());
      assert.equal(result.error, undefined, result.error);
      assert.equal(result.created.name, "From another origin");
      assert.deepEqual(result.listed, ["From another origin"]);
      assert.match(result.etag, /^"\d+"$/, "the ETag header is exposed to the page");
      assert.equal(result.watched.at(-1), "active", "the status stream is read with fetch in the page");
      assert.deepEqual([...origins].sort(), [site.origin, server.url].sort());
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
});

/**
 * Serves a page and the SDK, bundled by esbuild, on 127.0.0.2: another origin than the API's
 * 127.0.0.1, on loopback.
 */
async function startSite() {
  const bundle = await esbuild.build({
    entryPoints: [join(here, "..", "src", "index.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
  });
  const files = {
    "/": ["text/html", '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>SDK page</title><pre id="out">running</pre><script type="module" src="/app.js"></script>'],
    "/sdk.js": ["text/javascript", bundle.outputFiles[0].text],
    "/app.js": [
      "text/javascript",
      `import { createBotsClient } from "/sdk.js";
const p = new URLSearchParams(location.hash.slice(1));
const bots = createBotsClient({ baseUrl: p.get("api"), token: p.get("token") });
try {
  const { bot, etag } = await bots.create({ name: "From another origin", model: "gpt-4o-mini" });
  const listed = [];
  for await (const b of bots.all()) listed.push(b.name);
  const watched = [];
  for await (const ev of bots.watchStatus(bot.id, { signal: AbortSignal.timeout(${stepMs}) })) {
    watched.push(ev.to_status);
    if (ev.to_status === "active") break;
  }
  window.result = { created: bot, etag, listed, watched };
} catch (e) {
  window.result = { error: String(e) };
}
document.getElementById("out").textContent = JSON.stringify(window.result);
`,
    ],
  };
  const http = createServer((req, res) => {
    const f = files[new URL(req.url, "http://x").pathname];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": f[0], "Cache-Control": "no-store" }).end(f[1]);
  });
  await new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.2", resolve);
  });
  const { port } = http.address();
  return { origin: `http://127.0.0.2:${port}`, close: () => new Promise((r) => http.close(r)) };
}
