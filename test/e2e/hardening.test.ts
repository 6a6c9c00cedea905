/**
 * The built binary as clients and people start it: bad keys are bad configuration (one line, exit
 * 2, nothing sent), and requests piped in before stdin closes are all answered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { assertBuilt, childEnv, run } from "../helpers/binary.js";

let sandbox: Sandbox;
beforeAll(async () => {
  assertBuilt();
  sandbox = await startSandbox({ rateLimit: false, seed: true });
});
afterAll(async () => {
  await sandbox.close();
});

describe("keys that cannot work", () => {
  for (const [what, key] of [
    ["the README's placeholder", "phx_your_personal_api_key"],
    ["a placeholder with an ellipsis", "phx_…"],
    ["a project key", "phc_abcdefghijklmnopqrstuvwxyz0123456789"],
    ["a key in quotes", '"phx_abcdefghijklmnopqrstuvwxyz0123456789"'],
  ] as const) {
    it(`${what}: one line, exit 2, nothing sent`, async () => {
      sandbox.clearRequests();
      const exit = await run(
        [],
        childEnv({ POSTHOG_PERSONAL_API_KEY: key, POSTHOG_HOST: sandbox.url }),
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n',
      );
      expect(exit.code).toBe(2);
      expect(exit.stdout).toBe("");
      expect(exit.stderr.trim().split("\n")).toHaveLength(1);
      expect(exit.stderr).toMatch(/POSTHOG_PERSONAL_API_KEY/);
      expect(sandbox.requests).toEqual([]);
    });
  }
});

describe("requests piped in, then stdin closed", () => {
  it("answers every request already received before exiting", async () => {
    const requests = [
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-11-25",
          capabilities: {},
          clientInfo: { name: "cat", version: "1" },
        },
      },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "notebooks-list", arguments: { limit: 2 } },
      },
      { jsonrpc: "2.0", id: 4, method: "resources/list" },
      { jsonrpc: "2.0", id: 5, method: "ping" },
      {
        jsonrpc: "2.0",
        id: 6,
        method: "tools/call",
        params: { name: "notebooks-list", arguments: { limit: "x" } },
      },
      // A task field, from a client that assumes tasks: processed as a plain call (the server declares none).
      {
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "notebooks-list", arguments: { limit: 1 }, task: { ttl: 1_000 } },
      },
    ];
    const exit = await run(
      ["--sandbox"],
      childEnv(),
      `${requests.map((r) => JSON.stringify(r)).join("\n")}\n`,
    );
    expect(exit.code).toBe(0);
    const answers = exit.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id?: number; result?: Record<string, unknown>; error?: unknown });
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const byId = new Map(answers.map((a) => [a.id, a]));
    expect(byId.get(3)?.result?.isError).toBeFalsy();
    expect(byId.get(6)?.result?.isError).toBe(true);
    expect(byId.get(7)?.error).toBeUndefined();
    expect(byId.get(7)?.result).toMatchObject({ structuredContent: { count: expect.any(Number) } });
    expect(byId.get(7)?.result).not.toHaveProperty("task");
    expect(byId.get(2)?.result?.tools).toHaveLength(11);
  });
});
