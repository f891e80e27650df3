// Webhooks through the SDK, against a real `bots serve` whose webhooks may reach a receiver of
// the test's on 127.0.0.1 over http: register, list, read, change with a 412 between, delete
// with a stale ETag, rotate; a create whose answer was lost, replayed by its key; a
// redelivery and its refusals; and verifyWebhook, on the Standard Webhooks test vector and on
// real deliveries.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { BotsProblem, createBotsClient, verifyWebhook, WebhookVerificationError } from "../dist/index.js";
import { startBots } from "./server.mjs";

let server;
before(async () => {
  server = await startBots({
    env: { WRITE_RATE: "0", LIST_RATE: "0", INFLIGHT_PER_USER: "0", WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOW_PRIVATE: "true" },
  });
});
after(async () => {
  await server?.stop();
});

/** A client for a new user; `sent` records the requests it sends. */
async function newClient() {
  const token = await server.token();
  const sent = [];
  const recording = (input, init) => {
    const req = new Request(input, init);
    sent.push(req);
    return fetch(req);
  };
  return { bots: createBotsClient({ baseUrl: server.url, token, fetch: recording }), sent };
}

/** Rejects with the BotsProblem a call throws, or fails when it succeeds. */
async function problemOf(promise) {
  const err = await promise.then(
    () => assert.fail("the call succeeded"),
    (e) => e,
  );
  assert.ok(err instanceof BotsProblem, `not a problem: ${err}`);
  return err;
}

/**
 * A receiver on 127.0.0.1 that records each delivery and answers 204, once the promise `hold`
 * returns (if any) settles; `next(n)` waits for the n-th delivery.
 */
async function startReceiver(hold = () => undefined) {
  const received = [];
  let arrived = () => {};
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      arrived();
      await hold();
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const next = async (n) => {
    while (received.length < n) await new Promise((resolve) => (arrived = resolve));
    return received[n - 1];
  };
  return { receiver, url: `http://127.0.0.1:${receiver.address().port}/hooks`, received, next };
}

describe("webhooks", () => {
  it("are registered with their secret once, listed, read, changed, rotated and deleted", async () => {
    const { bots, sent } = await newClient();
    const created = await bots.createWebhook({ url: "https://hooks.example.com/a", events: ["bot.created"], description: "Pager" });
    assert.match(created.webhook.secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/);
    assert.match(created.etag, /^"\d+"$/);
    assert.equal(created.webhook.enabled, true, "enabled by default");
    assert.match(sent.at(-1).headers.get("Idempotency-Key"), /^[0-9a-f-]{36}$/);
    const second = await bots.createWebhook({ url: "https://hooks.example.com/b", events: ["*"], enabled: false });

    const listed = [];
    for await (const w of bots.webhooks()) listed.push(w);
    assert.deepEqual(listed.map((w) => w.id), [created.webhook.id, second.webhook.id], "oldest first");
    assert.ok(listed.every((w) => !("secret" in w)), "no secret in a list");

    const got = await bots.getWebhook(created.webhook.id);
    assert.equal(got.etag, created.etag);
    assert.equal(got.webhook.description, "Pager");
    assert.ok(!("secret" in got.webhook), "the secret is shown only once");

    // A change made between updateWebhook's read and its write is a 412: it reads again and
    // asks for the change again, so neither write is lost.
    let calls = 0;
    const updated = await bots.updateWebhook(created.webhook.id, async (w) => {
      calls++;
      if (calls === 1) await bots.updateWebhook(w.id, () => ({ url: "https://hooks.example.com/moved" }));
      return { events: [...w.events, "bot.deleted"], description: null };
    });
    assert.equal(calls, 2);
    assert.equal(updated.webhook.url, "https://hooks.example.com/moved");
    assert.deepEqual(updated.webhook.events, ["bot.created", "bot.deleted"]);
    assert.equal(updated.webhook.description, null);

    const stale = await problemOf(bots.deleteWebhook(created.webhook.id, created.etag));
    assert.equal(stale.status, 412);
    assert.equal(stale.type, "/problems/precondition-failed");
    assert.equal(stale.etag, updated.etag, "the 412 carries the current ETag");

    const rotated = await bots.rotateWebhookSecret(created.webhook.id);
    assert.match(rotated.webhook.secret, /^whsec_/);
    assert.notEqual(rotated.webhook.secret, created.webhook.secret);

    await bots.deleteWebhook(created.webhook.id, rotated.etag);
    await bots.deleteWebhook(second.webhook.id);
    const gone = await problemOf(bots.getWebhook(created.webhook.id));
    assert.equal(gone.status, 404);
  });

  it("turns a refused field and another user's webhook into problems", async () => {
    const { bots } = await newClient();
    const invalid = await problemOf(bots.createWebhook({ url: "https://hooks.example.com/a", events: ["bot.renamed"] }));
    assert.equal(invalid.status, 422);
    const { webhook } = await bots.createWebhook({ url: "https://hooks.example.com/a", events: ["*"] });
    const { bots: other } = await newClient();
    assert.equal((await problemOf(other.getWebhook(webhook.id))).status, 404);
    const listing = other.webhookDeliveries(webhook.id).next();
    assert.equal((await problemOf(listing)).status, 404);
  });

  it("sends deliveries that verifyWebhook accepts, with either secret during a rotation", async () => {
    const { receiver, url, next } = await startReceiver();
    try {
      const { bots } = await newClient();
      const hook = await bots.createWebhook({ url, events: ["bot.created"] });

      const { bot } = await bots.create({ name: "Announced", model: "gpt-4o-mini" });
      const first = await next(1);
      await verifyWebhook(hook.webhook.secret, first.headers, first.body);
      const event = JSON.parse(first.body.toString("utf8"));
      assert.equal(event.type, "bot.created");
      assert.equal(event.bot_id, bot.id);
      assert.equal(first.headers["webhook-id"], `evt_${event.id}`);
      const other = await bots.createWebhook({ url: "https://hooks.example.com/other", events: ["bot.deleted"] });
      await assert.rejects(verifyWebhook(other.webhook.secret, first.headers, first.body), { name: "WebhookVerificationError", reason: "signature" });

      const rotated = await bots.rotateWebhookSecret(hook.webhook.id);
      await bots.create({ name: "Announced again", model: "gpt-4o-mini" });
      const second = await next(2);
      assert.equal(second.headers["webhook-signature"].split(" ").length, 2, "the new secret's signature and the old one's");
      await verifyWebhook(rotated.webhook.secret, second.headers, second.body);
      await verifyWebhook(hook.webhook.secret, second.headers, new Uint8Array(second.body));
      await verifyWebhook(hook.webhook.secret, new Headers(second.headers), second.body.toString("utf8"));

      // The attempts are recorded after the receiver answered: wait for both.
      const deadline = Date.now() + 60_000;
      let deliveries;
      do {
        deliveries = [];
        for await (const d of bots.webhookDeliveries(hook.webhook.id)) deliveries.push(d);
        if (deliveries.length === 2 && deliveries.every((d) => d.state === "delivered")) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      } while (Date.now() < deadline);
      assert.deepEqual(deliveries.map((d) => [d.state, d.attempts, d.last_status]), [
        ["delivered", 1, 204],
        ["delivered", 1, 204],
      ]);
      assert.equal(deliveries[1].event_id, event.id, "newest first");
    } finally {
      receiver.close();
    }
  });
});

describe("webhook creates and redeliveries", () => {
  it("replay a create whose answer was lost, with the same key, webhook and secret", async () => {
    const token = await server.token();
    const posts = [];
    let firstAnswer;
    // The first create reaches the server, but its answer is lost, as on a dropped connection.
    const losing = async (input, init) => {
      const req = new Request(input, init);
      if (req.method !== "POST") return fetch(req);
      posts.push(req);
      const res = await fetch(req);
      if (posts.length > 1) return res;
      firstAnswer = await res.json();
      throw new TypeError("fetch failed");
    };
    const bots = createBotsClient({ baseUrl: server.url, token, fetch: losing });
    const created = await bots.createWebhook({ url: "https://hooks.example.com/lost", events: ["*"] });
    assert.equal(posts.length, 2, "sent again after the lost answer");
    assert.match(posts[0].headers.get("Idempotency-Key"), /^[0-9a-f-]{36}$/);
    assert.equal(posts[1].headers.get("Idempotency-Key"), posts[0].headers.get("Idempotency-Key"));
    assert.equal(created.webhook.id, firstAnswer.id);
    assert.equal(created.webhook.secret, firstAnswer.secret, "the secret of the lost answer");
    const listed = [];
    for await (const w of bots.webhooks()) listed.push(w.id);
    assert.deepEqual(listed, [firstAnswer.id], "one webhook");
  });

  it("redeliver an event as the same message, and refuse a pending event, a disabled webhook and another user", async () => {
    let release; // while set, the receiver keeps its answer: the delivery stays pending
    const { receiver, url, received, next } = await startReceiver(() => release?.promise);
    try {
      const { bots } = await newClient();
      const hook = await bots.createWebhook({ url, events: ["bot.created"] });
      const healthy = (await bots.getWebhook(hook.webhook.id)).webhook;
      assert.deepEqual([healthy.failing_since, healthy.disabled_at, healthy.disabled_reason], [null, null, null]);
      await bots.create({ name: "Sent twice", model: "gpt-4o-mini" });
      const sent = await next(1);
      let first;
      for await (const d of bots.webhookDeliveries(hook.webhook.id)) first = d;
      const delivered = async (id) => {
        for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
          const d = await bots.getWebhookDelivery(hook.webhook.id, id);
          if (d.state === "delivered") return d;
        }
        assert.fail(`delivery ${id} was not delivered`);
      };
      await delivered(first.id);

      release = {};
      release.promise = new Promise((resolve) => (release.resolve = resolve));
      const queued = await bots.redeliverWebhookDelivery(hook.webhook.id, first.id);
      assert.notEqual(queued.id, first.id);
      assert.equal(queued.event_id, first.event_id);
      assert.equal(queued.state, "pending");
      const again = await next(2);
      assert.equal(again.headers["webhook-id"], sent.headers["webhook-id"], "the same message");
      assert.deepEqual(again.body, sent.body);

      // The redelivery's answer is held: the event is pending, and not queued a third time.
      const pending = await problemOf(bots.redeliverWebhookDelivery(hook.webhook.id, first.id));
      assert.equal(pending.status, 409);
      assert.equal(pending.type, "/problems/delivery-pending");
      assert.match(pending.problem.detail, /still pending/);
      release.resolve();
      release = undefined;
      assert.equal((await delivered(queued.id)).last_status, 204);

      const { bots: other } = await newClient();
      const notYours = await problemOf(other.redeliverWebhookDelivery(hook.webhook.id, first.id));
      assert.equal(notYours.status, 404);
      assert.equal((await problemOf(other.getWebhookDelivery(hook.webhook.id, first.id))).status, 404);

      await bots.updateWebhook(hook.webhook.id, () => ({ enabled: false }));
      const disabled = await problemOf(bots.redeliverWebhookDelivery(hook.webhook.id, first.id));
      assert.equal(disabled.status, 409);
      assert.equal(disabled.type, "/problems/webhook-disabled");
      assert.match(disabled.problem.detail, /enable it first/);
      assert.equal(received.length, 2, "nothing was sent a third time");
    } finally {
      release?.resolve();
      receiver.close();
    }
  });
});

describe("verifyWebhook", () => {
  // The cases the Go SDK's VerifyWebhook passes too (client/verify_test.go), so that the two
  // accept the same deliveries.
  const { cases } = JSON.parse(readFileSync(new URL("../../../client/testdata/webhook_verify.json", import.meta.url), "utf8"));

  /** The outcome of verifyWebhook as the cases name it: ok, signature, timestamp or secret. */
  const outcome = (promise) =>
    promise.then(
      () => "ok",
      (e) => {
        if (e instanceof WebhookVerificationError) return e.reason;
        if (e instanceof TypeError) return "secret";
        throw e;
      },
    );

  // Each case's headers in each form a receiver has them: fetch's Headers; Node's
  // request.headers (a repeated header's values joined by ", "); and arrays of each header's
  // values, as Node's request.headersDistinct.
  const forms = {
    "fetch Headers": (pairs) => {
      const h = new Headers();
      for (const [name, value] of pairs) h.append(name, value);
      return h;
    },
    "request.headers": (pairs) => {
      const h = {};
      for (const [name, value] of pairs) {
        const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
        h[key] = key in h ? `${h[key]}, ${value}` : value;
      }
      return h;
    },
    "request.headersDistinct": (pairs) => {
      const h = {};
      for (const [name, value] of pairs) {
        const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
        (h[key] ??= []).push(value);
      }
      return h;
    },
  };

  it("reads the cases", () => assert.ok(cases.length > 0));
  for (const c of cases) {
    it(c.name, async () => {
      const opts = { now: new Date(c.now * 1000), toleranceSeconds: c.tolerance };
      for (const [form, headers] of Object.entries(forms)) {
        for (const body of [c.body, new TextEncoder().encode(c.body)]) {
          assert.equal(await outcome(verifyWebhook(c.secret, headers(c.headers), body, opts)), c.outcome, `${form}, body as ${typeof body}`);
        }
      }
    });
  }

  it("throws a WebhookVerificationError that is an Error", () => {
    assert.ok(new WebhookVerificationError("timestamp", "x") instanceof Error);
  });
});
