/**
 * Streamable HTTP mode as a team uses it: the built server (`node dist/index.js --http --port 0`,
 * PostHog mode) with POSTHOG_HOST at an in-process sandbox, and several keys, clients and
 * processes at once.
 *
 * - Two keys at the same time, of different scopes and projects: each session gets its own tools,
 *   its own project's notebooks and its own errors.
 * - Two `--stateless` processes behind a proxy that alternates between them: every call answered.
 * - SIGTERM while a call waits on PostHog: the call is answered, then the process exits 0.
 * - Host, body size and /healthz at the HTTP level.
 */
import { createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OPERATIONS } from "../../src/operations/index.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { childEnv } from "../helpers/binary.js";
import { connectHttp, type HttpServer, startHttpServer } from "../helpers/http-server.js";

/** Every scope, limited to project 1. */
const KEY_A = "phx_httpTeamKeyA0000000000000000000000000000001";
/** Every scope, limited to project 1: with KEY_A, the keys whose uploads fill the reading budget. */
const UPLOADERS = ["C", "D", "E"].map((name) =>
  `phx_httpTeamKey${name}${"0".repeat(30)}00${name}`.slice(0, 47),
);
/** notebook:read only, limited to project 2. */
const KEY_B = "phx_httpTeamKeyB0000000000000000000000000000002";
const ALL_TOOLS = OPERATIONS.map((o) => o.name).sort();
const READ_TOOLS = OPERATIONS.filter((o) => o.scope === "notebook:read")
  .map((o) => o.name)
  .sort();
const WRITE_TOOLS = OPERATIONS.filter((o) => o.writes).map((o) => o.name);

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

let sandbox: Sandbox;
let server: HttpServer;
const started: HttpServer[] = [];

/** Another server process on the same sandbox, stopped after the tests. */
async function spawnServer(args: string[] = []): Promise<HttpServer> {
  const s = await startHttpServer(args, childEnv({ POSTHOG_HOST: sandbox.url }));
  started.push(s);
  return s;
}

beforeAll(async () => {
  sandbox = await startSandbox({
    keys: [
      { value: KEY_A, scopes: ["*"], scoped_teams: [1] },
      { value: KEY_B, scopes: ["notebook:read"], scoped_teams: [2] },
      ...UPLOADERS.map((value) => ({ value, scopes: ["*"], scoped_teams: [1] })),
    ],
    rateLimit: false,
  });
  sandbox.insertNotebook({ projectId: 1, title: "Alpha plan, project one" });
  sandbox.insertNotebook({ projectId: 2, title: "Beta review, project two" });
  server = await spawnServer();
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop("SIGKILL")));
  await sandbox?.close();
});

const text = (result: unknown) => JSON.stringify(result);

async function listNotebooks(client: Client, projectId: number) {
  return client.callTool({ name: "notebooks-list", arguments: { project_id: projectId } });
}

describe("two keys at the same time on one server", () => {
  it("gives each session its key's tools, its project's notebooks and its own errors", async () => {
    const [a, b] = await Promise.all([
      connectHttp(server.url, bearer(KEY_A), "team-a"),
      connectHttp(server.url, bearer(KEY_B), "team-b"),
    ]);
    const logs: Record<"a" | "b", string[]> = { a: [], b: [] };
    for (const [name, session] of [
      ["a", a],
      ["b", b],
    ] as const) {
      session.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        logs[name].push(text(n.params));
      });
    }
    try {
      await Promise.all([a.client.setLoggingLevel("debug"), b.client.setLoggingLevel("debug")]);

      const [toolsA, toolsB] = await Promise.all([a.client.listTools(), b.client.listTools()]);
      expect(toolsA.tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS);
      expect(toolsB.tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
      expect(toolsB.tools.filter((t) => WRITE_TOOLS.includes(t.name))).toEqual([]);

      // Each sees its own project's notebooks, at the same time.
      const [listA, listB] = await Promise.all([listNotebooks(a.client, 1), listNotebooks(b.client, 2)]);
      expect(listA.isError, text(listA.content)).toBeFalsy();
      expect(listB.isError, text(listB.content)).toBeFalsy();
      expect(text(listA.structuredContent)).toContain("Alpha plan, project one");
      expect(text(listA.structuredContent)).not.toContain("Beta review");
      expect(text(listB.structuredContent)).toContain("Beta review, project two");
      expect(text(listB.structuredContent)).not.toContain("Alpha plan");

      // B errs (another project, a tool it does not have, a notebook PostHog does not have) while A
      // works and errs on its own, at the same time: each gets its own answers.
      const [wrongProject, okA, writeB, missingB, missingA] = await Promise.all([
        listNotebooks(b.client, 1),
        listNotebooks(a.client, 1),
        b.client
          .callTool({ name: "notebooks-create", arguments: { markdown: "# From B" } })
          .catch((error: Error) => ({ isError: true, content: [{ type: "text", text: error.message }] })),
        // PostHog answers 404: logged ("tool call failed"), and sent to B's session only.
        b.client.callTool({
          name: "notebooks-retrieve",
          arguments: { short_id: "missingB0", project_id: 2 },
        }),
        a.client.callTool({
          name: "notebooks-retrieve",
          arguments: { short_id: "missingA0", project_id: 1 },
        }),
      ]);
      expect(wrongProject.isError).toBe(true);
      expect(text(wrongProject.content)).toMatch(/project/i);
      expect(writeB.isError).toBe(true);
      expect(missingB.isError).toBe(true);
      expect(text(missingB.content)).toContain("missingB0");
      expect(text(missingA.content)).toContain("missingA0");
      expect(text(missingA.content)).not.toContain("missingB0");
      expect(text(missingB.content)).not.toContain("missingA0");
      expect(okA.isError, text(okA.content)).toBeFalsy();
      expect(text(okA.structuredContent)).toContain("Alpha plan, project one");
      // A can write in its project; the notebook is not B's to see.
      const created = await a.client.callTool({
        name: "notebooks-create",
        arguments: { markdown: "# Gamma, written by A" },
      });
      expect(created.isError, text(created.content)).toBeFalsy();
      const [afterA, afterB] = await Promise.all([listNotebooks(a.client, 1), listNotebooks(b.client, 2)]);
      expect(text(afterA.structuredContent)).toContain("Gamma, written by A");
      expect(text(afterB.structuredContent)).not.toContain("Gamma");
      expect(afterB.isError, text(afterB.content)).toBeFalsy();

      // A session answers only the key that opened it: B cannot use A's session id.
      const sessionA = a.transport.sessionId;
      expect(sessionA).toBeTruthy();
      const hijack = await raw(server.url, {
        method: "POST",
        headers: {
          ...POST_HEADERS,
          ...bearer(KEY_B),
          "mcp-session-id": sessionA ?? "",
          "mcp-protocol-version": "2025-11-25",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 99, method: "tools/list" }),
      });
      expect(hijack.status).toBe(404);
      expect(hijack.body).not.toContain("notebooks-create");

      // Still the same tools after B's refusals: nothing of B's reached A's session.
      expect((await a.client.listTools()).tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS);
      expect((await b.client.listTools()).tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
      // Each session heard about its own failed call (the log line, "tool call failed"), and only that one.
      const failures = (lines: string[]) => lines.filter((line) => line.includes("tool call failed"));
      await vi.waitFor(() => expect(failures(logs.a).length * failures(logs.b).length).toBeGreaterThan(0), {
        timeout: 30_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(failures(logs.a)).toHaveLength(1);
      expect(failures(logs.b)).toHaveLength(1);
      expect(logs.a.join("\n")).not.toContain(KEY_B.slice(-4));
      expect(logs.b.join("\n")).not.toContain(KEY_A.slice(-4));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    // The sandbox saw each key, each only on its own project (A's default, @current, is project 1;
    // B's one request for project 1 was refused before anything was sent).
    const projects = (key: string) =>
      sandbox.requests
        .filter((r) => r.headers.authorization === `Bearer ${key}` && r.path.startsWith("/api/projects/"))
        .map((r) => r.path.split("/")[3]);
    expect(new Set(projects(KEY_A))).toEqual(new Set(["1", "@current"]));
    expect(new Set(projects(KEY_B))).toEqual(new Set(["2"]));
  });
});

/** A loopback HTTP proxy that sends each request to the next port in turn. */
async function alternatingProxy(ports: number[]) {
  let next = 0;
  const counts = ports.map(() => 0);
  const proxy = createServer((req, res) => {
    const index = next++ % ports.length;
    counts[index] = (counts[index] ?? 0) + 1;
    const upstream = request(
      { host: "127.0.0.1", port: ports[index], method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${error.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

describe("--stateless behind a load balancer", () => {
  it("answers every call when consecutive requests go to different processes", async () => {
    const [one, two] = await Promise.all([spawnServer(["--stateless"]), spawnServer(["--stateless"])]);
    const proxy = await alternatingProxy([one.port, two.port]);
    const { client, close } = await connectHttp(proxy.url, bearer(KEY_A), "balanced");
    try {
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS);
      const created = await client.callTool({
        name: "notebooks-create",
        arguments: { markdown: "# Balanced\n\nWritten through the proxy." },
      });
      expect(created.isError, text(created.content)).toBeFalsy();
      const shortId = (created.structuredContent as { short_id?: string } | undefined)?.short_id;
      expect(shortId).toMatch(/^\w+$/);
      for (let i = 0; i < 6; i++) {
        const call =
          i % 2 === 0
            ? await listNotebooks(client, 1)
            : await client.callTool({ name: "notebooks-retrieve", arguments: { short_id: shortId } });
        expect(call.isError, text(call.content)).toBeFalsy();
        expect(text(call.structuredContent)).toContain("Balanced");
      }
      expect(await client.ping()).toEqual({});
    } finally {
      await close();
      await proxy.close();
    }
    // Both processes answered requests of this one client.
    expect(proxy.counts[0]).toBeGreaterThanOrEqual(5);
    expect(proxy.counts[1]).toBeGreaterThanOrEqual(5);
    // No sessions, so no stream to open and none to end.
    for (const method of ["GET", "DELETE"]) {
      const answer = await raw(one.url, {
        method,
        headers: { accept: "text/event-stream", ...bearer(KEY_A) },
      });
      expect(answer.status, `${method} on --stateless`).toBe(405);
    }
    expect(await Promise.all([one.stop(), two.stop()])).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  });
});

describe("SIGTERM", () => {
  it("answers the call in flight, then exits 0", async () => {
    const own = await spawnServer();
    const { client } = await connectHttp(own.url, bearer(KEY_A), "draining");
    await client.listTools(); // the key's grants are read: the next upstream request is the call's
    sandbox.fault({ kind: "latency", ms: 5_000, count: 1 });
    const before = sandbox.requests.length;
    const startedAt = Date.now();
    const inFlight = listNotebooks(client, 1);
    // The call has reached "PostHog", which holds it for 5 s.
    await vi.waitFor(() => expect(sandbox.requests.length).toBeGreaterThan(before), { timeout: 10_000 });
    const exit = own.stop("SIGTERM", 15_000);
    // Draining, the call still open: a load balancer's probe reads 503, and a new request is told
    // to come back.
    let health = await raw(new URL("/healthz", own.url).href);
    await vi.waitFor(
      async () => {
        health = await raw(new URL("/healthz", own.url).href);
        expect(health.status).toBe(503);
      },
      { timeout: 4_000, interval: 20 },
    );
    expect(JSON.parse(health.body)).toMatchObject({ status: "draining" });
    const late = await raw(own.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: "{}",
    });
    expect(late.status).toBe(503);
    expect(late.headers["retry-after"]).toBe("1");
    const answer = await inFlight;
    expect(answer.isError, text(answer.content)).toBeFalsy();
    expect(text(answer.structuredContent)).toContain("Alpha plan, project one");
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1400);
    expect(await exit, own.stderr()).toEqual({ code: 0, signal: null });
    await client.close();
  });
});

/** A raw HTTP request (node:http sends the Host header it is given, unlike fetch). */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * POSTs `total` bytes, 64 KiB at a time, and stops sending as soon as the server answers. With
 * `declare`, Content-Length announces the size and nothing is sent until the server has had a
 * moment to answer from the headers alone.
 */
function oversized(url: string, total: number, declare: boolean): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...POST_HEADERS };
    if (declare) headers["content-length"] = String(total);
    const req = request(url, { method: "POST", headers });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      res.resume();
      res.on("end", () => req.destroy());
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on("error", (error) => {
      if (!answered) reject(new Error(`no answer before the connection failed: ${error.message}`));
    });
    const chunk = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    const pump = () => {
      while (!answered && !req.destroyed && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered && !req.destroyed) req.end();
    };
    if (declare) {
      req.flushHeaders();
      setTimeout(pump, 1_000);
    } else pump();
  });
}

/**
 * A POST of `key` announcing `size + 1` bytes and sending `size`: the server reads it and waits for
 * the last byte, which never comes. `answered`: the server's answer, if it gives one.
 */
function unfinishedUpload(url: string, key: string, size: number) {
  const req = request(url, {
    method: "POST",
    headers: { ...POST_HEADERS, ...bearer(key), "content-length": String(size + 1) },
  });
  req.on("error", () => undefined);
  const answered = new Promise<{ status: number; body: string }>((resolve) => {
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
  req.write(Buffer.alloc(size, "a"));
  return { answered, stop: () => req.destroy() };
}

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});
const POST_HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  ...bearer(KEY_A),
};

describe("HTTP-level protections", () => {
  it("refuses a Host that is not loopback with 403", async () => {
    const answer = await raw(server.url, {
      method: "POST",
      headers: { ...POST_HEADERS, host: "evil.example.com" },
      body: INITIALIZE,
    });
    expect(answer.status).toBe(403);
  });

  it("answers a key PostHog rejects with 401 and WWW-Authenticate", async () => {
    const answer = await raw(server.url, {
      method: "POST",
      headers: { ...POST_HEADERS, ...bearer("phx_notAKeyTheSandboxKnows00000000000000000000000") },
      body: INITIALIZE,
    });
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toMatch(/^Bearer\b/);
  });

  it("keeps nothing of keys PostHog rejects: made-up keys leave no client behind", async () => {
    const health = async () =>
      JSON.parse((await raw(new URL("/healthz", server.url).href)).body).keys as number;
    const before = await health();
    for (let i = 0; i < 5; i++) {
      const answer = await raw(server.url, {
        method: "POST",
        headers: { ...POST_HEADERS, ...bearer(`phx_madeUpKey${String(i).padStart(34, "0")}`) },
        body: INITIALIZE,
      });
      expect(answer.status).toBe(401);
    }
    expect(await health()).toBe(before);
  });

  it("refuses a cross-site Origin with 403", async () => {
    const answer = await raw(server.url, {
      method: "POST",
      headers: { ...POST_HEADERS, origin: "http://evil.example.com" },
      body: INITIALIZE,
    });
    expect(answer.status).toBe(403);
  });

  it.for([
    { how: "declared in Content-Length", declare: true },
    { how: "chunked, no Content-Length", declare: false },
  ])("answers a body over the cap (4 MiB) with 413 ($how)", async ({ declare }) => {
    const answer = await oversized(server.url, 4 * 1024 * 1024 + 64 * 1024, declare);
    expect(answer.status).toBe(413);
  });

  /** Once the server has let go of every unfinished upload stopped (their sockets closed). */
  const readingDrained = () =>
    vi.waitFor(
      async () => {
        const health = JSON.parse((await raw(new URL("/healthz", server.url).href)).body) as {
          readingBytes: number;
        };
        expect(health.readingBytes).toBe(0);
      },
      { timeout: 30_000, interval: 20 },
    );

  /** The status another key's initialize gets while the uploads above are going on. */
  const anotherKeyStatus = async () =>
    (
      await raw(server.url, {
        method: "POST",
        headers: { ...POST_HEADERS, ...bearer(KEY_B) },
        body: INITIALIZE,
      })
    ).status;

  it("one key's unfinished uploads hold at most 16 MiB of the reading budget: other keys are served", async () => {
    // Sixteen such uploads of one key held all 64 MiB: every other key's calls got 503, renewed
    // every 30 s. Now its fifth is refused, alone, and another key's request is read.
    const uploads = Array.from({ length: 5 }, () => unfinishedUpload(server.url, KEY_A, 4 * 1024 * 1024 - 1));
    try {
      const first = await Promise.race(uploads.map((upload) => upload.answered));
      expect(first.status).toBe(503);
      expect(first.body).toContain("This key's requests are sending more than 16 MiB of bodies at once");
      expect(await anotherKeyStatus()).toBe(200);
    } finally {
      for (const upload of uploads) upload.stop();
      await readingDrained();
    }
  });

  it("keys whose unfinished uploads fill the whole reading budget give way to another key's request", async () => {
    // Four keys, four unfinished uploads each, held all 64 MiB: every other key's requests got
    // 503 for as long as they went on. Now the most stalled upload of the key holding the most
    // is stopped, saying why, and the other key's request is read.
    const keys = [KEY_A, ...UPLOADERS];
    // Each key's first request is checked with PostHog: checked before its uploads start.
    for (const key of keys) {
      const answer = await raw(server.url, {
        method: "POST",
        headers: { ...POST_HEADERS, ...bearer(key) },
        body: INITIALIZE,
      });
      expect(answer.status, answer.body).toBe(200);
    }
    const size = 4 * 1024 * 1024 - 1;
    const uploads = keys.flatMap((key) =>
      Array.from({ length: 4 }, () => unfinishedUpload(server.url, key, size)),
    );
    try {
      await vi.waitFor(
        async () => {
          const health = JSON.parse((await raw(new URL("/healthz", server.url).href)).body) as {
            readingBytes: number;
          };
          expect(health.readingBytes).toBe(16 * size);
        },
        { timeout: 60_000, interval: 50 },
      );
      expect(await anotherKeyStatus()).toBe(200);
      const stopped = await Promise.race(uploads.map((upload) => upload.answered));
      expect(stopped.status).toBe(503);
      expect(stopped.body).toContain(
        "needed the room this key's unfinished request bodies held for other keys' requests",
      );
    } finally {
      for (const upload of uploads) upload.stop();
      await readingDrained();
    }
  });

  it("reads nothing of a body before its key is accepted: made-up keys' slow uploads are refused at once", async () => {
    // Sixty-four unfinished 64 KiB uploads of made-up keys held the 4 MiB kept for keys not yet
    // accepted: every new key (or one idle for five minutes) got 503 while they went on.
    const uploads = Array.from({ length: 64 }, (_, i) =>
      unfinishedUpload(server.url, `phx_madeUpSlowUpload${String(i).padStart(28, "0")}`, 64 * 1024 - 1),
    );
    try {
      const answers = await Promise.all(uploads.map((upload) => upload.answered));
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 401));
      expect(await anotherKeyStatus()).toBe(200);
    } finally {
      for (const upload of uploads) upload.stop();
      await readingDrained();
    }
  });

  it("answers GET /healthz with 200 JSON", async () => {
    const answer = await raw(new URL("/healthz", server.url).href);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(() => JSON.parse(answer.body)).not.toThrow();
  });
});
