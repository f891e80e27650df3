// A proxy of the tests' in front of `bots serve` that fails connections as a restarting server
// and its load balancer do.

import { createServer, STATUS_CODES } from "node:http";

/**
 * A proxy on 127.0.0.1 that passes requests on to `target`, and fails connections as told:
 * `outageAfterFirstEvent(steps)` lets the next status stream through up to its first event
 * and then ends it and its connection; after that each new connection takes the next step
 * ("close": closed as it opens; a status: answered with it, with `Retry-After: 1` for 429 and
 * 503), and once the steps are used up connections are closed as they open until
 * `endOutage()`.
 * `refuseNow(steps)` starts the steps at once. `refused` lists the steps taken, `streamed`
 * the `Last-Event-ID` of each stream passed on.
 */
export async function startFlakyProxy(target) {
  let steps = [];
  let down = false;
  let cutNext; // the steps of the outage that starts when the next stream is cut
  const refused = [];
  const streamed = [];
  const outage = () => steps.length > 0 || down;

  const http = createServer(async (req, res) => {
    const step = steps[0];
    if (typeof step === "number") {
      steps.shift();
      refused.push(step);
      const retry = step === 429 || step === 503 ? { "Retry-After": "1" } : {};
      const problem = { type: "about:blank", title: STATUS_CODES[step], status: step, detail: "the service is restarting" };
      res.writeHead(step, { "Content-Type": "application/problem+json", Connection: "close", ...retry }).end(JSON.stringify(problem));
      return;
    }
    const stream = new URL(req.url, target).pathname.endsWith("/status/stream");
    if (stream) streamed.push(req.headers["last-event-id"] ?? null);
    const cut = stream ? cutNext : undefined;
    if (cut) cutNext = undefined;
    const upstream = new AbortController();
    res.once("close", () => upstream.abort());
    let answer;
    try {
      const headers = {};
      for (const h of ["authorization", "accept", "last-event-id", "content-type"]) if (req.headers[h]) headers[h] = req.headers[h];
      answer = await fetch(new URL(req.url, target), { method: req.method, headers, signal: upstream.signal });
    } catch {
      res.destroy();
      return;
    }
    const pass = {};
    for (const h of ["content-type", "cache-control", "retry-after", "etag"]) if (answer.headers.has(h)) pass[h] = answer.headers.get(h);
    // A stream to cut is the connection's last answer, so that the next one opens anew.
    if (cut) pass.connection = "close";
    res.writeHead(answer.status, pass);
    res.flushHeaders();
    let text = "";
    try {
      for await (const chunk of answer.body ?? []) {
        if (!cut) {
          res.write(chunk);
          continue;
        }
        text += Buffer.from(chunk).toString();
        const end = text.indexOf("\n\n");
        if (end < 0) continue;
        // The first event, then the stream ends as a stopping server ends it, and the outage
        // starts.
        steps = cut;
        down = true;
        res.end(text.slice(0, end + 2));
        upstream.abort();
        return;
      }
      res.end();
    } catch {
      res.destroy();
    }
  });
  http.on("connection", (socket) => {
    if (!outage() || typeof steps[0] === "number") return;
    if (steps[0] === "close") steps.shift();
    refused.push("close");
    socket.destroy();
  });
  await new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${http.address().port}`,
    refused,
    streamed,
    outageAfterFirstEvent(next) {
      cutNext = [...next];
    },
    refuseNow(next) {
      steps = [...next];
    },
    endOutage() {
      down = false;
    },
    close() {
      http.closeAllConnections();
      return new Promise((resolve) => http.close(resolve));
    },
  };
}
