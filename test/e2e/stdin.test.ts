/**
 * The built binary fed raw bytes on stdin, as a broken or hostile client would send them: lines
 * that are not JSON, a huge line, JSON that is not JSON-RPC, wrong params, unknown methods. Each
 * gets the JSON-RPC error the spec asks for, stdout stays pure JSON-RPC, and the server keeps
 * serving. Then the ways a session ends: stdin closed, SIGTERM and SIGINT mid-call, all exit 0.
 * And at trace level, through 401s, 500s and network failures, the key appears in no output.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { assertBuilt, BIN, childEnv, ROOT } from "../helpers/binary.js";

const KEY = "phx_stdinSecretKey1111111111111111111111111111111";
let sandbox: Sandbox;

beforeAll(async () => {
  assertBuilt();
  sandbox = await startSandbox({ keys: [{ value: KEY, scopes: ["*"] }], rateLimit: false });
});
afterAll(async () => {
  await sandbox.close();
});

interface Message {
  jsonrpc?: unknown;
  id?: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
  method?: string;
}

/** The binary, spoken to line by line. */
class Raw {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #partial = "";
  #waiters: (() => void)[] = [];

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [BIN], { env, cwd: ROOT });
    this.child.stdout.on("data", (chunk: Buffer) => {
      const parts = (this.#partial + chunk.toString("utf8")).split("\n");
      this.#partial = parts.pop() ?? "";
      this.lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString("utf8");
    });
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => resolve({ code, signal }));
    });
    this.child.stdin.on("error", () => undefined); // writes after exit, in the signal tests
  }

  /** Writes one line (a string as is, anything else as JSON). */
  send(line: unknown): void {
    this.child.stdin.write(`${typeof line === "string" ? line : JSON.stringify(line)}\n`);
  }

  messages(): Message[] {
    return this.lines.map((line) => JSON.parse(line) as Message);
  }

  /** Waits until a line on stdout satisfies `match`. */
  async waitFor(match: (m: Message) => boolean, what: string, timeoutMs = 10_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages().find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no ${what} on stdout; got:\n${this.lines.join("\n").slice(0, 2000)}\nstderr:\n${this.stderr.slice(-2000)}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  response(id: number | string): Promise<Message> {
    return this.waitFor(
      (m) => m.id === id && (m.result !== undefined || m.error !== undefined),
      `response ${id}`,
    );
  }

  async initialize(): Promise<void> {
    this.send({
      jsonrpc: "2.0",
      id: "init",
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    });
    expect((await this.response("init")).result).toMatchObject({
      serverInfo: { name: "posthog-notebooks-mcp" },
    });
    this.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

const env = (extra: Record<string, string> = {}) =>
  childEnv({
    POSTHOG_PERSONAL_API_KEY: KEY,
    POSTHOG_HOST: sandbox.url,
    POSTHOG_MCP_LOG_LEVEL: "warn",
    ...extra,
  });

function expectPureJsonRpc(lines: string[]): void {
  for (const line of lines.filter((l) => l.length > 0)) {
    const message = JSON.parse(line) as Message;
    expect(message.jsonrpc, line.slice(0, 200)).toBe("2.0");
    const kinds = [message.result !== undefined, message.error !== undefined, message.method !== undefined];
    expect(kinds.filter(Boolean), line.slice(0, 200)).toHaveLength(1);
  }
}

describe("garbage on stdin", () => {
  it("gets the JSON-RPC errors the spec asks for, and the valid requests around it are served", async () => {
    const server = new Raw(env());
    try {
      server.send("hello");
      server.send("{not json");
      server.send(`${"\u0000garbage\u00ff".repeat(200_000)}`); // a 2 MB line of garbage
      server.send({ jsonrpc: "2.0", id: 5, method: "tools/call", params: "x" }); // params must be structured
      server.send({ id: 6, method: "tools/list" }); // no jsonrpc
      server.send({ jsonrpc: "1.0", id: 7, method: "ping" });
      server.send([1, 2]); // a batch: not in MCP
      server.send(42);
      server.send(null);
      server.send("");
      server.send({ jsonrpc: "2.0", id: 8, method: "no/such/method" });
      server.send({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: 5 } });
      server.send({
        jsonrpc: "2.0",
        id: 10,
        method: "tools/call",
        params: { name: "notebooks-list", arguments: "x" },
      });
      server.send({ jsonrpc: "2.0", id: 11, method: "initialize", params: {} });
      await server.initialize();
      server.send({ jsonrpc: "2.0", id: 12, method: "tools/list" });
      server.send({
        jsonrpc: "2.0",
        id: 13,
        method: "tools/call",
        params: { name: "notebooks-list", arguments: {} },
      });
      server.send({
        jsonrpc: "2.0",
        id: 14,
        method: "tools/call",
        params: { name: "notebooks-list", arguments: { short_id: "../x" } },
      });
      server.send({
        jsonrpc: "2.0",
        id: 15,
        method: "tools/call",
        params: { name: "no-such-tool", arguments: {} },
      });

      const tools = await server.response(12);
      expect(tools.result?.tools).toHaveLength(11);
      expect((await server.response(13)).result?.isError).toBeFalsy();
      // Bad arguments are results the agent reads; an unknown tool is a protocol error (MCP 2025-11-25).
      expect((await server.response(14)).result).toMatchObject({ isError: true });
      expect((await server.response(15)).error).toMatchObject({
        code: -32602,
        message: expect.stringMatching(/^Tool no-such-tool not found/),
      });

      const errors = server.messages().filter((m) => m.error);
      const parse = errors.filter((m) => m.error?.code === -32700);
      expect(parse).toHaveLength(3); // hello, {not json, the 2 MB line
      for (const m of parse) expect(m.id).toBeNull();
      const invalid = errors.filter((m) => m.error?.code === -32600);
      expect(invalid.map((m) => m.id)).toEqual([5, 6, 7, null, null, null]);
      expect((await server.response(8)).error?.code).toBe(-32601);
      expect((await server.response(9)).error).toMatchObject({
        code: -32602,
        message: expect.stringMatching(/params\.name/),
      });
      expect((await server.response(10)).error).toMatchObject({
        code: -32602,
        message: expect.stringMatching(/params\.arguments/),
      });
      expect((await server.response(11)).error?.code).toBe(-32602);
      expectPureJsonRpc(server.lines);

      server.child.stdin.end();
      const exit = await server.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(server.stderr).not.toMatch(/Error:|at .*\.js:\d+/); // no stack trace
    } finally {
      server.kill();
    }
  });

  it("a line over the 10 MB limit is refused (with its id when it can be told); nothing is sent, and serving goes on", async () => {
    const server = new Raw(env());
    try {
      await server.initialize();
      sandbox.clearRequests();
      const huge = "x".repeat(11 * 1024 * 1024);
      // The SDK's client writes the id last; others write it first.
      server.send(
        `{"method":"tools/call","params":{"name":"notebooks-create","arguments":{"title":"big","text_content":"${huge}"}},"jsonrpc":"2.0","id":21}`,
      );
      server.send(
        `{"jsonrpc":"2.0","id":"twenty-two","method":"tools/call","params":{"name":"notebooks-create","arguments":{"text_content":"${huge}"}}}`,
      );
      server.send(huge); // and plain garbage
      server.send({ jsonrpc: "2.0", id: 23, method: "ping" });
      expect((await server.response(21)).error).toMatchObject({
        code: -32600,
        message: expect.stringMatching(/over 10 MB/),
      });
      expect((await server.response("twenty-two")).error?.code).toBe(-32600);
      expect((await server.response(23)).result).toEqual({});
      const anonymous = server.messages().filter((m) => m.error?.code === -32600 && m.id === null);
      expect(anonymous).toHaveLength(1);
      expect(sandbox.requests.filter((r) => r.method === "POST")).toEqual([]);
      server.send({
        jsonrpc: "2.0",
        id: 24,
        method: "tools/call",
        params: { name: "notebooks-list", arguments: {} },
      });
      expect((await server.response(24)).result?.isError).toBeFalsy();
      expectPureJsonRpc(server.lines);
    } finally {
      server.kill();
    }
  });
});

describe("ending a session", () => {
  it("stdin closed mid-line → exit 0", async () => {
    const server = new Raw(env());
    try {
      await server.initialize();
      server.child.stdin.end('{"jsonrpc":"2.0","id":1,"meth'); // cut off
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expectPureJsonRpc(server.lines);
    } finally {
      server.kill();
    }
  });

  it("the client stops reading stdout → exit 0, no crash", async () => {
    const server = new Raw(env());
    try {
      await server.initialize();
      server.child.stdout.destroy();
      for (let i = 0; i < 20; i++) server.send({ jsonrpc: "2.0", id: 100 + i, method: "ping" });
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.stderr).not.toMatch(/EPIPE|Unhandled/);
    } finally {
      server.kill();
    }
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal} during a slow upstream call → the call is abandoned and the server exits 0 promptly`, async () => {
      const server = new Raw(env({ POSTHOG_MCP_LOG_LEVEL: "info" }));
      try {
        await server.initialize();
        server.send({ jsonrpc: "2.0", id: 2, method: "tools/list" }); // waits for the grants
        await server.response(2);
        sandbox.clearRequests();
        sandbox.fault({ kind: "latency", ms: 20_000, count: 1 });
        server.send({
          jsonrpc: "2.0",
          id: 3,
          method: "tools/call",
          params: { name: "notebooks-list", arguments: {} },
        });
        const arrived = Date.now() + 5_000;
        while (!sandbox.requests.some((r) => r.path.endsWith("/notebooks/")) && Date.now() < arrived) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(sandbox.requests.some((r) => r.path.endsWith("/notebooks/"))).toBe(true);
        const sent = Date.now();
        server.child.kill(signal);
        const exit = await server.exited;
        const took = Date.now() - sent;
        expect(exit).toEqual({ code: 0, signal: null });
        expect(took).toBeLessThan(2_500); // well before the 3 s hard stop, and the 20 s upstream delay
        expect(server.stderr).toContain(`"why":"${signal}"`);
        expectPureJsonRpc(server.lines);
      } finally {
        sandbox.clearFaults();
        server.kill();
      }
    });
  }
});

describe("the key at trace level", () => {
  const secret = (text: string, key: string) => text.includes(key) || text.includes(key.slice(4));

  it("appears in no output through 500s, resets, malformed answers, a revoked key and the next call", async () => {
    const server = new Raw(env({ POSTHOG_MCP_LOG_LEVEL: "trace" }));
    try {
      await server.initialize();
      let id = 0;
      const call = async (name: string, args: Record<string, unknown>) => {
        id++;
        server.send({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
        return (await server.response(id)).result as { isError?: boolean; content: { text: string }[] };
      };
      const list = () => call("notebooks-list", {});
      expect((await list()).isError).toBeFalsy();
      sandbox.fault({ kind: "status", status: 500, count: 1 });
      expect((await list()).content[0]?.text).toMatch(/PostHog answered 500/);
      sandbox.fault({ kind: "reset", count: 4 });
      expect((await list()).content[0]?.text).toMatch(/connection was reset/);
      sandbox.fault({ kind: "malformed", count: 4 });
      expect((await list()).content[0]?.text).toMatch(/instead of JSON/);
      // The key passed as an argument's value: refused, and not echoed.
      expect((await call("notebooks-retrieve", { short_id: KEY })).isError).toBe(true);
      expect((await call("notebooks-list", { limit: KEY })).isError).toBe(true);
      sandbox.removeKey(KEY);
      expect((await list()).content[0]?.text).toMatch(/rejected the personal API key/);
      expect((await list()).content[0]?.text).toMatch(/nothing was sent/);
      server.child.stdin.end();
      expect((await server.exited).code).toBe(0);

      expect(server.stderr).toMatch(/"level":20/); // debug lines were written
      expect(server.stderr).toMatch(/"msg":"retrying"/);
      expect(server.stderr).toMatch(/rejected the personal API key/);
      expect(secret(server.stderr, KEY)).toBe(false);
      expect(secret(server.lines.join("\n"), KEY)).toBe(false);
    } finally {
      sandbox.addKey({ value: KEY, scopes: ["*"] });
      server.kill();
    }
  });

  it("appears in no output when PostHog cannot be reached, or refuses an unknown key from the start", async () => {
    const dead = await startSandbox({ rateLimit: false });
    const closedUrl = dead.url;
    await dead.close();
    const keys = [
      "phx_unreachableKey2222222222222222222222222222222",
      "phx_unknownKey33333333333333333333333333333333333",
    ];
    const hosts = [closedUrl, sandbox.url];
    for (const [i, key] of keys.entries()) {
      const server = new Raw(
        childEnv({
          POSTHOG_PERSONAL_API_KEY: key,
          POSTHOG_HOST: hosts[i] as string,
          POSTHOG_MCP_LOG_LEVEL: "trace",
        }),
      );
      try {
        await server.initialize();
        server.send({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "notebooks-list", arguments: {} },
        });
        const result = (await server.response(1)).result as {
          isError?: boolean;
          content: { text: string }[];
        };
        expect(result.isError).toBe(true);
        expect(result.content[0]?.text).toMatch(
          i === 0 ? /Could not reach PostHog/ : /rejected the personal API key/,
        );
        server.child.stdin.end();
        expect((await server.exited).code).toBe(0);
        expect(server.stderr.length).toBeGreaterThan(0);
        expect(secret(server.stderr, key)).toBe(false);
        expect(secret(server.lines.join("\n"), key)).toBe(false);
      } finally {
        server.kill();
      }
    }
  });
});
