// The receiver's side of webhooks: checking that a delivery is genuine, as the Standard
// Webhooks specification says, with WebCrypto, so that it runs in Node 20, browsers, and
// workers alike.

/** Standard Webhooks' tolerance of a delivery's timestamp, either way, in seconds. */
export const defaultWebhookToleranceSeconds = 300;

/**
 * Why `verifyWebhook` refused a delivery: `signature` (no webhook-id or webhook-signature
 * header, or no signature of the secret's) or `timestamp` (missing, not a number, or further
 * from now than the tolerance). Answer it with a 4xx and do not process the delivery.
 */
export class WebhookVerificationError extends Error {
  readonly reason: "signature" | "timestamp";

  constructor(reason: "signature" | "timestamp", message: string) {
    super(message);
    this.name = "WebhookVerificationError";
    this.reason = reason;
  }
}

/** The headers of a delivery: a fetch Headers, or an object such as Node's `request.headers` (names in any case). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/** Options of `verifyWebhook`. */
export interface VerifyWebhookOptions {
  /** The receiver's clock; now by default. */
  now?: Date;
  /** How far the delivery's timestamp may be from `now`, either way (0 or less: the default, 300). */
  toleranceSeconds?: number;
}

/**
 * Checks a webhook delivery as Standard Webhooks specifies, and throws a
 * WebhookVerificationError when it is not genuine: one of the signatures of
 * `webhook-signature` (`v1,` and base64) must be the HMAC-SHA256, keyed with the
 * base64-decoded part of `secret` after `whsec_`, of `{webhook-id}.{webhook-timestamp}.{body}`,
 * and the timestamp must be within the tolerance of now, so that a captured delivery cannot be
 * replayed later. WebCrypto's verify compares the signatures in constant time; versions other
 * than v1 are skipped. While a rotated secret overlaps with the new one, either verifies.
 *
 * It reads the headers by the same rules as the Go SDK's VerifyWebhook, so that the two accept
 * the same deliveries (client/testdata/webhook_verify.json holds the cases both pass): a header
 * repeated counts as its values joined by ", ", as fetch's Headers and Node's
 * `request.headers` join them, so a repeated webhook-id, webhook-timestamp or
 * webhook-signature is refused; spaces and tabs around a value are not part of it;
 * webhook-timestamp is digits only; webhook-signature's signatures are separated by spaces (one
 * or more), and each must be the padded standard base64 of the HMAC exactly; `secret` likewise,
 * after `whsec_`.
 *
 * `body` must be the request body exactly as received (bytes or the text), before any JSON
 * parsing. Deliveries can repeat: deduplicate by `webhook-id`. A `secret` that is not
 * `whsec_` and base64 is a TypeError.
 */
export async function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array | ArrayBuffer,
  opts: VerifyWebhookOptions = {},
): Promise<void> {
  const encodedKey = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  const key = fromBase64(encodedKey);
  if (key === undefined || key.length === 0) throw new TypeError("the webhook secret is not whsec_ and base64");
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (id === "" || signatures === "") {
    throw new WebhookVerificationError("signature", "the webhook-id or webhook-signature header is missing");
  }
  if (signatures.includes(", ")) {
    throw new WebhookVerificationError("signature", "the webhook-signature header is repeated");
  }
  if (!/^[0-9]+$/.test(timestamp)) {
    throw new WebhookVerificationError("timestamp", `webhook-timestamp ${JSON.stringify(timestamp)} is not a number of seconds`);
  }
  const now = (opts.now ?? new Date()).getTime() / 1000;
  const given = opts.toleranceSeconds ?? 0;
  const tolerance = given > 0 ? given : defaultWebhookToleranceSeconds;
  if (Math.abs(now - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError("timestamp", `the delivery was sent at ${timestamp}, more than ${tolerance}s from now`);
  }
  const encoder = new TextEncoder();
  const bytes = typeof body === "string" ? encoder.encode(body) : new Uint8Array(body);
  const signed = concat(encoder.encode(`${id}.${timestamp}.`), bytes);
  const hmac = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  for (const sig of signatures.split(" ")) {
    const comma = sig.indexOf(",");
    if (comma < 0 || sig.slice(0, comma) !== "v1") continue;
    const mac = fromBase64(sig.slice(comma + 1));
    if (mac !== undefined && (await crypto.subtle.verify("HMAC", hmac, mac, signed))) return;
  }
  throw new WebhookVerificationError("signature", `none of the signatures of ${id} is the secret's`);
}

/**
 * One header of a delivery, whichever form the headers have, as fetch's Headers reads it: each
 * value without the spaces and tabs around it, and the values of a repeated header joined by
 * ", "; "" when absent.
 */
function header(headers: WebhookHeaders, name: string): string {
  const v = headers instanceof Headers ? headers.get(name) : headers[Object.keys(headers).find((k) => k.toLowerCase() === name) ?? name];
  const values = v === null || v === undefined ? [] : Array.isArray(v) ? v : [v];
  return values.map((s) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "")).join(", ");
}

/** The bytes of padded standard base64, or undefined when s is not exactly that. */
function fromBase64(s: string): Uint8Array<ArrayBuffer> | undefined {
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return toBase64(out) === s ? out : undefined;
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
