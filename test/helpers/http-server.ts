/** Starts the built server in Streamable HTTP mode (`--http --port 0`) and finds where it listens. */
import { spawn } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { assertBuilt, BIN, childEnv, ROOT } from "./binary.js";

/** The log line the server writes to stderr once it listens; its `url` field is the MCP endpoint. */
export const LISTENING_MSG = "serving MCP over Streamable HTTP";

export interface HttpServer {
  /** The MCP endpoint, as logged: "http://127.0.0.1:PORT/mcp". */
  readonly url: string;
  /** "http://127.0.0.1:PORT" */
  readonly origin: string;
  readonly port: number;
  readonly pid: number;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited, with its exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM) and waits for the exit; SIGKILL after `graceMs`. */
  stop(
    signal?: NodeJS.Signals,
    graceMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `node dist/index.js --http --port 0 …args` and resolves once its "serving MCP over
 * Streamable HTTP" line is on stderr. Rejects with the stderr if it exits or says nothing in time.
 * `node`: the Node binary to run it with (this test run's by default).
 */
export function startHttpServer(
  args: string[],
  env: Record<string, string> = childEnv(),
  deadlineMs = 15_000,
  node = process.execPath,
): Promise<HttpServer> {
  assertBuilt();
  const child = spawn(node, [BIN, "--http", "--port", "0", ...args], {
    env,
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    let buffered = "";
    let found = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no "${LISTENING_MSG}" log line within ${deadlineMs} ms; stderr:\n${stderr}`));
    }, deadlineMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!found)
        reject(new Error(`the server exited (code ${code}, signal ${signal}) before listening:\n${stderr}`));
    });
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      stderr += text;
      if (found) return;
      buffered += text;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        let entry: { msg?: unknown; url?: unknown };
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        if (entry.msg !== LISTENING_MSG) continue;
        if (typeof entry.url !== "string") {
          clearTimeout(timer);
          child.kill("SIGKILL");
          reject(new Error(`the "${LISTENING_MSG}" line has no url field: ${line}`));
          return;
        }
        found = true;
        clearTimeout(timer);
        const url = new URL(entry.url);
        const stop = async (signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
          try {
            return await exited;
          } finally {
            clearTimeout(kill);
          }
        };
        resolve({
          url: entry.url,
          origin: url.origin,
          port: Number(url.port),
          pid: child.pid ?? -1,
          stderr: () => stderr,
          exited,
          stop,
        });
        return;
      }
    });
  });
}

/**
 * A real MCP client over Streamable HTTP, sending `headers` with every request (as the clients'
 * `headers` settings do). `close` ends the session (DELETE; a stateless server answers 405, which
 * the SDK accepts) and the client.
 */
export async function connectHttp(
  url: string,
  headers: Record<string, string> = {},
  name = "http-e2e",
): Promise<{ client: Client; transport: StreamableHTTPClientTransport; close(): Promise<void> }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    transport,
    async close() {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}
