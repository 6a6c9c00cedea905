/**
 * Reading a request body is work charged to its key, as conversions are (src/server/request-body.ts):
 * a key over its share of this server's processing time has its long bodies refused unread, with a
 * sentence and when to retry, nothing sent; its short requests still get the tool's own answer, and
 * other keys are not held back. (Run from the sources, bodies are read on this thread; the built
 * server reads long ones in a worker: test/e2e/http-workers.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PostHogClient } from "../../src/posthog/client.js";
import { CpuShares } from "../../src/posthog/rate-limit.js";
import type { HttpServing } from "../../src/server/http.js";
import { type SandboxUpstream, sandboxUpstream, serveOnLoopback } from "../helpers/in-process-http.js";
import { rawPost } from "../helpers/raw-post.js";

/** A share of processing time of its own, whatever the machine and the other keys (none here). */
const unshared = () => new CpuShares(Number.POSITIVE_INFINITY);

const A = "phx_accountingTenantA0123456789abcdefghijklmnop";
const B = "phx_accountingTenantB0123456789abcdefghijklmnop";

describe("reading bodies, charged to their keys", () => {
  let up: SandboxUpstream;
  let serving: HttpServing;
  const clients = new Map<string, PostHogClient>();

  beforeAll(async () => {
    up = await sandboxUpstream(
      [A, B],
      {},
      { perMinute: 480, perHour: 4_800, cpuMsPerMinute: 30_000, shares: unshared() },
    );
    const clientFor = up.base.clientFor.bind(up.base);
    up.base.clientFor = (apiKey, logger, alone) => {
      const client = clientFor(apiKey, logger, alone);
      clients.set(apiKey, client);
      return client;
    };
    serving = await serveOnLoopback(up.base, true);
  });
  afterAll(async () => {
    await serving.close();
    await up.close();
  });

  const post = (key: string, message: unknown) => rawPost(serving.url, key, JSON.stringify(message));
  const create = (id: number, markdown: string) => ({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "notebooks-create", arguments: { title: "Charged", markdown } },
  });
  // Past LONG_BODY (128 KB).
  const long = `# Long\n\n${"A paragraph of plain words. ".repeat(6_000)}`;

  it("a long body's reading is charged to its key, even where nothing else is", async () => {
    expect((await post(A, { jsonrpc: "2.0", id: 1, method: "ping" })).status).toBe(200);
    const account = clients.get(A)?.cpuAccount;
    expect(account).toBeDefined();
    const before = account?.cpuSpentMs() ?? 0;
    // A call of a tool that does not exist does no work of its own: what is charged is the reading
    // of its 300 KB.
    const unknown = {
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "no-such-tool", arguments: { note: "x".repeat(300_000) } },
    };
    const response = await post(A, unknown);
    expect(response.status).toBe(200);
    expect(response.raw).toMatch(/no-such-tool/);
    expect(response.raw.length).toBeLessThan(2_000);
    expect(account?.cpuSpentMs() ?? 0).toBeGreaterThan(before);
    expect(clients.get(B)).toBeUndefined();
  });

  it("a key over its share has its long bodies refused unread; its short calls are told by the tool; other keys go on", async () => {
    clients.get(A)?.cpuAccount?.chargeCpu(200_000);
    const sent = up.sandbox.requests.length;
    const refused = await post(A, create(3, long));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.answer.error?.code).toBe(-32000);
    expect(refused.answer.error?.message).toMatch(
      /^This key has used more than its share of this server's processing time in the last minute, so its long requests are not read for now: nothing was done\. Try again in \d+ seconds?\.$/,
    );
    expect(up.sandbox.requests.slice(sent)).toEqual([]);

    const result = (await post(A, create(4, "# Short"))).answer.result;
    expect(result?.isError).toBe(true);
    expect(result?.content?.[0]?.text).toMatch(/^This key has used \d+ s of this server's processing time/);
    expect(up.sandbox.requests.slice(sent).filter((r) => r.method !== "GET")).toEqual([]);

    const other = await post(B, create(5, long));
    const created = other.answer.result as { isError?: boolean; structuredContent: { short_id: string } };
    expect(created.isError, other.raw.slice(0, 300)).toBeFalsy();
    expect(up.sandbox.getNotebook(created.structuredContent.short_id)?.title).toBe("Charged");
  });
});
