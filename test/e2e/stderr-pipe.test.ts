/**
 * The built server (`--http --sandbox`) whose stderr is a pipe nobody reads for a while, as a
 * container's log pipe whose reader is behind: it goes on answering, and its lines come out once
 * the pipe is read again. (Its synchronous write threw EAGAIN once the pipe was full, and the
 * process exited with code 1 and nothing said, after about 200 sessions' lines.)
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { assertBuilt, BIN, childEnv, ROOT } from "../helpers/binary.js";

const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/** A 2025 client's initialize, its client named `name`. */
const initialize = (name: string) => ({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name, version: "1" } },
});

describe("stderr not being read", () => {
  it("the server goes on, and its lines come out when stderr is read again", async () => {
    assertBuilt();
    const child = spawn(process.execPath, [BIN, "--http", "--sandbox", "--port", "0"], {
      cwd: ROOT,
      env: childEnv({ POSTHOG_MCP_LOG_LEVEL: "debug" }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let exit: number | null | undefined;
    child.on("exit", (code) => {
      exit = code;
    });
    try {
      let text = "";
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          text += chunk.toString();
          const found = /"url":"(http:[^"]+\/mcp)"/.exec(text);
          if (!found) return;
          child.stderr.off("data", onData);
          resolve(found[1] as string);
        };
        child.stderr.on("data", onData);
        child.once("exit", () => reject(new Error(`exited: ${text}`)));
      });
      // Nobody reads stderr from here: once the stream's and the pipe's buffers are full, every
      // line the server writes waits (or, past its bound, is dropped and counted).
      child.stderr.pause();
      const post = async (body: unknown, session?: string) => {
        const response = await fetch(url, {
          method: "POST",
          headers: {
            ...HEADERS,
            ...(session ? { "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" } : {}),
          },
          body: JSON.stringify(body),
        });
        await response.text();
        expect(response.status).toBeLessThan(300);
        return response.headers.get("mcp-session-id") ?? undefined;
      };
      // Sessions opened and closed (info lines each) and pings (debug lines): well over the
      // 64 KB a pipe holds.
      for (let i = 0; i < 150; i++) {
        const session = await post(initialize(`quiet-${i}`));
        for (let p = 0; p < 5; p++) await post({ jsonrpc: "2.0", id: 2 + p, method: "ping" }, session);
        await fetch(url, {
          method: "DELETE",
          headers: { "mcp-session-id": session as string, "mcp-protocol-version": "2025-11-25" },
        });
      }
      expect(exit).toBeUndefined();
      const health = await fetch(url.replace(/\/mcp$/, "/healthz"));
      expect(health.status).toBe(200);
      // Read again: what waited comes out, whole lines of JSON, the last session's among them.
      let rest = "";
      child.stderr.on("data", (chunk: Buffer) => {
        rest += chunk.toString();
      });
      child.stderr.resume();
      await post(initialize("last"));
      await expect
        .poll(() => rest.includes('"msg":"session opened"') && rest.endsWith("\n"), { timeout: 20_000 })
        .toBe(true);
      for (const line of rest.trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
      expect(exit).toBeUndefined();
    } finally {
      child.kill("SIGKILL");
    }
  }, 120_000);
});
