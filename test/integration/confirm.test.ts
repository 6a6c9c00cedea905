/**
 * Confirmations (src/server/confirm.ts): what the agent cannot take back is asked of the user by
 * form elicitation, when the client declares it; in either era, in memory and over HTTP, with the
 * sandbox as PostHog. Asserted on what the sandbox received and what the agent got.
 */
import {
  type ElicitRequestFormParams,
  type ElicitResult,
  InMemoryTransport,
  Client as V2Client,
  StreamableHTTPClientTransport as V2HttpClientTransport,
} from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import type { RecordedRequest } from "../../src/sandbox/index.js";
import { CONFIRM_TTL_SECONDS, COUNTED_MATCHES, MANY_MATCHES } from "../../src/server/confirm.js";
import type { HttpServing } from "../../src/server/http.js";
import { openUpstreamBase, type UpstreamBase } from "../../src/upstream.js";
import { type Harness, startHarness, structured, testConfig, textOf } from "../helpers/harness.js";
import { serveOnLoopback } from "../helpers/in-process-http.js";

type Answer = (params: ElicitRequestFormParams) => ElicitResult;
const ACCEPT: Answer = () => ({ action: "accept", content: { confirm: true } });
const DECLINE: Answer = () => ({ action: "decline" });

const writes = (requests: RecordedRequest[]) => requests.filter((r) => r.method !== "GET");

async function createNotebook(h: Harness, title: string, markdown = "Some text."): Promise<string> {
  const created = await h.call("notebooks-create", { title, markdown });
  return structured<{ short_id: string }>(created).short_id;
}

/** A 2026-07-28 client in memory, on the app's stdio-shaped entry; `answer` undefined: no elicitation. */
async function modern(h: Harness, answer?: Answer, asked: ElicitRequestFormParams[] = []): Promise<V2Client> {
  const client = new V2Client(
    { name: "confirm-v2", version: "1.0.0" },
    {
      versionNegotiation: { mode: "auto" },
      capabilities: answer ? { elicitation: { form: {} } } : {},
    },
  );
  if (answer) {
    client.setRequestHandler("elicitation/create", async (request) => {
      const params = request.params as ElicitRequestFormParams;
      asked.push(params);
      return answer(params);
    });
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  h.app.serve(serverSide);
  await client.connect(clientSide);
  expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
  return client;
}

const text = (result: unknown) =>
  ((result as { content: { type: string; text?: string }[] }).content[0]?.text ?? "") as string;

describe("2026-07-28 in memory (input_required)", () => {
  let h: Harness;
  const clients: V2Client[] = [];
  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
  });
  afterAll(async () => {
    await h.close();
  });

  it("asks before deleting, says what will happen, and deletes once the user accepts", async () => {
    const shortId = await createNotebook(h, 'Q3 "plan"\u202Eevil');
    const asked: ElicitRequestFormParams[] = [];
    const client = await modern(h, ACCEPT, asked);
    clients.push(client);
    h.mark();
    const result = await client.callTool({ name: "notebooks-destroy", arguments: { short_id: shortId } });
    expect(result.isError, text(result)).toBeFalsy();
    expect(asked).toHaveLength(1);
    // The title is data: quoted, escaped, its hidden characters shown.
    expect(asked[0]?.message).toContain(`PostHog notebook ${shortId}, titled "Q3 \\"plan\\"`);
    expect(asked[0]?.message).not.toContain("\u202E");
    expect(asked[0]?.requestedSchema.required).toEqual(["confirm"]);
    expect(writes(h.upstream())).toMatchObject([
      { method: "PATCH", path: expect.stringContaining(`/notebooks/${shortId}/`), body: { deleted: true } },
    ]);
  });

  it("sends nothing when the user declines, and tells the agent so", async () => {
    const shortId = await createNotebook(h, "Keep me");
    const client = await modern(h, DECLINE);
    clients.push(client);
    h.mark();
    const result = await client.callTool({ name: "notebooks-destroy", arguments: { short_id: shortId } });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(`The user declined: notebook ${shortId} was not deleted`);
    expect(writes(h.upstream())).toEqual([]);
  });

  it("asks before replacing a whole notebook, and not before appending", async () => {
    const shortId = await createNotebook(h, "Rewrite me");
    const asked: ElicitRequestFormParams[] = [];
    const client = await modern(h, DECLINE, asked);
    clients.push(client);
    const nb = structured<{ version: number }>(await h.call("notebooks-retrieve", { short_id: shortId }));
    h.mark();
    const replaced = await client.callTool({
      name: "notebooks-partial-update",
      arguments: { short_id: shortId, markdown: "# New\n\nAll new.", version: nb.version },
    });
    expect(replaced.isError).toBe(true);
    expect(asked[0]?.message).toContain("Replace everything in PostHog notebook");
    const appended = await client.callTool({
      name: "notebooks-partial-update",
      arguments: { short_id: shortId, append_markdown: "More." },
    });
    expect(appended.isError, text(appended)).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(writes(h.upstream())).toHaveLength(1);
  });

  it(`asks before replace_all over more than ${MANY_MATCHES} passages only`, async () => {
    const few = await createNotebook(h, "Few", "a x b x c x");
    const many = await createNotebook(h, "Many", Array.from({ length: 8 }, () => "foo").join(" and "));
    const asked: ElicitRequestFormParams[] = [];
    const client = await modern(h, ACCEPT, asked);
    clients.push(client);
    const fewResult = await client.callTool({
      name: "notebooks-edit",
      arguments: { short_id: few, old_markdown: "x", new_markdown: "y", replace_all: true },
    });
    expect(fewResult.isError, text(fewResult)).toBeFalsy();
    expect(asked).toHaveLength(0);
    h.mark();
    const manyResult = await client.callTool({
      name: "notebooks-edit",
      arguments: { short_id: many, old_markdown: "foo", new_markdown: "bar", replace_all: true },
    });
    expect(manyResult.isError, text(manyResult)).toBeFalsy();
    expect(asked[0]?.message).toContain("Replace 8 passages in PostHog notebook");
    expect(asked[0]?.message).toContain('every "foo" with "bar"');
    expect(writes(h.upstream())).toHaveLength(1);
  });

  it(`counts at most ${COUNTED_MATCHES} passages for the form, however many edits and places`, async () => {
    // A hundred edits of "a", each found 3,000 times: the form held every place of every edit.
    const shortId = await createNotebook(h, "Many a", "a ".repeat(3_000).trim());
    const asked: ElicitRequestFormParams[] = [];
    const client = await modern(h, DECLINE, asked);
    clients.push(client);
    h.mark();
    const edits = Array.from({ length: 100 }, () => ({
      old_markdown: "a",
      new_markdown: "b",
      replace_all: true,
    }));
    const result = await client.callTool({ name: "notebooks-edit", arguments: { short_id: shortId, edits } });
    expect(result.isError).toBe(true);
    expect(asked[0]?.message).toContain(
      `Replace more than ${COUNTED_MATCHES.toLocaleString("en-US")} passages`,
    );
    expect(asked[0]?.requestedSchema.properties.confirm?.title).toBe("Yes, replace them all");
    expect(writes(h.upstream())).toEqual([]);
  });

  it("refuses a tampered requestState with -32602 and sends nothing", async () => {
    const shortId = await createNotebook(h, "Tamper");
    const client = await modern(h, ACCEPT);
    clients.push(client);
    const first = (await client.callTool(
      { name: "notebooks-destroy", arguments: { short_id: shortId } },
      { allowInputRequired: true },
    )) as unknown as { resultType: string; requestState: string };
    expect(first.resultType).toBe("input_required");
    const state = first.requestState;
    const flipped = `${state.slice(0, 10)}${state[10] === "A" ? "B" : "A"}${state.slice(11)}`;
    h.mark();
    for (const requestState of [flipped, `${state}x`, "not a state"]) {
      await expect(
        client.callTool(
          {
            name: "notebooks-destroy",
            arguments: { short_id: shortId },
            inputResponses: { confirm: { action: "accept", content: { confirm: true } } },
            requestState,
          } as never,
          { allowInputRequired: true },
        ),
      ).rejects.toMatchObject({ code: -32602 });
    }
    expect(h.upstream()).toEqual([]);
  });

  it("refuses a requestState replayed with other arguments, and one without state is asked first", async () => {
    const asked = await createNotebook(h, "Asked about");
    const other = await createNotebook(h, "Other");
    const client = await modern(h, ACCEPT);
    clients.push(client);
    const first = (await client.callTool(
      { name: "notebooks-destroy", arguments: { short_id: asked } },
      { allowInputRequired: true },
    )) as unknown as { requestState: string };
    h.mark();
    const replayed = await client.callTool(
      {
        name: "notebooks-destroy",
        arguments: { short_id: other },
        inputResponses: { confirm: { action: "accept", content: { confirm: true } } },
        requestState: first.requestState,
      } as never,
      { allowInputRequired: true },
    );
    expect(replayed.isError).toBe(true);
    expect(text(replayed)).toContain("another notebooks-destroy call, with other arguments");
    // An answer without the state it answers is not trusted: the form is asked.
    const unasked = (await client.callTool(
      {
        name: "notebooks-destroy",
        arguments: { short_id: other },
        inputResponses: { confirm: { action: "accept", content: { confirm: true } } },
      } as never,
      { allowInputRequired: true },
    )) as unknown as { resultType: string };
    expect(unasked.resultType).toBe("input_required");
    expect(writes(h.upstream())).toEqual([]);
  });

  it("refuses a requestState once it has expired (the clock moved, not waited for)", async () => {
    const shortId = await createNotebook(h, "Expire");
    const client = await modern(h, ACCEPT);
    clients.push(client);
    const first = (await client.callTool(
      { name: "notebooks-destroy", arguments: { short_id: shortId } },
      { allowInputRequired: true },
    )) as unknown as { requestState: string };
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + (CONFIRM_TTL_SECONDS + 60) * 1_000);
      h.mark();
      await expect(
        client.callTool(
          {
            name: "notebooks-destroy",
            arguments: { short_id: shortId },
            inputResponses: { confirm: { action: "accept", content: { confirm: true } } },
            requestState: first.requestState,
          } as never,
          { allowInputRequired: true },
        ),
      ).rejects.toMatchObject({ code: -32602 });
      expect(writes(h.upstream())).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("works as before for a client without elicitation", async () => {
    const shortId = await createNotebook(h, "No form");
    const client = await modern(h);
    clients.push(client);
    h.mark();
    const result = await client.callTool({ name: "notebooks-destroy", arguments: { short_id: shortId } });
    expect(result.isError, text(result)).toBeFalsy();
    expect(h.upstream().map((r) => r.method)).toEqual(["PATCH"]);
  });
});

describe("2025-11-25 in memory (the SDK asks with elicitation/create)", () => {
  it("a v1 client that declares elicitation is asked; accept deletes, decline sends nothing", async () => {
    const h = await startHarness({ capabilities: { elicitation: {} } });
    try {
      const answers: ElicitResult[] = [
        { action: "accept", content: { confirm: true } },
        { action: "decline" },
      ];
      const messages: string[] = [];
      h.client.setRequestHandler(ElicitRequestSchema, async (request) => {
        messages.push(String(request.params.message));
        return answers.shift() ?? { action: "cancel" };
      });
      const deleted = await createNotebook(h, "Legacy delete");
      const kept = await createNotebook(h, "Legacy keep");
      h.mark();
      const accepted = await h.call("notebooks-destroy", { short_id: deleted });
      expect(accepted.isError, textOf(accepted)).toBeFalsy();
      const declined = await h.call("notebooks-destroy", { short_id: kept });
      expect(declined.isError).toBe(true);
      expect(textOf(declined)).toContain(`notebook ${kept} was not deleted`);
      expect(messages).toHaveLength(2);
      expect(writes(h.upstream())).toMatchObject([{ method: "PATCH", body: { deleted: true } }]);
      expect(writes(h.upstream())[0]?.path).toContain(deleted);
    } finally {
      await h.close();
    }
  });

  it("a v1 client without elicitation gets the same result as always", async () => {
    const h = await startHarness();
    try {
      const shortId = await createNotebook(h, "Legacy plain");
      h.mark();
      const result = await h.call("notebooks-destroy", { short_id: shortId });
      expect(result.isError, textOf(result)).toBeFalsy();
      expect(textOf(result)).toMatch(/^Deleted notebook /);
      expect(h.upstream().map((r) => r.method)).toEqual(["PATCH"]);
    } finally {
      await h.close();
    }
  });
});

describe("Streamable HTTP: --stateless replicas, and a 2025 session", () => {
  const KEY = "phx_confirmFirstKey0123456789abcdefghijklmnopqrs";
  const OTHER_KEY = "phx_confirmOtherKey0123456789abcdefghijklmnopqrs";
  let h: Harness;
  const bases: UpstreamBase[] = [];
  const servings: HttpServing[] = [];
  beforeAll(async () => {
    h = await startHarness({ sandbox: { keys: [{ value: KEY }, { value: OTHER_KEY }] } });
  });
  afterAll(async () => {
    for (const serving of servings) await serving.close();
    for (const base of bases) await base.close();
    await h.close();
  });

  async function replica(secret: string, stateless = true): Promise<HttpServing> {
    const base = await openUpstreamBase(
      { ...testConfig(h.sandbox.url, ""), stateSecret: secret },
      { logger: pino({ level: "silent" }), rateLimits: false },
    );
    bases.push(base);
    const serving = await serveOnLoopback(base, stateless);
    servings.push(serving);
    return serving;
  }

  function httpClient(url: string, answer?: Answer, key = KEY): Promise<V2Client> {
    const client = new V2Client(
      { name: "confirm-http", version: "1.0.0" },
      { versionNegotiation: { mode: "auto" }, capabilities: answer ? { elicitation: { form: {} } } : {} },
    );
    if (answer) client.setRequestHandler("elicitation/create", async (r) => answer(r.params as never));
    const transport = new V2HttpClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    });
    return client.connect(transport).then(() => client);
  }

  it("deletes once accepted; a state signed by a replica with another secret is refused", async () => {
    const secret = "s".repeat(32);
    const one = await replica(secret);
    const same = await replica(secret);
    const other = await replica("o".repeat(32));
    const shortId = await createNotebook(h, "Over HTTP");

    const a = await httpClient(one.url, ACCEPT);
    const first = (await a.callTool(
      { name: "notebooks-destroy", arguments: { short_id: shortId } },
      { allowInputRequired: true },
    )) as unknown as { requestState: string };
    await a.close();
    const retry = {
      name: "notebooks-destroy",
      arguments: { short_id: shortId },
      inputResponses: { confirm: { action: "accept", content: { confirm: true } } },
      requestState: first.requestState,
    } as never;

    h.mark();
    const foreign = await httpClient(other.url, ACCEPT);
    await expect(foreign.callTool(retry, { allowInputRequired: true })).rejects.toMatchObject({
      code: -32602,
    });
    await foreign.close();
    // Nor does another key take it, on the replica that signed it.
    const otherKey = await httpClient(one.url, ACCEPT, OTHER_KEY);
    await expect(otherKey.callTool(retry, { allowInputRequired: true })).rejects.toMatchObject({
      code: -32602,
    });
    await otherKey.close();
    expect(writes(h.upstream())).toEqual([]);

    // Another replica with the same secret takes the answer.
    const b = await httpClient(same.url, ACCEPT);
    const done = await b.callTool(retry, { allowInputRequired: true });
    await b.close();
    expect(done.isError, text(done)).toBeFalsy();
    expect(writes(h.upstream())).toMatchObject([{ method: "PATCH", body: { deleted: true } }]);
  });

  it("a v1 client in a 2025 session is asked on its stream: decline sends nothing, accept deletes", async () => {
    const serving = await replica("v".repeat(32), false);
    const kept = await createNotebook(h, "Session keep");
    const deleted = await createNotebook(h, "Session delete");
    const client = new V1Client(
      { name: "confirm-v1-http", version: "1.0.0" },
      { capabilities: { elicitation: {} } },
    );
    const answers: ElicitResult[] = [{ action: "decline" }, { action: "accept", content: { confirm: true } }];
    client.setRequestHandler(ElicitRequestSchema, async () => answers.shift() ?? { action: "cancel" });
    await client.connect(
      new V1HttpClientTransport(new URL(serving.url), {
        requestInit: { headers: { authorization: `Bearer ${KEY}` } },
      }),
    );
    try {
      h.mark();
      const declined = await client.callTool({ name: "notebooks-destroy", arguments: { short_id: kept } });
      expect(declined.isError).toBe(true);
      expect(writes(h.upstream())).toEqual([]);
      const accepted = await client.callTool({ name: "notebooks-destroy", arguments: { short_id: deleted } });
      expect(accepted.isError, text(accepted)).toBeFalsy();
      expect(writes(h.upstream())).toMatchObject([{ method: "PATCH", body: { deleted: true } }]);
      expect(writes(h.upstream())[0]?.path).toContain(deleted);
    } finally {
      await client.close();
    }
  });

  it("a client without elicitation deletes at once, as before", async () => {
    const serving = await replica("n".repeat(32));
    const shortId = await createNotebook(h, "Plain HTTP");
    const client = await httpClient(serving.url);
    h.mark();
    const result = await client.callTool({ name: "notebooks-destroy", arguments: { short_id: shortId } });
    await client.close();
    expect(result.isError, text(result)).toBeFalsy();
    expect(writes(h.upstream()).map((r) => r.method)).toEqual(["PATCH"]);
  });
});

describe("POSTHOG_MCP_STATE_SECRET", () => {
  const env = { POSTHOG_PERSONAL_API_KEY: "phx_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH" };
  it("is taken when at least 32 characters, refused (exit 2) when shorter, never repeated", () => {
    const secret = "k".repeat(40);
    expect(loadConfig([], { ...env, POSTHOG_MCP_STATE_SECRET: secret }).stateSecret).toBe(secret);
    expect(loadConfig([], env).stateSecret).toBeUndefined();
    let message = "";
    try {
      loadConfig([], { ...env, POSTHOG_MCP_STATE_SECRET: "short-secret-value" });
    } catch (error) {
      message = (error as Error).message;
      expect((error as Error).name).toBe("ConfigError");
    }
    expect(message).toContain("POSTHOG_MCP_STATE_SECRET is 18 characters long");
    expect(message).not.toContain("short-secret-value");
  });
});
