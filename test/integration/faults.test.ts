/**
 * Fault injection: every fault mode the sandbox has, through the whole server (SDK client →
 * dispatcher → undici → sandbox over 127.0.0.1). Each case asserts what the agent is told, how
 * many times the request reached "PostHog", and that the server answers the next call. Writes are
 * checked for exactly one effect: no duplicate notebook, no double update.
 *
 * Timeouts and the retry budget are short so the file stays fast; the backoff (125–250 ms,
 * 250–500 ms, 500–1000 ms between the four attempts) is the client's own.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import pino from "pino";
import { afterEach, describe, expect, it, onTestFinished, type TestContext, vi } from "vitest";
import { PostHogClient, UpstreamError } from "../../src/posthog/client.js";
import { RateLimitExceeded, RateLimiter } from "../../src/posthog/rate-limit.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { type Harness, type HarnessOptions, startHarness, structured, textOf } from "../helpers/harness.js";
import { fencedDocument } from "../helpers/results.js";

/** Short timeouts, for the tests of timeouts: each sets a fault that only one of them can end. */
const TIMEOUTS = { connect: 500, headers: 400, body: 400 };
/** Every other test: timeouts no busy machine reaches, so that only the injected fault decides. */
const RELAXED = { connect: 10_000, headers: 10_000, body: 10_000 };
const BUDGET_MS = 5_000; // more than the 1.75 s the four attempts' backoff can take
const DOC = {
  type: "doc",
  content: [{ type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "Faults" }] }],
};

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * A harness of the test's own (tests here run concurrently), with relaxed timeouts, whose grants are
 * read before any fault is queued; closed when the test ends.
 */
async function harness(ctx: TestContext, options: HarnessOptions = {}): Promise<Harness> {
  const t = await startHarness({
    ...options,
    app: { retryBudgetMs: BUDGET_MS, ...options.app },
    config: { timeouts: RELAXED, ...options.config },
  });
  ctx.onTestFinished(() => t.close());
  await t.toolNames();
  t.mark();
  return t;
}

/** Calls a tool and checks the failure the agent reads and the attempts that reached the sandbox. */
async function fails(
  t: Harness,
  name: string,
  args: Record<string, unknown>,
  message: RegExp,
  attempts: number,
): Promise<CallToolResult> {
  t.mark();
  const result = await t.call(name, args);
  expect(result.isError, textOf(result)).toBe(true);
  expect(textOf(result)).toMatch(message);
  expect(textOf(result)).not.toContain(t.key);
  expect(result.structuredContent).toBeUndefined();
  expect(t.upstream(), "attempts that reached the sandbox").toHaveLength(attempts);
  return result;
}

/** Calls a tool and checks it succeeded after `attempts` upstream requests. */
async function succeeds(
  t: Harness,
  name: string,
  args: Record<string, unknown>,
  attempts: number,
): Promise<Record<string, unknown>> {
  t.mark();
  const result = await t.call(name, args);
  expect(result.isError, textOf(result)).toBeFalsy();
  expect(t.upstream(), "attempts that reached the sandbox").toHaveLength(attempts);
  return structured(result);
}

/** The next call after a fault: answered, and sent once. */
async function nextCallWorks(t: Harness): Promise<number> {
  const page = await succeeds(t, "notebooks-list", {}, 1);
  return page.count as number;
}

function seedNotebook(t: Harness): string {
  return t.sandbox.insertNotebook({ title: "Faults", content: DOC, text_content: "Faults" })
    .short_id as string;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

/** A pino logger that keeps what it writes, to count the client's retries where no sandbox can. */
function capturingLogger(onEntry?: (entry: Record<string, unknown>) => void) {
  const entries: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "warn" },
    {
      write(line: string) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        entries.push(entry);
        onEntry?.(entry);
      },
    },
  );
  return { logger, entries };
}

const WRITE_UNSURE = /may have .*before calling notebooks-create again/;

describe("connection refused", () => {
  it("retries reads and writes (nothing reached PostHog), says so, and serves once PostHog is back", async () => {
    const dead = await startSandbox({ rateLimit: false });
    const port = dead.port;
    await dead.close();
    let revived: Promise<Sandbox> | undefined;
    const { logger, entries } = capturingLogger((entry) => {
      // When the create's first attempt is refused, bring "PostHog" back on the same port: the
      // retry (at least 125 ms later) finds it up.
      if (entry.msg === "retrying" && entry.method === "POST" && !revived) {
        revived = startSandbox({ port, rateLimit: false });
      }
    });
    const t = await startHarness({
      upstream: dead,
      app: { logger, retryBudgetMs: BUDGET_MS },
      config: { timeouts: RELAXED },
    });
    onTestFinished(async () => {
      await t.close();
      await (await revived)?.close();
    });
    await t.app.session.grants.settled();
    expect(t.app.session.grants.current.status).toBe("unknown");
    const retries = (method: string) =>
      entries.filter(
        (e) => e.msg === "retrying" && e.method === method && e.path !== "/api/personal_api_keys/@current/",
      );

    // A read: four attempts (three retries, at least 125 + 250 + 500 ms of backoff), then the message.
    const read = await timed(() => t.call("notebooks-list", {}));
    expect(read.value.isError).toBe(true);
    expect(textOf(read.value)).toMatch(
      /^Could not reach PostHog \(could not reach 127\.0\.0\.1:\d+: the connection was refused\)\. Check POSTHOG_HOST/,
    );
    expect(retries("GET")).toHaveLength(3);
    expect(read.ms).toBeGreaterThanOrEqual(850);
    expect(read.ms).toBeLessThan(BUDGET_MS);

    // A write: refused means it provably never arrived, so it is retried, and lands exactly once.
    const created = await t.call("notebooks-create", { title: "After the outage" });
    expect(created.isError, textOf(created)).toBeFalsy();
    expect(retries("POST")).toHaveLength(1);
    expect(revived).toBeDefined();
    const back = await (revived as Promise<Sandbox>);
    const posts = back.requests.filter((r) => r.method === "POST");
    expect(posts).toHaveLength(1);

    // The next call is answered, once.
    back.clearRequests();
    const list = await t.call("notebooks-list", {});
    expect(structured(list).count).toBe(1);
    expect(back.requests.filter((r) => !r.path.startsWith("/api/personal_api_keys/"))).toHaveLength(1);
  });
});

describe.concurrent("connection reset", () => {
  it("before any answer: a read is retried and succeeds on the second attempt", async (ctx) => {
    const t = await harness(ctx);
    const id = seedNotebook(t);
    t.sandbox.fault({ kind: "reset", count: 1 });
    await succeeds(t, "notebooks-retrieve", { short_id: id }, 2);
    expect(t.upstream().map((r) => r.status)).toEqual([0, 200]);
    await nextCallWorks(t);
  });

  it("mid-body: a read is retried and succeeds on the second attempt", async (ctx) => {
    const t = await harness(ctx);
    const id = seedNotebook(t);
    t.sandbox.fault({ kind: "reset-mid-body", count: 1 });
    const nb = await succeeds(t, "notebooks-retrieve", { short_id: id }, 2);
    expect(nb.short_id).toBe(id);
    await nextCallWorks(t);
  });

  it("every attempt: a read gives up after four attempts with the network message", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "reset", count: 4 });
    await fails(t, "notebooks-list", {}, /^Could not reach PostHog \(.*the connection was reset\)/, 4);
    await nextCallWorks(t);
  });

  it("before any answer: a create is sent once and not retried; nothing was created", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "reset", count: 1 });
    // The client cannot know the reset came before PostHog acted, so the agent is told to check.
    await fails(
      t,
      "notebooks-create",
      { title: "Reset" },
      /the connection was reset\)\. PostHog may have/,
      1,
    );
    expect(await nextCallWorks(t)).toBe(0);
  });

  it("mid-body: a create that PostHog applied is not retried, and the agent is told to check first", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "reset-mid-body", count: 1 });
    await fails(t, "notebooks-create", { title: "Once" }, WRITE_UNSURE, 1);
    expect(await nextCallWorks(t)).toBe(1); // exactly one notebook, not two
  });

  it("mid-body: an update PostHog applied is not retried: the version moved exactly once", async (ctx) => {
    const t = await harness(ctx);
    const id = seedNotebook(t);
    t.sandbox.fault({ kind: "reset-mid-body", count: 1 });
    await fails(
      t,
      "notebooks-partial-update",
      { short_id: id, content: DOC, version: 0 },
      /may have .*before calling notebooks-partial-update again/,
      1,
    );
    expect(t.sandbox.getNotebook(id)?.version).toBe(1);
    await nextCallWorks(t);
  });
});

describe.concurrent("timeouts", () => {
  it("slow headers: the read times out, is not retried, and says to raise the timeout", async (ctx) => {
    // undici checks its header timer about every half second; only that timer can end this read:
    // the whole-answer deadline is far beyond it, and the sandbox holds the answer longer than the
    // test runs (it is cut when the harness closes).
    const t = await harness(ctx, { config: { timeouts: { ...TIMEOUTS, total: 120_000 } } });
    t.sandbox.fault({ kind: "slow-headers", ms: 110_000, count: 1 });
    const { ms } = await timed(() =>
      fails(
        t,
        "notebooks-list",
        {},
        /^PostHog did not answer in time \(127\.0\.0\.1:\d+ did not start answering in time\).*POSTHOG_MCP_TIMEOUT_MS/,
        1,
      ),
    );
    expect(ms).toBeGreaterThanOrEqual(TIMEOUTS.headers - 20);
    await nextCallWorks(t);
  });

  it("slow body: the read times out part-way and is not retried", async (ctx) => {
    // Only the gap between bytes can end this read: the whole-answer deadline is far beyond it, and
    // the sandbox would hold the second half for longer than the test runs (it is cut when the
    // harness closes). A busy machine can delay the headers as long as it likes.
    const t = await harness(ctx, { config: { timeouts: { ...TIMEOUTS, total: 120_000 } } });
    t.sandbox.seedNotebooks(3);
    t.sandbox.fault({ kind: "slow-body", ms: 110_000, count: 1 });
    await fails(
      t,
      "notebooks-list",
      {},
      /^PostHog did not answer in time \(.*stopped sending its answer part-way\)/,
      1,
    );
    await nextCallWorks(t);
  });

  it("slow headers on a create: one attempt; PostHog creates it late, once, and the agent was warned", async (ctx) => {
    const t = await harness(ctx, { config: { timeouts: { ...TIMEOUTS, total: 120_000 } } });
    t.sandbox.fault({ kind: "slow-headers", ms: 5_000, count: 1 });
    await fails(t, "notebooks-create", { title: "Late" }, WRITE_UNSURE, 1);
    // The sandbox handles the request after its delay, as a slow PostHog would.
    await vi.waitFor(() => expect(t.sandbox.requests.at(-1)?.status).toBe(201), { timeout: 30_000 });
    expect(await nextCallWorks(t)).toBe(1);
  });
});

describe.concurrent("server errors", () => {
  it("500 on a read is not retried", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "status", status: 500, count: 1 });
    await fails(
      t,
      "notebooks-list",
      {},
      /^PostHog answered 500 \(a server error on PostHog's side: A server error occurred\.\)\. Try again in a few seconds/,
      1,
    );
    await nextCallWorks(t);
  });

  for (const status of [502, 503, 504]) {
    it(`${status} on a read is retried with backoff and succeeds on the third attempt`, async (ctx) => {
      const t = await harness(ctx);
      t.sandbox.fault({ kind: "status", status, count: 2 });
      const { ms } = await timed(() => succeeds(t, "notebooks-list", {}, 3));
      expect(ms).toBeGreaterThanOrEqual(125 + 250 - 10);
      expect(t.upstream().map((r) => r.status)).toEqual([status, status, 200]);
      await nextCallWorks(t);
    });
  }

  for (const [status, reason] of [
    [502, "Bad Gateway"],
    [503, "Service Unavailable"],
    [504, "Gateway Timeout"],
  ] as const) {
    it(`${status} on every attempt: the read gives up after four and says so`, async (ctx) => {
      const t = await harness(ctx);
      t.sandbox.fault({ kind: "status", status, count: 4 });
      const message = new RegExp(
        `^PostHog answered ${status} \\(a server error on PostHog's side: .*${status} ${reason}.*\\)\\. Try again in a few seconds`,
      );
      await fails(t, "notebooks-list", {}, message, 4);
      await nextCallWorks(t);
    });
  }

  it("502 when the retry budget is spent: the read stops early", async (ctx) => {
    const t = await harness(ctx, { app: { retryBudgetMs: 100 } });
    t.sandbox.fault({ kind: "status", status: 502, count: 1 });
    // The first backoff is 125–250 ms, more than the 100 ms budget: no retry at all.
    await fails(t, "notebooks-list", {}, /^PostHog answered 502/, 1);
    await nextCallWorks(t);
  });

  it("503 on a create is not retried: one attempt, no notebook, and the agent is told to check", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "status", status: 503, count: 1 });
    await fails(
      t,
      "notebooks-create",
      { title: "x" },
      /^PostHog answered 503.*before calling notebooks-create again/,
      1,
    );
    expect(await nextCallWorks(t)).toBe(0);
  });

  for (const fault of [
    { kind: "status", status: 503 },
    { kind: "status", status: 504 },
    { kind: "reset" },
  ] as const) {
    const name = fault.kind === "status" ? String(fault.status) : fault.kind;
    it(`${name} on an update is not retried: one attempt, notebook untouched, agent told to check`, async (ctx) => {
      const t = await harness(ctx);
      const id = seedNotebook(t);
      t.sandbox.fault({ ...fault, count: 1 });
      await fails(
        t,
        "notebooks-partial-update",
        { short_id: id, text_content: "New" },
        /PostHog may have made the change .*before calling notebooks-partial-update again/,
        1,
      );
      expect(t.sandbox.getNotebook(id)).toMatchObject({ title: "Faults", version: 0 });
      expect(t.sandbox.getNotebook(id)?.text_content).not.toBe("New");
      await nextCallWorks(t);
    });
  }

  it("503 on a delete is not retried", async (ctx) => {
    const t = await harness(ctx);
    const id = seedNotebook(t);
    t.sandbox.fault({ kind: "status", status: 503, count: 1 });
    await fails(t, "notebooks-destroy", { short_id: id }, /^PostHog answered 503/, 1);
    expect(t.sandbox.getNotebook(id)?.deleted).toBe(false);
    await nextCallWorks(t);
  });
});

describe.concurrent("429 from PostHog", () => {
  it("with Retry-After: 1, the read waits at least a second, then succeeds", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "status", status: 429, retryAfter: 1, count: 1 });
    const { ms } = await timed(() => succeeds(t, "notebooks-list", {}, 2));
    expect(ms).toBeGreaterThanOrEqual(1_000);
    expect(t.upstream().map((r) => r.status)).toEqual([429, 200]);
    await nextCallWorks(t);
  });

  it("without Retry-After, the read waits the seconds in the detail, then succeeds", async (ctx) => {
    const t = await harness(ctx);
    // PostHog's body: "Request was throttled. Expected available in 1 seconds." (backoff alone: ≤ 250 ms)
    t.sandbox.fault({ kind: "status", status: 429, count: 1 });
    const { ms } = await timed(() => succeeds(t, "notebooks-list", {}, 2));
    expect(ms).toBeGreaterThanOrEqual(1_000);
    await nextCallWorks(t);
  });

  it("longer than the retry budget: returns at once, telling the agent when to try again", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "status", status: 429, retryAfter: 60, count: 1 });
    const { ms } = await timed(() =>
      fails(t, "notebooks-list", {}, /^PostHog is rate-limiting this key .*Try again in 60 seconds/, 1),
    );
    expect(ms).toBeLessThan(30_000); // not the 60 s PostHog asked for (a busy machine may take seconds)
    await nextCallWorks(t);
  });

  it("longer than the budget, seconds only in the detail: the same", async (ctx) => {
    const t = await harness(ctx);
    const body = JSON.stringify({
      type: "throttled_error",
      code: "throttled",
      detail: "Request was throttled. Expected available in 45 seconds.",
      attr: null,
    });
    t.sandbox.fault({ kind: "status", status: 429, body, count: 1 });
    await fails(t, "notebooks-list", {}, /Try again in 45 seconds/, 1);
    await nextCallWorks(t);
  });

  it("on a create: never retried, even for a short wait", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "status", status: 429, retryAfter: 1, count: 1 });
    await fails(t, "notebooks-create", { title: "x" }, /Try again in 1 second\b/, 1);
    expect(await nextCallWorks(t)).toBe(0);
  });
});

describe.concurrent("malformed answers", () => {
  it("HTML with status 200: a read is retried; still HTML after four attempts → a clear error", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "malformed", count: 4 });
    await fails(
      t,
      "notebooks-list",
      {},
      /^PostHog answered 200 with text\/html; charset=utf-8 instead of JSON\./,
      4,
    );
    await nextCallWorks(t);
  });

  it("HTML once: the read's second attempt succeeds", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "malformed", count: 1 });
    await succeeds(t, "notebooks-list", {}, 2);
  });

  it("truncated JSON on every attempt: a clear error naming the cut", async (ctx) => {
    const t = await harness(ctx);
    const id = seedNotebook(t);
    t.sandbox.fault({ kind: "truncated", count: 4 });
    await fails(
      t,
      "notebooks-retrieve",
      { short_id: id },
      /^PostHog answered 200 with a body that is not valid JSON \(\d+ bytes, possibly cut short\)/,
      4,
    );
    await nextCallWorks(t);
  });

  it("truncated JSON on a create that PostHog applied: one attempt, one notebook, agent warned", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.fault({ kind: "truncated", count: 1 });
    await fails(t, "notebooks-create", { title: "Half" }, WRITE_UNSURE, 1);
    expect(await nextCallWorks(t)).toBe(1);
  });

  it("JSON of the wrong shape: not retried, a clear error", async (ctx) => {
    const t = await harness(ctx);
    const id = seedNotebook(t);
    t.sandbox.fault({ kind: "malformed", body: '{"foo":1}', contentType: "application/json", count: 1 });
    await fails(
      t,
      "notebooks-retrieve",
      { short_id: id },
      /^PostHog answered notebooks-retrieve with data of an unexpected shape/,
      1,
    );
    t.sandbox.fault({
      kind: "malformed",
      body: '{"count":"many","results":{}}',
      contentType: "application/json",
    });
    await fails(
      t,
      "notebooks-list",
      {},
      /^PostHog answered notebooks-list with data of an unexpected shape/,
      1,
    );
    t.sandbox.fault({ kind: "malformed", body: "[1,2,3]", contentType: "application/json" });
    await fails(t, "notebooks-access-controls-retrieve", { short_id: id }, /unexpected shape/, 1);
    await nextCallWorks(t);
  });

  it("a body over the size limit: not retried, a clear error", async (ctx) => {
    const t = await harness(ctx, { app: { maxBodyBytes: 64 * 1024 } });
    const big = t.sandbox.insertNotebook({ title: "Big", content: DOC, text_content: "x".repeat(200_000) });
    await fails(
      t,
      "notebooks-retrieve",
      { short_id: big.short_id },
      /^PostHog's answer is larger than the 64 KB this server accepts, so it cannot be passed on; trying again will not help/,
      1,
    );
    await nextCallWorks(t);
  });

  it("a body over the size limit that does not say its size: cut off as it streams in", async (ctx) => {
    const t = await harness(ctx, { app: { maxBodyBytes: 64 * 1024 } });
    const big = t.sandbox.insertNotebook({ title: "Big", content: DOC, text_content: "x".repeat(200_000) });
    t.sandbox.fault({ kind: "chunked" });
    await fails(
      t,
      "notebooks-retrieve",
      { short_id: big.short_id },
      /^PostHog's answer is larger than the 64 KB this server accepts, so it cannot be passed on/,
      1,
    );
    // Under the limit, a chunked answer reads like any other.
    const small = t.sandbox.insertNotebook({ title: "Small", content: DOC, text_content: "Faults" });
    t.sandbox.fault({ kind: "chunked" });
    const read = await t.call("notebooks-retrieve", { short_id: small.short_id });
    expect(structured(read)).toMatchObject({ short_id: small.short_id });
    expect(fencedDocument(textOf(read))).toBe("# Faults");
  });
});

describe("cancelling a request that waits for a connection", () => {
  it("answers at once, and the request never reaches PostHog", async () => {
    const sandbox = await startSandbox({ rateLimit: false, seed: true });
    onTestFinished(() => sandbox.close());
    const client = new PostHogClient({
      host: sandbox.url,
      apiKey: sandbox.defaultKey,
      userAgent: "test",
      timeouts: { connect: 30_000, headers: 30_000, body: 30_000 },
      connections: 1,
      rateLimits: false,
    });
    onTestFinished(() => client.close());
    const path = "/api/projects/@current/notebooks/chk9Drop/";
    sandbox.fault({ kind: "latency", ms: 2_000, count: 1 });
    const first = client.request({ method: "GET", path }); // holds the only connection
    let firstAnswered = false;
    void first.then(() => {
      firstAnswered = true;
    });
    const controller = new AbortController();
    const queued = client.request({ method: "GET", path, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await expect(queued).rejects.toSatisfy(
      (e: unknown) => e instanceof UpstreamError && e.kind === "aborted",
    );
    expect(firstAnswered, "the queued request was given up without waiting for the connection").toBe(false);
    expect((await first).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sandbox.requests.filter((r) => r.path === path)).toHaveLength(1);
  });
});

describe("the key changes mid-session", () => {
  it("revoked: the refused call says so; the next is refused locally; a restored key works again", async (ctx) => {
    const t = await harness(ctx);
    t.sandbox.removeKey(t.key);
    await fails(
      t,
      "notebooks-list",
      {},
      /^PostHog rejected the personal API key \(Personal API key found in request Authorization header is invalid\.\)\. Create a new personal API key at .*settings\/user-api-keys/,
      1,
    );
    expect(t.app.session.grants.current.status).toBe("rejected");
    // Answered without sending anything.
    await fails(t, "notebooks-list", {}, /^PostHog rejected the personal API key .*so nothing was sent/, 0);

    // The key comes back (rolled back by an admin); ten seconds later the grants are read again.
    t.sandbox.addKey({ value: t.key, scopes: ["*"] });
    const now = Date.now();
    vi.spyOn(Date, "now").mockReturnValue(now + 11_000);
    await nextCallWorks(t);
    expect(t.app.session.grants.current.status).toBe("known");
  });

  it("scope removed: the refused call names the scope, the tool leaves tools/list, and clients are told", async (ctx) => {
    const t = await harness(ctx);
    expect(await t.toolNames()).toContain("notebooks-create");
    t.sandbox.setScopes(t.key, ["notebook:read"]);
    await fails(
      t,
      "notebooks-create",
      { title: "x" },
      /^The personal API key lacks the 'notebook:write' scope that notebooks-create needs/,
      1,
    );
    await vi.waitFor(() => expect(t.notifications).toContain("notifications/tools/list_changed"));
    const names = await t.toolNames();
    expect(names).not.toContain("notebooks-create");
    expect(names).toContain("notebooks-list");
    // The next write is refused without a request; reads still work.
    await fails(
      t,
      "notebooks-create",
      { title: "x" },
      /lacks the 'notebook:write' scope.*nothing was sent/,
      0,
    );
    await nextCallWorks(t);
  });
});

describe.concurrent("load", () => {
  it("twenty concurrent calls are all answered over at most the pool's 8 connections", async (ctx) => {
    const t = await harness(ctx, {
      // PostHog's own per-key limits on the sandbox: the client keeps under them.
      sandbox: { rateLimit: { burstPerMinute: 480, sustainedPerHour: 4800 } },
    });
    t.sandbox.seedNotebooks(5);
    t.sandbox.fault({ kind: "latency", ms: 100, count: 20 });
    const results = await Promise.all(Array.from({ length: 20 }, () => t.call("notebooks-list", {})));
    for (const r of results) expect(r.isError, textOf(r)).toBeFalsy();
    expect(t.upstream()).toHaveLength(20);
    expect(t.upstream().every((r) => r.status === 200)).toBe(true);
    expect(t.sandbox.connections()).toBeLessThanOrEqual(8);
    expect(t.sandbox.connections()).toBeGreaterThan(1);
    await nextCallWorks(t);
  });

  it("the client-side budget holds calls back before PostHog has to: never a 429", async (ctx) => {
    // Client and PostHog (the sandbox) with the same small per-minute limit. The grants read is
    // the first of the five requests the minute allows.
    const t = await harness(ctx, {
      app: { rateLimits: { perMinute: 5, perHour: 100 } },
      sandbox: { rateLimit: { burstPerMinute: 5, sustainedPerHour: 100 } },
    });
    for (let i = 0; i < 4; i++) await succeeds(t, "notebooks-list", {}, 1);
    const { ms } = await timed(() =>
      fails(t, "notebooks-list", {}, /^Too many PostHog requests in a short time .*nothing was sent/, 0),
    );
    expect(ms).toBeLessThan(30_000); // refused at once, not held until the minute's window frees
    await fails(t, "notebooks-create", { title: "x" }, /^Too many PostHog requests/, 0);
    expect(t.sandbox.requests.some((r) => r.status === 429)).toBe(false);
    // The server still answers what needs no request.
    expect(await t.toolNames()).toContain("notebooks-list");
  });

  it("a burst past the per-minute limit is held back locally, not sent for PostHog to refuse", async (ctx) => {
    const t = await harness(ctx, {
      app: { rateLimits: { perMinute: 60, perHour: 1_000 } },
      sandbox: { rateLimit: { burstPerMinute: 60, sustainedPerHour: 1_000 } },
    });
    const results = await Promise.all(Array.from({ length: 62 }, () => t.call("notebooks-list", {})));
    const ok = results.filter((r) => !r.isError);
    const held = results.filter((r) => r.isError);
    expect(ok).toHaveLength(59); // 60 a minute, one of them the grants read
    for (const r of held) expect(textOf(r)).toMatch(/^Too many PostHog requests .*nothing was sent/);
    expect(t.sandbox.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(t.upstream()).toHaveLength(59);
  });
});

describe("the client-side limiter on its own (fake clock)", () => {
  it("admits at most the limit in any window, waits when the wait is short, refuses when it is long", async () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 3, perHour: 10 }, 30_000, () => now);
    const admitted: number[] = [];
    for (let i = 0; i < 3; i++) {
      await limiter.acquire();
      admitted.push(now);
    }
    // The window is full until 60 s (+ a margin) after the first: a 61 s wait is refused.
    await expect(limiter.acquire()).rejects.toThrow(/request budget is spent for the next 6\d seconds/);
    now = 45_000;
    vi.useFakeTimers();
    try {
      const waiting = limiter.acquire().then(() => admitted.push(now));
      await vi.advanceTimersByTimeAsync(10_000);
      expect(admitted).toHaveLength(3);
      now = 62_000;
      await vi.advanceTimersByTimeAsync(10_000);
      await waiting;
    } finally {
      vi.useRealTimers();
    }
    expect(admitted).toHaveLength(4);
    // Never more than three in any minute.
    for (const at of admitted)
      expect(admitted.filter((x) => x >= at && x < at + 60_000).length).toBeLessThanOrEqual(3);
  });

  it("property: whatever the arrival times, never more than the limit in any minute or any hour", async () => {
    const within = (times: number[], at: number, span: number) =>
      times.filter((x) => x >= at && x <= at + span).length;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.integer({ min: 0, max: 30_000 }), { maxLength: 200 }),
        async (perMinute, perHour, gaps) => {
          let now = 0;
          // No waiting allowed: every request is either let through at once or refused.
          const limiter = new RateLimiter({ perMinute, perHour }, 0, () => now);
          const admitted: number[] = [];
          for (const gap of gaps) {
            now += gap;
            try {
              await limiter.acquire();
              admitted.push(now);
            } catch (error) {
              expect(error).toBeInstanceOf(RateLimitExceeded);
              // Refused only when a window is really full.
              const lastMinute = admitted.filter((x) => x > now - 61_000).length;
              const lastHour = admitted.filter((x) => x > now - 3_601_000).length;
              expect(lastMinute >= perMinute || lastHour >= perHour).toBe(true);
            }
          }
          for (const at of admitted) {
            expect(within(admitted, at, 60_000)).toBeLessThanOrEqual(perMinute);
            expect(within(admitted, at, 3_600_000)).toBeLessThanOrEqual(perHour);
          }
        },
      ),
      { numRuns: 500, seed: 4_800 },
    );
  });
});
