/**
 * Long request bodies, through the built server over HTTP: read in a conversion worker (its log
 * says so), and answered as one read on the server's thread would be: a long create written as
 * sent, a long body that is not JSON a parse error, one nested past the bound -32600 saying so,
 * nothing sent upstream for either.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { childEnv } from "../helpers/binary.js";
import { type HttpServer, startHttpServer } from "../helpers/http-server.js";
import { rawPost } from "../helpers/raw-post.js";

const KEY = "phx_e2eHttpWorkersKey000000000000000000000000000";
let sandbox: Sandbox;
let server: HttpServer;

beforeAll(async () => {
  sandbox = await startSandbox({ keys: [{ value: KEY, scopes: ["*"] }], rateLimit: false });
  server = await startHttpServer(
    ["--stateless"],
    childEnv({ POSTHOG_HOST: sandbox.url, POSTHOG_MCP_LOG_LEVEL: "debug" }),
  );
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
});

const post = (body: string) => rawPost(server.url, KEY, body);

it("reads a long body in a worker, and answers it as the server's thread would", async () => {
  const markdown = `# Read elsewhere\n\n${"Words enough to pass the threshold. ".repeat(5_000)}`.trim();
  const call = {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "notebooks-create", arguments: { title: "Read elsewhere", markdown } },
  };
  const created = await post(JSON.stringify(call));
  const result = created.answer.result as { isError?: boolean; structuredContent: { short_id: string } };
  expect(result.isError, JSON.stringify(created.answer).slice(0, 300)).toBeFalsy();
  expect(sandbox.getNotebook(result.structuredContent.short_id)?.text_content).toContain(
    "Words enough to pass the threshold.",
  );
  expect(server.stderr()).toMatch(/"msg":"read a request body in a worker thread"/);

  const sent = sandbox.requests.length;
  const broken = await post(`${JSON.stringify(call).slice(0, -1)},`);
  expect(broken.status).toBe(400);
  expect(broken.answer).toMatchObject({ id: null, error: { code: -32700 } });
  const deep = await post(
    `{"jsonrpc":"2.0","id":2,"method":"ping","params":{"x":${"[".repeat(70_000)}${"]".repeat(70_000)}}}`,
  );
  expect(deep.status).toBe(400);
  expect(deep.answer.error?.message).toMatch(
    /^Invalid Request: the message nests more than 1000 levels deep/,
  );
  expect(sandbox.requests.slice(sent)).toEqual([]);
  // The server is fine after both.
  const ping = await post(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping" }));
  expect(ping.answer).toEqual({ jsonrpc: "2.0", id: 3, result: {} });
}, 60_000);
