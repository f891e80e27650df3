// The whole life of a bot through the SDK, against a real `bots serve` that trains: create,
// list with filters, get with its ETag, a conditional update that meets a 412, delete with
// confirmation, restore, duplicate, and watching the status until the bot is active, also
// through a server that goes away: a proxy of the test's drops the stream, then for a while
// closes each connection as it opens and answers 503, 429, 502 and 504, as a restarting server
// and its load balancer do.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BotsProblem, createBotsClient, ok, serverSentEvents } from "../dist/index.js";
import { startFlakyProxy } from "./proxy.mjs";
import { startBots } from "./server.mjs";

/** Each call of the tests ends within a minute, so a watch that never sees its event fails. */
const deadline = () => AbortSignal.timeout(60_000);

let server;
before(async () => {
  server = await startBots({ env: { WRITE_RATE: "0", LIST_RATE: "0", INFLIGHT_PER_USER: "0" } });
});
after(async () => {
  await server?.stop();
});

/** A client for a new user; `sent` records the requests it sends. */
async function newClient(opts = {}) {
  const token = await server.token();
  const sent = [];
  const recording = (input, init) => {
    const req = new Request(input, init);
    sent.push(req);
    return (opts.fetch ?? fetch)(req);
  };
  return { bots: createBotsClient({ baseUrl: server.url, token, fetch: recording }), sent };
}

/**
 * A client of the server for a new user (`bots`), and one of the same user whose requests go
 * through a new flaky proxy (`watcher`, and `proxy` to steer it), closed after the test.
 */
async function throughProxy() {
  const token = await server.token();
  const proxy = await startFlakyProxy(server.url);
  after(proxy.close);
  return {
    bots: createBotsClient({ baseUrl: server.url, token }),
    watcher: createBotsClient({ baseUrl: proxy.url, token }),
    proxy,
  };
}

/** Waits for the bot to reach `status` on its stream; returns every event seen. */
async function watchUntil(bots, id, status, opts = {}) {
  const seen = [];
  for await (const ev of bots.watchStatus(id, { signal: deadline(), ...opts })) {
    seen.push(ev);
    if (ev.to_status === status) return seen;
  }
  assert.fail(`the stream of ${id} ended before ${status}: ${JSON.stringify(seen)}`);
}

describe("a bot's life", () => {
  it("goes from create to active, through updates, delete, restore and duplicate", async () => {
    const { bots, sent } = await newClient();

    // Create: 201 with an ETag, in training, with a fresh Idempotency-Key per create.
    const support = await bots.create({ name: "Support", model: "gpt-4o-mini", description: "Answers support questions" });
    assert.equal(support.bot.name, "Support");
    assert.equal(support.bot.status, "training");
    assert.match(support.etag, /^"\d+"$/);
    const billing = await bots.create({ name: "Billing", model: "claude-3-haiku", temperature: 0.2 });
    const keys = sent.filter((r) => r.method === "POST").map((r) => r.headers.get("Idempotency-Key"));
    assert.equal(keys.length, 2);
    assert.ok(keys.every((k) => /^[0-9a-f-]{36}$/.test(k)), `keys: ${keys}`);
    assert.notEqual(keys[0], keys[1]);

    // Watch until active: the stream starts with the latest event and ends at `active`.
    const events = await watchUntil(bots, support.bot.id, "active");
    assert.equal(events.at(-1).from_status, "training");
    await watchUntil(bots, billing.bot.id, "active");

    // List with filters: the search, the model and the sort are the server's.
    const { data: found } = await ok(
      bots.api.GET("/api/v1/bots", { params: { query: { q: "supp", model: "gpt-4o-mini", status: "active", sort: "name" } } }),
    );
    assert.deepEqual(found.items.map((b) => b.id), [support.bot.id]);
    assert.equal(found.total, 1);
    const every = [];
    for await (const b of bots.all({ limit: 1, sort: "name" })) every.push(b.name);
    assert.deepEqual(every, ["Billing", "Support"]);
    const listed = sent.filter((r) => r.method === "GET" && new URL(r.url).pathname === "/api/v1/bots");
    assert.ok(listed.length >= 3, "every() asked for one page per bot");

    // Get with its ETag, and If-None-Match answers 304 while nothing changed.
    const got = await bots.get(support.bot.id);
    assert.equal(got.bot.status, "active");
    const same = await bots.api.GET("/api/v1/bots/{bot_id}", {
      params: { path: { bot_id: support.bot.id }, header: { "If-None-Match": got.etag } },
    });
    assert.equal(same.response.status, 304);

    // A write with a stale If-Match is refused with 412 and the current ETag.
    await ok(bots.api.PUT("/api/v1/bots/{bot_id}", { params: { path: { bot_id: support.bot.id } }, body: { description: "Changed by someone else" } }));
    const stale = await bots.api.PUT("/api/v1/bots/{bot_id}", {
      params: { path: { bot_id: support.bot.id }, header: { "If-Match": got.etag } },
      body: { name: "Support desk" },
    });
    assert.equal(stale.response.status, 412);
    const problem = await ok(stale).catch((e) => e);
    assert.ok(problem instanceof BotsProblem);
    assert.equal(problem.type, "/problems/precondition-failed");
    assert.notEqual(problem.etag, got.etag);
    assert.match(problem.etag, /^"\d+"$/);

    // update() reads, changes and writes with If-Match; a change made in between is a 412,
    // and it reads again and reapplies the change, so neither write is lost.
    let calls = 0;
    const updated = await bots.update(support.bot.id, async (bot) => {
      calls++;
      if (calls === 1) {
        await ok(bots.api.PUT("/api/v1/bots/{bot_id}", { params: { path: { bot_id: bot.id } }, body: { is_public: true } }));
      }
      return { name: `${bot.name} desk` };
    });
    assert.ok(calls >= 2, `the change was asked for ${calls} time(s)`);
    assert.equal(updated.bot.name, "Support desk");
    assert.equal(updated.bot.is_public, true);
    assert.equal(updated.bot.description, "Changed by someone else");

    // Delete needs a confirmation: without one 428, with confirm=true it is gone.
    const unconfirmed = await ok(bots.api.DELETE("/api/v1/bots/{bot_id}", { params: { path: { bot_id: support.bot.id } } })).catch((e) => e);
    assert.ok(unconfirmed instanceof BotsProblem);
    assert.equal(unconfirmed.status, 428);
    assert.equal(unconfirmed.type, "/problems/confirmation-required");
    const { data: deleted } = await ok(
      bots.api.DELETE("/api/v1/bots/{bot_id}", { params: { path: { bot_id: support.bot.id }, query: { confirm: true } } }),
    );
    assert.equal(deleted.deleted, true);
    const gone = await bots.get(support.bot.id).catch((e) => e);
    assert.ok(gone instanceof BotsProblem);
    assert.equal(gone.status, 404);

    // Restore brings it back with the status it had.
    const { data: restored } = await ok(bots.api.POST("/api/v1/bots/{bot_id}/restore", { params: { path: { bot_id: support.bot.id } } }));
    assert.equal(restored.name, "Support desk");
    assert.equal(restored.status, "active");

    // Duplicate: a private copy that trains on its own until it is active.
    const copy = await bots.duplicate(support.bot.id, { name: "Support copy" });
    assert.equal(copy.bot.name, "Support copy");
    assert.equal(copy.bot.is_public, false);
    assert.equal(copy.bot.model, "gpt-4o-mini");
    assert.notEqual(copy.bot.id, support.bot.id);
    await watchUntil(bots, copy.bot.id, "active");
  });

  it("retries a create with the same Idempotency-Key and gets the same bot", async () => {
    const { bots } = await newClient();
    const key = crypto.randomUUID();
    const first = await bots.create({ name: "Once", model: "gpt-4o" }, { idempotencyKey: key });
    const again = await bots.create({ name: "Once", model: "gpt-4o" }, { idempotencyKey: key });
    assert.equal(again.bot.id, first.bot.id);
    const reused = await bots.create({ name: "Twice", model: "gpt-4o" }, { idempotencyKey: key }).catch((e) => e);
    assert.ok(reused instanceof BotsProblem);
    assert.equal(reused.type, "/problems/idempotency-key-reused");
  });

  it("turns a refused field into a problem that names it", async () => {
    const { bots } = await newClient();
    const err = await bots.create({ name: "Hot", model: "gpt-4o-mini", temperature: 3 }).catch((e) => e);
    assert.ok(err instanceof BotsProblem);
    assert.equal(err.status, 422);
    assert.equal(err.problem.errors?.[0]?.field, "temperature");
    assert.match(err.message, /^422 /);
  });

  it("resumes a dropped status stream with Last-Event-ID, missing and repeating nothing", async () => {
    // Once cut is set, the next stream is cut right after its first event, as a dropped
    // connection would be.
    let cut = false;
    const resumedWith = [];
    const cutting = async (req) => {
      const res = await fetch(req);
      if (!new URL(req.url).pathname.endsWith("/status/stream")) return res;
      resumedWith.push(req.headers.get("Last-Event-ID"));
      if (!cut) return res;
      cut = false;
      return new Response(cutAfterFirstEvent(res.body), { status: res.status, headers: res.headers });
    };
    const { bots } = await newClient({ fetch: cutting });
    const { bot } = await bots.create({ name: "Resumed", model: "gpt-4o-mini" });
    await watchUntil(bots, bot.id, "active");

    cut = true;
    resumedWith.length = 0;
    const seen = [];
    for await (const ev of bots.watchStatus(bot.id, { signal: deadline(), reconnectDelayMs: 10 })) {
      seen.push(ev);
      // The bot trains again only once the first stream is cut: what it sends comes after.
      if (seen.length === 1) await ok(bots.api.POST("/api/v1/bots/{bot_id}/train", { params: { path: { bot_id: bot.id } } }));
      else if (ev.to_status === "active") break;
    }
    assert.deepEqual(resumedWith, [null, String(seen[0].id)], "one reconnection, after the last event seen");
    assert.deepEqual(seen.map((e) => e.to_status), ["active", "training", "active"]);
    const ids = seen.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.equal(new Set(ids).size, ids.length, "no event twice");
  });

  it("resumes after a given event id, sending only later events", async () => {
    const { bots } = await newClient();
    const { bot } = await bots.create({ name: "Later", model: "gpt-4o-mini" });
    await watchUntil(bots, bot.id, "active");
    await ok(bots.api.POST("/api/v1/bots/{bot_id}/train", { params: { path: { bot_id: bot.id } } }));
    const retrained = await watchUntil(bots, bot.id, "active");
    const { data: history } = await ok(bots.api.GET("/api/v1/bots/{bot_id}/status-events", { params: { path: { bot_id: bot.id } } }));
    // Newest first: active, training, active, and the creation.
    assert.deepEqual(history.items.map((e) => e.to_status), ["active", "training", "active", "training"]);
    assert.equal(history.items[0].id, retrained.at(-1).id);
    const created = history.items[3];

    // After the creation come the three later events, in order, not just the latest.
    const later = [];
    for await (const ev of bots.watchStatus(bot.id, { signal: deadline(), lastEventId: created.id })) {
      later.push(ev);
      if (later.length === 3) break;
    }
    assert.deepEqual(later.map((e) => e.id), history.items.slice(0, 3).map((e) => e.id).reverse());
  });
});

describe("a status watch through an outage", () => {
  it("reconnects through dropped and refused connections and 503, 429, 502 and 504, missing nothing", async () => {
    const { bots, watcher, proxy } = await throughProxy();
    const { bot } = await bots.create({ name: "Outlasting", model: "gpt-4o-mini" });
    await watchUntil(bots, bot.id, "active");

    // The stream ends after its first event; then six connections are closed as they open,
    // four are answered with a status, and connections keep being closed until the bot has
    // trained again, so that the training and its end happen while the watch is away.
    proxy.outageAfterFirstEvent(["close", "close", "close", "close", "close", "close", 503, 429, 502, 504]);
    const seen = [];
    const watch = watcher.watchStatus(bot.id, { signal: deadline(), reconnectDelayMs: 10, maxReconnectDelayMs: 100 });
    for await (const ev of watch) {
      seen.push(ev);
      if (seen.length === 1) {
        await ok(bots.api.POST("/api/v1/bots/{bot_id}/train", { params: { path: { bot_id: bot.id } } }));
        for await (const direct of bots.watchStatus(bot.id, { signal: deadline(), lastEventId: ev.id })) {
          if (direct.to_status === "active") break;
        }
        proxy.endOutage();
      } else if (ev.to_status === "active") break;
    }

    assert.deepEqual(proxy.refused.slice(0, 10), ["close", "close", "close", "close", "close", "close", 503, 429, 502, 504]);
    assert.deepEqual(proxy.streamed, [null, String(seen[0].id)], "one stream before the outage, one after, resumed after the last event seen");
    assert.deepEqual(seen.map((e) => e.to_status), ["active", "training", "active"]);
    const ids = seen.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.equal(new Set(ids).size, ids.length, "no event twice");
  });

  it("ends with the 404 of a bot deleted during the outage", async () => {
    const { bots, watcher, proxy } = await throughProxy();
    const { bot } = await bots.create({ name: "Deleted meanwhile", model: "gpt-4o-mini" });
    await watchUntil(bots, bot.id, "active");

    proxy.outageAfterFirstEvent([503]);
    const seen = [];
    const err = await (async () => {
      for await (const ev of watcher.watchStatus(bot.id, { signal: deadline(), reconnectDelayMs: 10 })) {
        seen.push(ev);
        await ok(bots.api.DELETE("/api/v1/bots/{bot_id}", { params: { path: { bot_id: bot.id }, query: { confirm: true } } }));
        proxy.endOutage();
      }
    })().catch((e) => e);
    assert.ok(err instanceof BotsProblem, `not a problem: ${err}`);
    assert.equal(err.status, 404);
    assert.equal(seen.length, 1);
    assert.equal(proxy.refused[0], 503);
  });

  it("gives up when the outage outlasts its budget, with the last attempt's error", async () => {
    const { bots, watcher, proxy } = await throughProxy();
    const { bot } = await bots.create({ name: "Abandoned", model: "gpt-4o-mini" });
    await watchUntil(bots, bot.id, "active");

    proxy.outageAfterFirstEvent([]);
    const seen = [];
    const err = await (async () => {
      for await (const ev of watcher.watchStatus(bot.id, { signal: deadline(), reconnectDelayMs: 10, reconnectBudgetMs: 300 })) seen.push(ev);
    })().catch((e) => e);
    assert.ok(err instanceof TypeError, `not a network error: ${err}`);
    assert.equal(seen.length, 1);
    assert.ok(proxy.refused.length >= 1, "it reconnected at least once");
    assert.ok(proxy.refused.every((r) => r === "close"));
  });

  it("throws a refusal of the first connection, as before", async () => {
    const { bots, watcher, proxy } = await throughProxy();
    const { bot } = await bots.create({ name: "Refused at once", model: "gpt-4o-mini" });
    await watchUntil(bots, bot.id, "active");

    proxy.refuseNow([503]);
    const err = await (async () => {
      for await (const ev of watcher.watchStatus(bot.id, { signal: deadline(), reconnectDelayMs: 10 })) void ev;
    })().catch((e) => e);
    assert.ok(err instanceof BotsProblem, `not a problem: ${err}`);
    assert.equal(err.status, 503);
  });
});

describe("the event stream parser", () => {
  it("reads CRLF, CR and LF lines, comments, multi-line data and ids", async () => {
    const text = ": heartbeat\r\nid: 1\r\nevent: status\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nid: 2\revent: gone\rdata: x\r\rdata\n\n";
    const bytes = new TextEncoder().encode(text);
    // Fed in two-byte chunks, so that a CRLF is split between reads.
    const body = new ReadableStream({
      start(c) {
        for (let i = 0; i < bytes.length; i += 2) c.enqueue(bytes.slice(i, i + 2));
        c.close();
      },
    });
    const events = [];
    for await (const ev of serverSentEvents(body)) events.push(ev);
    assert.deepEqual(events, [
      { event: "status", data: '{"a":\n1}', id: "1", retry: undefined },
      { event: "gone", data: "x", id: "2", retry: undefined },
      { event: "message", data: "", id: "2", retry: undefined },
    ]);
  });
});

/** A stream that passes on its source up to the first blank line, then fails as a cut connection. */
function cutAfterFirstEvent(source) {
  const reader = source.getReader();
  let text = "";
  return new ReadableStream({
    async pull(c) {
      const { done, value } = await reader.read();
      if (done) return c.close();
      text += new TextDecoder().decode(value);
      const end = text.indexOf("\n\n");
      if (end < 0) return c.enqueue(value);
      c.enqueue(new TextEncoder().encode(text.slice(0, end + 2)));
      await reader.cancel();
      c.error(new TypeError("connection reset"));
    },
  });
}
