import { Agent, get as httpGet } from "node:http";
import { describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import { sandboxSuite } from "../helpers/sandbox-http.js";

const NB = "/api/projects/1/notebooks/";

function auth(sb: Sandbox, key?: string): Record<string, string> {
  return { Authorization: `Bearer ${key ?? sb.defaultKey}` };
}

async function list(sb: Sandbox, key?: string): Promise<Response> {
  return fetch(`${sb.url}${NB}`, { headers: auth(sb, key) });
}

async function create(sb: Sandbox, body: unknown = {}): Promise<Response> {
  return fetch(`${sb.url}${NB}`, {
    method: "POST",
    headers: { ...auth(sb), "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function count(sb: Sandbox): Promise<number> {
  return ((await (await list(sb)).json()) as { count: number }).count;
}

const { start } = sandboxSuite();

describe("status faults", () => {
  it("answers the next request(s) with the status, without handling them", async () => {
    const sb = await start();
    sb.fault({ kind: "status", status: 500 });
    const r = await create(sb);
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({
      type: "server_error",
      code: "error",
      detail: "A server error occurred.",
      attr: null,
    });
    expect(await count(sb)).toBe(0);
    expect((await create(sb)).status).toBe(201);

    sb.fault({ kind: "status", status: 503, count: 2 });
    const first = await list(sb);
    expect(first.status).toBe(503);
    expect(first.headers.get("content-type")).toBe("text/html");
    expect(await first.text()).toContain("503 Service Unavailable");
    expect((await list(sb)).status).toBe(503);
    expect((await list(sb)).status).toBe(200);
  });

  it("429 gets PostHog's throttled envelope, with Retry-After only when asked", async () => {
    const sb = await start();
    sb.fault({ kind: "status", status: 429, retryAfter: 7 });
    const withHeader = await list(sb);
    expect(withHeader.status).toBe(429);
    expect(withHeader.headers.get("retry-after")).toBe("7");
    expect(await withHeader.json()).toEqual({
      type: "throttled_error",
      code: "throttled",
      detail: "Request was throttled. Expected available in 7 seconds.",
      attr: null,
    });
    sb.fault({ kind: "status", status: 429 });
    const withoutHeader = await list(sb);
    expect(withoutHeader.headers.get("retry-after")).toBeNull();
    expect(((await withoutHeader.json()) as { code: string }).code).toBe("throttled");
  });

  it("uses a custom body when given, and queues faults in order", async () => {
    const sb = await start();
    sb.fault({ kind: "status", status: 502, body: '{"custom":true}' });
    sb.fault({ kind: "status", status: 504 });
    const custom = await list(sb);
    expect(custom.status).toBe(502);
    expect(await custom.json()).toEqual({ custom: true });
    expect((await list(sb)).status).toBe(504);
    expect((await list(sb)).status).toBe(200);
  });

  it("clearFaults drops everything queued", async () => {
    const sb = await start();
    sb.fault({ kind: "status", status: 500, count: 5 });
    sb.clearFaults();
    expect((await list(sb)).status).toBe(200);
  });
});

describe("delays", () => {
  // Timing assertions use a wide gap between "delayed" and "not delayed" so load cannot flip them.
  const DELAY = 1_000;
  const timed = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };

  it("latency delays every request until cleared (count defaults to infinity)", async () => {
    const sb = await start();
    sb.fault({ kind: "latency", ms: DELAY });
    expect(await timed(() => list(sb))).toBeGreaterThanOrEqual(DELAY - 5);
    expect(await timed(() => list(sb))).toBeGreaterThanOrEqual(DELAY - 5);
    sb.clearFaults();
    expect(await timed(() => list(sb))).toBeLessThan(DELAY - 30);
  });

  it("slow-headers delays the response by ms, for count requests", async () => {
    const sb = await start();
    sb.fault({ kind: "slow-headers", ms: DELAY, count: 1 });
    expect(await timed(() => list(sb))).toBeGreaterThanOrEqual(DELAY - 5);
    expect(await timed(() => list(sb))).toBeLessThan(DELAY - 30);
  });

  it("slow-body sends the headers and part of the body, then the rest after ms", async () => {
    const sb = await start();
    await sb.seedNotebooks(3);
    sb.fault({ kind: "slow-body", ms: DELAY });
    const timings = await new Promise<{ firstChunk: number; end: number; body: string }>(
      (resolve, reject) => {
        const req = httpGet(`${sb.url}${NB}`, { headers: auth(sb) }, (res) => {
          let firstChunk = -1;
          let body = "";
          res.on("data", (c) => {
            if (firstChunk < 0) firstChunk = performance.now();
            body += c;
          });
          res.on("end", () => resolve({ firstChunk, end: performance.now(), body }));
        });
        req.on("error", reject);
      },
    );
    expect(timings.end - timings.firstChunk).toBeGreaterThanOrEqual(DELAY - 20);
    expect(JSON.parse(timings.body).count).toBe(3);
  });
});

describe("broken responses", () => {
  it("malformed: a 200 with an HTML body, not handled", async () => {
    const sb = await start();
    sb.fault({ kind: "malformed" });
    const r = await create(sb);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/html");
    await expect(r.json()).rejects.toThrow();
    expect(await count(sb)).toBe(0);
    sb.fault({ kind: "malformed", body: "<<oops>>", contentType: "application/json" });
    const custom = await list(sb);
    expect(await custom.text()).toBe("<<oops>>");
  });

  it("truncated: valid headers, half the JSON, after handling the request", async () => {
    const sb = await start();
    sb.fault({ kind: "truncated" });
    const r = await create(sb, { title: "half" });
    expect(r.status).toBe(201);
    const text = await r.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text.length).toBeGreaterThan(10);
    expect(await count(sb)).toBe(1);
  });

  it("reset: the socket is destroyed without a response, nothing handled", async () => {
    const sb = await start();
    sb.fault({ kind: "reset" });
    await expect(create(sb)).rejects.toThrow();
    expect(await count(sb)).toBe(0);
    expect(sb.requests[0]).toMatchObject({ method: "POST", status: 0 });
  });

  it("reset-mid-body: headers and part of the body, then the socket dies (the write went through)", async () => {
    const sb = await start();
    sb.fault({ kind: "reset-mid-body" });
    await expect(create(sb, { title: "lost reply" }).then((r) => r.text())).rejects.toThrow();
    expect(await count(sb)).toBe(1);
    expect(sb.requests[0]).toMatchObject({ method: "POST", status: 201 });
  });
});

describe("chunked answers", () => {
  it("chunked: the real answer, without Content-Length, after handling the request", async () => {
    const sb = await start();
    sb.fault({ kind: "chunked" });
    const r = await create(sb, { title: "streamed" });
    expect(r.status).toBe(201);
    expect(r.headers.get("content-length")).toBeNull();
    expect(r.headers.get("transfer-encoding")).toBe("chunked");
    expect(((await r.json()) as { title: string }).title).toBe("streamed");
    expect(await count(sb)).toBe(1);
  });
});

describe("recorded requests and connections", () => {
  it("records every request in order, with what was sent and the status", async () => {
    const sb = await start();
    sb.fault({ kind: "status", status: 502 });
    await fetch(`${sb.url}${NB}?limit=5&limit=7&search=a+b`, { headers: auth(sb) });
    await create(sb, { title: "recorded" });
    await fetch(`${sb.url}${NB}`, {
      method: "POST",
      headers: { ...auth(sb), "Content-Type": "text/plain" },
      body: "not json",
    });
    await fetch(`${sb.url}/api/personal_api_keys/@current/`, { headers: auth(sb) });
    await fetch(`${sb.url}${NB}`);
    expect(sb.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", NB, 502],
      ["POST", NB, 201],
      ["POST", NB, 415],
      ["GET", "/api/personal_api_keys/@current/", 200],
      ["GET", NB, 401],
    ]);
    const [first, second, third] = sb.requests;
    expect(first?.query).toEqual({ limit: "7", search: "a b" });
    expect(first?.body).toBeUndefined();
    expect(first?.headers.authorization).toBe(`Bearer ${sb.defaultKey}`);
    expect(second?.body).toEqual({ title: "recorded" });
    expect(second?.rawBody).toBe('{"title":"recorded"}');
    expect(third?.body).toBe("not json");
    expect(typeof first?.at).toBe("number");
    sb.clearRequests();
    expect(sb.requests).toEqual([]);
  });

  it("counts TCP connections: keep-alive requests share one", async () => {
    const sb = await start();
    expect(sb.connections()).toBe(0);
    const once = (agent: Agent) =>
      new Promise<number>((resolve, reject) => {
        httpGet(`${sb.url}${NB}`, { agent, headers: auth(sb) }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        }).on("error", reject);
      });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 5; i++) expect(await once(keepAlive)).toBe(200);
    expect(sb.connections()).toBe(1);
    keepAlive.destroy();
    const noKeepAlive = new Agent({ keepAlive: false });
    await once(noKeepAlive);
    await once(noKeepAlive);
    expect(sb.connections()).toBe(3);
  });
});

describe("rate limits", () => {
  it("429 after the burst, per key, counting introspection but not refused requests", async () => {
    const frozen = Date.UTC(2024, 5, 1);
    const sb = await start({
      now: () => frozen,
      rateLimit: { burstPerMinute: 4, sustainedPerHour: 100 },
      keys: [
        { value: "phx_limited" },
        { value: "phx_other" },
        { value: "phx_readonly", scopes: ["activity_log:read"] },
      ],
    });
    expect((await fetch(`${sb.url}/api/personal_api_keys/@current/`, { headers: auth(sb) })).status).toBe(
      200,
    );
    expect((await list(sb)).status).toBe(200);
    expect((await fetch(`${sb.url}${NB}nothere1/`, { headers: auth(sb) })).status).toBe(404);
    expect((await list(sb)).status).toBe(200);
    const throttled = await list(sb);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBeNull();
    expect(await throttled.json()).toEqual({
      type: "throttled_error",
      code: "throttled",
      detail: "Request was throttled. Expected available in 60 seconds.",
      attr: null,
    });
    expect((await list(sb, "phx_other")).status).toBe(200);
    // Requests refused before the throttle (403, 401) do not use the budget.
    for (let i = 0; i < 6; i++) expect((await list(sb, "phx_readonly")).status).toBe(403);
    expect(
      (await fetch(`${sb.url}/api/projects/1/activity_log/`, { headers: auth(sb, "phx_readonly") })).status,
    ).toBe(200);
  });

  it("recovers when the window slides (injected clock)", async () => {
    let now = Date.UTC(2024, 0, 1);
    const sb = await start({ rateLimit: { burstPerMinute: 2, sustainedPerHour: 100 }, now: () => now });
    expect((await list(sb)).status).toBe(200);
    now += 30_000;
    expect((await list(sb)).status).toBe(200);
    const throttled = await list(sb);
    expect(((await throttled.json()) as { detail: string }).detail).toBe(
      "Request was throttled. Expected available in 30 seconds.",
    );
    now += 30_001;
    expect((await list(sb)).status).toBe(200);
  });

  it("rateLimit: false disables throttling", async () => {
    const sb = await start({ rateLimit: false });
    const statuses = await Promise.all(Array.from({ length: 30 }, () => list(sb).then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([200]));
  });
});
