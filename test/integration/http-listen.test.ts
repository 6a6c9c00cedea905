/**
 * `subscriptions/listen` over Streamable HTTP (2026-07-28), in process: serveHttp on 127.0.0.1, the
 * sandbox as PostHog, the SDK v2 client. A listen stream hears of the changes made with its own
 * key, through this server; another key's changes never reach it, even to notebooks both keys may
 * read. With `--stateless`, nothing is advertised, and a listen stream honors nothing.
 *
 * No assertion waits on time: "not heard" is shown by a later change of the listener's own key
 * arriving first on the stream, which carries events in the order they were published.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpServing } from "../../src/server/http.js";
import type { UpstreamBase } from "../../src/upstream.js";
import { type SandboxUpstream, sandboxUpstream, serveOnLoopback } from "../helpers/in-process-http.js";

const KEY_A = "phx_listenTenantAlpha0123456789abcdefghijklmnopq";
const KEY_B = "phx_listenTenantBravo0123456789abcdefghijklmnopq";

let up: SandboxUpstream;
let base: UpstreamBase;

beforeAll(async () => {
  up = await sandboxUpstream([KEY_A, KEY_B]);
  base = up.base;
});
afterAll(async () => {
  await up?.close();
});

async function serve(stateless: boolean): Promise<HttpServing> {
  return serveOnLoopback(base, stateless);
}

async function connect(serving: HttpServing, key: string): Promise<Client> {
  const client = new Client({ name: "listen", version: "1" }, { versionNegotiation: { mode: "auto" } });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(serving.url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
  return client;
}

/** What a client hears on its listen streams, in order, and a way to wait for what it expects. */
function heard(client: Client) {
  const events: string[] = [];
  const waiters: { until: (events: string[]) => boolean; resolve: () => void }[] = [];
  const record = (event: string) => {
    events.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.until(events)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  client.setNotificationHandler("notifications/resources/updated", async (notification) => {
    record(`updated ${notification.params.uri}`);
  });
  client.setNotificationHandler("notifications/resources/list_changed", async () => {
    record("list changed");
  });
  return {
    events,
    /** Resolves once `until` holds of what was heard. */
    when(until: (events: string[]) => boolean): Promise<void> {
      if (until(events)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ until, resolve }));
    },
  };
}

async function create(client: Client, title: string): Promise<string> {
  const result = await client.callTool({ name: "notebooks-create", arguments: { title } });
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  return (result.structuredContent as { short_id: string }).short_id;
}

async function rename(client: Client, shortId: string, title: string): Promise<void> {
  const result = await client.callTool({
    name: "notebooks-partial-update",
    arguments: { short_id: shortId, title },
  });
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
}

const uri = (shortId: string) => `posthog://notebooks/${shortId}`;

describe("subscriptions/listen over HTTP, with sessions kept", () => {
  let serving: HttpServing;
  beforeAll(async () => {
    serving = await serve(false);
  });
  afterAll(async () => {
    await serving?.close();
  });

  it("advertises what a listen stream delivers", async () => {
    const client = await connect(serving, KEY_A);
    try {
      const capabilities = client.getServerCapabilities();
      expect(capabilities?.resources).toMatchObject({ subscribe: true, listChanged: true });
      expect(capabilities?.tools?.listChanged).toBe(true);
      // Log messages need a 2025 session: not advertised to a 2026 client.
      expect(capabilities?.logging).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it("a key hears its own changes, never another key's, in order", async () => {
    const alice = await connect(serving, KEY_A);
    const bob = await connect(serving, KEY_B);
    try {
      // Two notebooks both keys may read and change.
      const shared = await create(alice, "Shared");
      const own = await create(alice, "Alice's");
      const aliceHears = heard(alice);
      const bobHears = heard(bob);
      const filter = { resourceSubscriptions: [uri(shared), uri(own)], resourcesListChanged: true };
      const aliceListens = await alice.listen(filter);
      const bobListens = await bob.listen(filter);
      expect(aliceListens.honoredFilter).toEqual(filter);
      expect(bobListens.honoredFilter).toEqual(filter);

      // Bob changes the shared notebook and creates one: Bob hears both, Alice neither.
      await rename(bob, shared, "Shared, renamed by Bob");
      await create(bob, "Bob's");
      const bobFirst = [`updated ${uri(shared)}`, "list changed", "list changed"];
      await bobHears.when((events) => events.length >= bobFirst.length);
      expect(bobHears.events).toEqual(bobFirst);

      // Alice renames her own: the first thing on her stream is her change, then nothing else.
      await rename(alice, own, "Alice's, renamed");
      const aliceOnly = [`updated ${uri(own)}`, "list changed"];
      await aliceHears.when((events) => events.length >= aliceOnly.length);
      expect(aliceHears.events).toEqual(aliceOnly);

      // And Bob, changing the shared notebook again, hears that next: not Alice's rename.
      await rename(bob, shared, "Shared, renamed by Bob again");
      const bobThen = [...bobFirst, `updated ${uri(shared)}`, "list changed"];
      await bobHears.when((events) => events.length >= bobThen.length);
      expect(bobHears.events).toEqual(bobThen);

      // Closed by the client: the stream ends, the server goes on serving the key.
      await aliceListens.close();
      expect(await aliceListens.closed).toBe("local");
      await bobListens.close();
      expect(await bobListens.closed).toBe("local");
      const listed = await alice.callTool({ name: "notebooks-list", arguments: { limit: 1 } });
      expect(listed.isError).toBeFalsy();
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it("a listen stream keeps only notebook URIs, each once, at most 1,000 of them", async () => {
    const alice = await connect(serving, KEY_A);
    try {
      const shortId = await create(alice, "Watched by a big filter");
      // What nothing here ever changes is not kept (a 4 MiB filter was kept whole, per stream).
      const listens = await alice.listen({
        resourceSubscriptions: [
          uri(shortId),
          `${uri(shortId)}/markdown`,
          uri(shortId),
          "file:///etc/hosts",
          `posthog://notebooks/${"x".repeat(300)}`,
        ],
      });
      expect(listens.honoredFilter).toEqual({
        resourceSubscriptions: [uri(shortId), `${uri(shortId)}/markdown`],
      });
      await listens.close();

      // More notebooks than a stream may watch: refused by name, as params a request cannot have.
      const many = Array.from({ length: 1_001 }, (_, i) => uri(`n${i}`));
      await expect(alice.listen({ resourceSubscriptions: many })).rejects.toThrow(/at most 1,000/);
      const exactly = await alice.listen({ resourceSubscriptions: many.slice(0, 1_000) });
      expect(exactly.honoredFilter.resourceSubscriptions).toHaveLength(1_000);
      await exactly.close();
    } finally {
      await alice.close();
    }
  });

  it("a 2025 session's change is heard by its key's listen streams", async () => {
    const alice = await connect(serving, KEY_A);
    const { Client: V1Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StreamableHTTPClientTransport: V1Transport } = await import(
      "@modelcontextprotocol/sdk/client/streamableHttp.js"
    );
    const legacy = new V1Client({ name: "listen-v1", version: "1" });
    const legacyTransport = new V1Transport(new URL(serving.url), {
      requestInit: { headers: { authorization: `Bearer ${KEY_A}` } },
    });
    await legacy.connect(legacyTransport);
    try {
      const shortId = await create(alice, "Watched from 2026");
      const aliceHears = heard(alice);
      const listening = await alice.listen({ resourceSubscriptions: [uri(shortId)] });
      const renamed = await legacy.callTool({
        name: "notebooks-partial-update",
        arguments: { short_id: shortId, title: "Renamed in a 2025 session" },
      });
      expect(renamed.isError).toBeFalsy();
      await aliceHears.when((events) => events.length >= 1);
      expect(aliceHears.events).toEqual([`updated ${uri(shortId)}`]);
      await listening.close();
    } finally {
      await legacyTransport.terminateSession();
      await legacy.close();
      await alice.close();
    }
  });

  it("a listen stream open when the server stops is ended by the server, not cut", async () => {
    const own = await serve(false);
    const alice = await connect(own, KEY_A);
    try {
      const listening = await alice.listen({ resourcesListChanged: true });
      await own.close();
      expect(await listening.closed).toBe("graceful");
    } finally {
      await alice.close();
      await own.close();
    }
  });
});

describe("subscriptions/listen over HTTP, --stateless", () => {
  let serving: HttpServing;
  beforeAll(async () => {
    serving = await serve(true);
  });
  afterAll(async () => {
    await serving?.close();
  });

  it("advertises nothing a replica cannot deliver, and a listen stream honors nothing", async () => {
    const client = await connect(serving, KEY_A);
    try {
      const capabilities = client.getServerCapabilities();
      expect(capabilities?.resources?.subscribe).toBeFalsy();
      expect(capabilities?.resources?.listChanged).toBeFalsy();
      expect(capabilities?.tools?.listChanged).toBeFalsy();
      const listening = await client.listen({
        resourceSubscriptions: [uri("anything")],
        resourcesListChanged: true,
        toolsListChanged: true,
      });
      expect(listening.honoredFilter).toEqual({});
      expect(await listening.closed).toBe("graceful");
    } finally {
      await client.close();
    }
  });
});
