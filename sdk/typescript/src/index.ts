// The TypeScript SDK of the ChatSphere bot management API, for browsers and Node 20.
//
// Types come from openapi.yaml (src/schema.gen.ts, by openapi-typescript) and requests go
// through openapi-fetch: `client.api` is that typed client, for every operation. This module
// adds only what the generator cannot know: problems as errors, idempotency keys on creates,
// every page, conditional updates that survive a concurrent write, the status stream, and the
// verification of a webhook delivery's signature in a receiver.

import createFetchClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema.gen.js";

export type { components, operations, paths } from "./schema.gen.js";
export {
  defaultWebhookToleranceSeconds,
  verifyWebhook,
  WebhookVerificationError,
  type VerifyWebhookOptions,
  type WebhookHeaders,
} from "./webhook.js";

type Schemas = components["schemas"];
/** A bot as the API answers it. */
export type Bot = Schemas["BotResponse"];
/** The body of a create: `name` and `model` are required. */
export type BotCreate = Schemas["BotCreate"];
/** The fields of an update, at least one. */
export type BotUpdate = Schemas["BotUpdate"];
/** The body of a duplicate; every field is optional. */
export type BotDuplicate = Schemas["BotDuplicate"];
/** One page of bots. */
export type BotList = Schemas["BotList"];
/** One change of a bot's status, as the history and the stream carry it. */
export type StatusEvent = Schemas["StatusEvent"];
/** One change of a bot, as `GET /api/v1/bots/{bot_id}/events` lists it; `data`'s members depend on `type`. */
export type BotEvent = Schemas["BotEvent"];
/** An RFC 9457 problem document, the body of every error. */
export type Problem = Schemas["Problem"];
/** A webhook as the API answers it, without its secret. */
export type Webhook = Schemas["Webhook"];
/** A webhook with its signing secret, as its create and a rotation answer it (only then). */
export type WebhookCreated = Schemas["WebhookCreated"];
/** The body of a webhook's create: `url` and `events` are required. */
export type WebhookCreate = Schemas["WebhookCreate"];
/** The fields of a webhook's update, at least one. */
export type WebhookUpdate = Schemas["WebhookUpdate"];
/** One event to send to one webhook, and how its sending went so far. */
export type WebhookDelivery = Schemas["WebhookDelivery"];
/** The filters and sort of `GET /api/v1/bots`, without paging. */
export type ListFilters = Omit<NonNullable<operations["listBots"]["parameters"]["query"]>, "skip">;

/** The typed openapi-fetch client of the whole contract. */
export type BotsApi = Client<paths>;

/**
 * An answer that is not a success, as an Error: `problem` is the problem document the server
 * sent (or one made from the status when the body is not one), `response` the answer itself.
 */
export class BotsProblem extends Error {
  readonly problem: Problem;
  readonly response: Response | undefined;

  constructor(problem: Problem, response?: Response) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
    this.name = "BotsProblem";
    this.problem = problem;
    this.response = response;
  }

  /** The HTTP status, for example 412. */
  get status(): number {
    return this.problem.status;
  }

  /** The problem type, for example `/problems/precondition-failed`. */
  get type(): string {
    return this.problem.type;
  }

  /**
   * The resource's current ETag, as a `412` carries it; null when the answer has none: any
   * other status, and the `412` of an alias write with `If-Match` when the alias does not
   * exist (there is no current ETag to send).
   */
  get etag(): string | null {
    return this.response?.headers.get("ETag") ?? null;
  }

  /**
   * The problem of an answer whose body may or may not have been read: `body` is what
   * openapi-fetch parsed, undefined to read it from `response`.
   */
  static async from(response: Response, body?: unknown): Promise<BotsProblem> {
    if (body === undefined && !response.bodyUsed) {
      const text = await response.text();
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (isProblem(body)) return new BotsProblem(body, response);
    const detail = typeof body === "string" && body !== "" ? body : `the server answered ${response.status}`;
    return new BotsProblem({ type: "about:blank", title: response.statusText || "Error", status: response.status, detail }, response);
  }
}

function isProblem(v: unknown): v is Problem {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.type === "string" && typeof p.title === "string" && typeof p.status === "number" && typeof p.detail === "string";
}

type FetchResult<D> = { data?: D; error?: unknown; response: Response };

/**
 * Returns the data of an openapi-fetch call that succeeded (2xx), and throws its problem as a
 * BotsProblem otherwise, so that callers write the happy path and catch one error type.
 */
export async function ok<D>(call: Promise<FetchResult<D>> | FetchResult<D>): Promise<{ data: D; response: Response }> {
  const { data, error, response } = await call;
  if (!response.ok) throw await BotsProblem.from(response, error);
  return { data: data as D, response };
}

/** How a client finds the server and authenticates. */
export interface BotsClientOptions {
  /** The server's base URL, for example `http://127.0.0.1:8080` (the API is under /api/v1). */
  baseUrl: string;
  /** The bearer token, or a function that returns the current one (for tokens that expire). */
  token: string | (() => string | Promise<string>);
  /** The fetch to use; the global one by default. */
  fetch?: typeof globalThis.fetch;
  /** How many times a create, duplicate or webhook create is sent at most, with one key (default 3). */
  createAttempts?: number;
  /** How many times `update` reads and writes at most when others write between (default 5). */
  updateAttempts?: number;
}

/** Options of a create or duplicate. */
export interface CreateOptions {
  /** The Idempotency-Key; a fresh UUID by default. Reuse one only to retry the same request. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** A bot with the ETag it was read with, for a later conditional write. */
export interface Tagged<T> {
  bot: T;
  etag: string;
}

/** A webhook with the ETag it was read with, for a later conditional write or delete. */
export interface TaggedWebhook<W = Webhook> {
  webhook: W;
  etag: string;
}

/** Options of a status watch. */
export interface WatchOptions {
  /** Ends the watch. */
  signal?: AbortSignal;
  /** Resume after this event id: only later events are sent. */
  lastEventId?: number;
  /**
   * How long to wait before reconnecting after a dropped stream, in ms (default 1000; the
   * server's `retry:` wins). Each further failed reconnection waits twice as long as the one
   * before, up to `maxReconnectDelayMs`.
   */
  reconnectDelayMs?: number;
  /** The longest wait between two reconnections, in ms (default 10000). */
  maxReconnectDelayMs?: number;
  /**
   * How long after a drop the watch keeps reconnecting before it gives up, in ms (default
   * 60000): long enough for a server to restart, including the trainings it lets finish.
   */
  reconnectBudgetMs?: number;
  /** Consecutive failed reconnections before the watch gives up, even within the budget (no limit by default). */
  maxReconnects?: number;
}

/** The paths whose POST creates a bot or a webhook, and so carries an Idempotency-Key. */
const creatingPaths = new Set(["/api/v1/bots", "/api/v1/bots/{bot_id}/duplicate", "/api/v1/webhooks"]);

/**
 * A client of the API: `api` for every operation as generated, and the helpers that need
 * more than one request or a stream.
 */
export class BotsClient {
  /** The generated client, authenticated; creates (of bots and webhooks) and duplicates get an Idempotency-Key. */
  readonly api: BotsApi;
  private readonly baseUrl: string;
  private readonly token: () => Promise<string>;
  private readonly fetch: typeof globalThis.fetch;
  private readonly createAttempts: number;
  private readonly updateAttempts: number;

  constructor(opts: BotsClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    const token = opts.token;
    this.token = async () => (typeof token === "function" ? token() : token);
    // Called late, so that a fetch patched after the client was made (tests, polyfills) is used.
    this.fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.createAttempts = opts.createAttempts ?? 3;
    this.updateAttempts = opts.updateAttempts ?? 5;
    this.api = createFetchClient<paths>({ baseUrl: this.baseUrl, fetch: (req) => this.fetch(req) });
    const auth: Middleware = {
      onRequest: async ({ request, schemaPath }) => {
        request.headers.set("Authorization", `Bearer ${await this.token()}`);
        if (request.method === "POST" && creatingPaths.has(schemaPath) && !request.headers.has("Idempotency-Key")) {
          request.headers.set("Idempotency-Key", newKey());
        }
        return request;
      },
    };
    this.api.use(auth);
  }

  /**
   * Creates a bot. The request carries one Idempotency-Key on every attempt, so a create
   * retried after a dropped connection, a 429 or a 503 never makes a second bot.
   */
  async create(body: BotCreate, opts: CreateOptions = {}): Promise<Tagged<Bot>> {
    const key = opts.idempotencyKey ?? newKey();
    const { data, etag } = await this.retried(opts.signal, true, () =>
      this.api.POST("/api/v1/bots", { body, params: { header: { "Idempotency-Key": key } }, signal: opts.signal }),
    );
    return { bot: data, etag };
  }

  /** Copies a bot (the caller's or a public one), retried as `create` is. */
  async duplicate(botId: string, body: BotDuplicate = {}, opts: CreateOptions = {}): Promise<Tagged<Bot>> {
    const key = opts.idempotencyKey ?? newKey();
    const { data, etag } = await this.retried(opts.signal, true, () =>
      this.api.POST("/api/v1/bots/{bot_id}/duplicate", {
        body,
        params: { path: { bot_id: botId }, header: { "Idempotency-Key": key } },
        signal: opts.signal,
      }),
    );
    return { bot: data, etag };
  }

  /**
   * Sends a create with one Idempotency-Key, again on 429, 503 and a 409 that says the first
   * attempt with the key is still running, and, when `dropped` allows it, after a dropped
   * connection; returns the data with its ETag.
   */
  private async retried<T>(
    signal: AbortSignal | undefined,
    dropped: boolean,
    send: () => Promise<FetchResult<T>>,
  ): Promise<{ data: T; etag: string }> {
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.createAttempts;
      let res: FetchResult<T>;
      try {
        res = await send();
      } catch (err) {
        if (!dropped || last || signal?.aborted) throw err;
        await sleep(backoff(attempt), signal);
        continue;
      }
      const status = res.response.status;
      if (!last && (status === 429 || status === 503 || status === 409)) {
        // 409 here may be idempotency-key-in-use: the first attempt is still running.
        const problem = await BotsProblem.from(res.response, res.error);
        if (status !== 409 || problem.type === "/problems/idempotency-key-in-use") {
          await sleep(retryAfter(res.response) ?? backoff(attempt), signal);
          continue;
        }
        throw problem;
      }
      const { data, response } = await ok(res);
      return { data, etag: etagOf(response) };
    }
  }

  /** Reads a bot with its ETag. */
  async get(botId: string): Promise<Tagged<Bot>> {
    const { data, response } = await ok(this.api.GET("/api/v1/bots/{bot_id}", { params: { path: { bot_id: botId } } }));
    return { bot: data, etag: etagOf(response) };
  }

  /**
   * Every bot of the caller that matches the filters, page after page (`limit` per
   * request). Each page is asked for as the loop reaches it.
   */
  async *all(filters: ListFilters = {}): AsyncGenerator<Bot, void, undefined> {
    yield* pages((skip) => this.api.GET("/api/v1/bots", { params: { query: { ...filters, skip } } }));
  }

  /**
   * Changes a bot only as it was read: reads it, asks `change` for the fields to write, and
   * writes them with `If-Match`. When someone else changed the bot in between (`412`), it
   * reads again and asks `change` again, up to `updateAttempts` times, so a change is never
   * made to a bot its author has not seen.
   */
  async update(botId: string, change: (bot: Bot) => BotUpdate | Promise<BotUpdate>): Promise<Tagged<Bot>> {
    const { data, etag } = await this.conditionally(
      async () => {
        const { bot, etag } = await this.get(botId);
        return { data: bot, etag };
      },
      change,
      (body, etag) => this.api.PUT("/api/v1/bots/{bot_id}", { params: { path: { bot_id: botId }, header: { "If-Match": etag } }, body }),
    );
    return { bot: data, etag };
  }

  /**
   * The loop of `update` and `updateWebhook`: read, ask `change` for the fields to write, write
   * them with `If-Match`, and on `412` start again, up to `updateAttempts` times.
   */
  private async conditionally<T, U>(
    read: () => Promise<{ data: T; etag: string }>,
    change: (current: T) => U | Promise<U>,
    write: (body: U, etag: string) => Promise<FetchResult<T>>,
  ): Promise<{ data: T; etag: string }> {
    for (let attempt = 1; ; attempt++) {
      const current = await read();
      const body = await change(current.data);
      try {
        const { data, response } = await ok(write(body, current.etag));
        return { data, etag: etagOf(response) };
      } catch (err) {
        if (err instanceof BotsProblem && err.status === 412 && attempt < this.updateAttempts) continue;
        throw err;
      }
    }
  }

  /**
   * Registers a webhook and returns it with its secret, shown only this once. It is retried as
   * `create` is, with one Idempotency-Key: the service replays the first answer to a retry
   * with the key (the same webhook, ETag and secret, marked `Idempotent-Replayed: true`), so a
   * create whose answer was lost registers one webhook, and its secret is not lost with it.
   */
  async createWebhook(body: WebhookCreate, opts: CreateOptions = {}): Promise<TaggedWebhook<WebhookCreated>> {
    const key = opts.idempotencyKey ?? newKey();
    const { data, etag } = await this.retried(opts.signal, true, () =>
      this.api.POST("/api/v1/webhooks", { body, params: { header: { "Idempotency-Key": key } }, signal: opts.signal }),
    );
    return { webhook: data, etag };
  }

  /** Every webhook of the caller, oldest first, page after page as the loop reaches it. */
  async *webhooks(): AsyncGenerator<Webhook, void, undefined> {
    yield* pages((skip) => this.api.GET("/api/v1/webhooks", { params: { query: { skip } } }));
  }

  /** Reads one of the caller's webhooks (without its secret) with its ETag. */
  async getWebhook(webhookId: string): Promise<TaggedWebhook> {
    const { data, response } = await ok(this.api.GET("/api/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: webhookId } } }));
    return { webhook: data, etag: etagOf(response) };
  }

  /**
   * Changes a webhook only as it was read, as `update` changes a bot: reads it, asks `change`
   * for the fields to write, writes them with `If-Match`, and on `412` reads and asks again.
   */
  async updateWebhook(webhookId: string, change: (webhook: Webhook) => WebhookUpdate | Promise<WebhookUpdate>): Promise<TaggedWebhook> {
    const { data, etag } = await this.conditionally(
      async () => {
        const { webhook, etag } = await this.getWebhook(webhookId);
        return { data: webhook, etag };
      },
      change,
      (body, etag) =>
        this.api.PUT("/api/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: webhookId }, header: { "If-Match": etag } }, body }),
    );
    return { webhook: data, etag };
  }

  /**
   * Deletes a webhook and its deliveries not yet sent. With `etag` only if the webhook has not
   * changed since it was read (a `412` BotsProblem otherwise).
   */
  async deleteWebhook(webhookId: string, etag?: string): Promise<void> {
    const header = etag === undefined ? {} : { "If-Match": etag };
    await ok(this.api.DELETE("/api/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: webhookId }, header } }));
  }

  /**
   * Gives a webhook a new secret, returned only here. For 24 hours deliveries carry a
   * signature by the new secret and one by the old, and either verifies them.
   */
  async rotateWebhookSecret(webhookId: string): Promise<TaggedWebhook<WebhookCreated>> {
    const { data, response } = await ok(
      this.api.POST("/api/v1/webhooks/{webhook_id}/rotate-secret", { params: { path: { webhook_id: webhookId } } }),
    );
    return { webhook: data, etag: etagOf(response) };
  }

  /** Every delivery of one of the caller's webhooks, newest first, page after page. */
  async *webhookDeliveries(webhookId: string): AsyncGenerator<WebhookDelivery, void, undefined> {
    yield* pages((skip) =>
      this.api.GET("/api/v1/webhooks/{webhook_id}/deliveries", { params: { path: { webhook_id: webhookId }, query: { skip } } }),
    );
  }

  /** Reads one delivery of one of the caller's webhooks, for example to follow a redelivery. */
  async getWebhookDelivery(webhookId: string, deliveryId: number): Promise<WebhookDelivery> {
    const { data } = await ok(
      this.api.GET("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", {
        params: { path: { webhook_id: webhookId, delivery_id: deliveryId } },
      }),
    );
    return data;
  }

  /**
   * Queues a delivery's event again, to the same webhook with the same `webhook-id`, and
   * returns the new delivery (pending). While a delivery of the event is pending for the
   * webhook, and while the webhook is disabled, it throws a `409` BotsProblem; a delivery of
   * another webhook, or of another user's, is a `404`. It is sent once, not retried: the service keeps no
   * key for it, so a retry after a lost answer would throw `409` for a redelivery that was
   * queued, or, once that one is sent, queue the event yet again. After such an error,
   * `webhookDeliveries` shows whether a newer delivery of the same `event_id` exists.
   */
  async redeliverWebhookDelivery(webhookId: string, deliveryId: number): Promise<WebhookDelivery> {
    const { data } = await ok(
      this.api.POST("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", {
        params: { path: { webhook_id: webhookId, delivery_id: deliveryId } },
      }),
    );
    return data;
  }

  /**
   * The bot's status changes as they happen, from the status stream (Server-Sent Events, read
   * with fetch, since EventSource cannot send a bearer token). It starts with the bot's latest
   * event, resumes after a dropped connection with `Last-Event-ID` so that no change is
   * missed or repeated, and ends when the bot is deleted (the server's `gone` event), when
   * `signal` aborts, or when the loop over it stops.
   *
   * An answer to the first connection that is not a success (404, 429, 503, ...) is thrown
   * as a BotsProblem. Once the stream has opened, a drop starts an outage that the watch
   * rides out, as a server restart needs: it reconnects after `reconnectDelayMs`, then waits
   * twice as long after each failed attempt (at most `maxReconnectDelayMs`), and takes a
   * network error and a `429`, `502`, `503` or `504` answer for a failed attempt, waiting the
   * answer's `Retry-After` when it has one. It gives up `reconnectBudgetMs` after the drop
   * (or after `maxReconnects` failed attempts) by throwing the last attempt's error. Any
   * other answer to a reconnection is thrown at once, a `404` (the bot was deleted
   * meanwhile) among them. Network errors before the first connection are retried the same
   * way.
   */
  async *watchStatus(botId: string, opts: WatchOptions = {}): AsyncGenerator<StatusEvent, void, undefined> {
    const url = `${this.baseUrl}/api/v1/bots/${encodeURIComponent(botId)}/status/stream`;
    let lastId = opts.lastEventId;
    let delay = opts.reconnectDelayMs ?? 1000;
    const maxDelay = opts.maxReconnectDelayMs ?? 10_000;
    const budget = opts.reconnectBudgetMs ?? 60_000;
    const maxReconnects = opts.maxReconnects ?? Infinity;
    let opened = false;
    // The outage under way: when the stream dropped, and how many attempts failed since.
    let since = 0;
    let failures = 0;
    // One controller per watch: the caller's signal, or the loop stopping, ends the fetch.
    const stop = new AbortController();
    const onAbort = () => stop.abort(opts.signal?.reason);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    /** Counts a failed attempt and waits before the next one, or throws err when the outage has lasted too long. */
    const failed = async (err: unknown, wait?: number) => {
      if (failures++ === 0) since = performance.now();
      const left = since + budget - performance.now();
      if (failures > maxReconnects || left <= 0) throw err;
      wait ??= backoff(failures, delay, maxDelay);
      await sleep(Math.min(wait, left), stop.signal).catch(() => {});
    };
    try {
      while (!stop.signal.aborted) {
        const headers = new Headers({ Accept: "text/event-stream", Authorization: `Bearer ${await this.token()}` });
        if (lastId !== undefined) headers.set("Last-Event-ID", String(lastId));
        let res: Response;
        try {
          res = await this.fetch(url, { headers, signal: stop.signal, cache: "no-store" });
        } catch (err) {
          if (stop.signal.aborted) return;
          await failed(err);
          continue;
        }
        if (!res.ok || res.body === null) {
          const problem = await BotsProblem.from(res);
          if (!opened || !reconnectable.has(res.status)) throw problem;
          await failed(problem, retryAfter(res));
          continue;
        }
        opened = true;
        failures = 0;
        try {
          for await (const ev of serverSentEvents(res.body)) {
            if (ev.retry !== undefined) delay = ev.retry;
            if (ev.event === "gone") return;
            if (ev.event !== "status") continue;
            const event = JSON.parse(ev.data) as StatusEvent;
            lastId = ev.id !== undefined && /^\d+$/.test(ev.id) ? Number(ev.id) : event.id;
            yield event;
          }
        } catch (err) {
          if (stop.signal.aborted) return;
          if (err instanceof SyntaxError) throw err; // a data line that is not JSON: no retry mends it
          // The connection dropped mid-stream: reconnect below, after lastId.
        }
        if (stop.signal.aborted) return;
        await failed(new Error(`the status stream of bot ${botId} ended and could not be resumed`));
      }
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      stop.abort();
    }
  }
}

/** The answers to a reconnection that mean the server is restarting or busy, not that the watch must end. */
const reconnectable = new Set([429, 502, 503, 504]);

/**
 * Every item of a paged list, reading the page that starts at `skip` with `get` as the loop
 * reaches it; a page that is not a success is thrown as a BotsProblem.
 */
async function* pages<T>(
  get: (skip: number) => Promise<FetchResult<{ items: T[]; total: number }>>,
): AsyncGenerator<T, void, undefined> {
  for (let skip = 0; ; ) {
    const { data } = await ok(get(skip));
    yield* data.items;
    skip += data.items.length;
    if (data.items.length === 0 || skip >= data.total) return;
  }
}

/** A client of the server at `opts.baseUrl`. */
export function createBotsClient(opts: BotsClientOptions): BotsClient {
  return new BotsClient(opts);
}

/** One event of a Server-Sent Events stream. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/**
 * Parses a Server-Sent Events stream as the HTML standard says: lines end in CRLF, LF or CR,
 * `:` starts a comment, `data` lines join with newlines, a blank line dispatches, and an
 * event without data is dropped. It reads with a reader, not async iteration, which not
 * every browser's ReadableStream has.
 */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  let retry: number | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buf += done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buf);
        // A lone CR at the end may be the first half of a CRLF: wait for more.
        if (m === null || (m[0] === "\r" && m.index === buf.length - 1 && !done)) break;
        const line = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id, retry };
          event = "";
          data = [];
          retry = undefined;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id" && !value.includes("\0")) id = value;
        else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
      }
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

function etagOf(response: Response): string {
  const etag = response.headers.get("ETag");
  if (etag === null) throw new Error(`${response.url}: the answer carries no ETag`);
  return etag;
}

/** A random UUID; crypto.randomUUID where the page is a secure context, else from getRandomValues. */
function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The wait before the attempt after the attempt-th failed one: first, doubled each time, at most most. */
function backoff(attempt: number, first = 200, most = 5000): number {
  return Math.min(first * 2 ** (attempt - 1), most);
}

/** Retry-After in ms, when it is a number of seconds; at most a minute. */
function retryAfter(response: Response): number | undefined {
  const v = response.headers.get("Retry-After");
  return v !== null && /^\d+$/.test(v) ? Math.min(Number(v), 60) * 1000 : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
