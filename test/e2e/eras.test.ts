/**
 * Both protocol eras on both transports, against the built server with the sandbox: the SDK v2
 * client negotiating (`versionNegotiation: auto`) gets 2026-07-28, the SDK v1 client (what many
 * installed assistants run) gets 2025-11-25 with what it always had (sessions over HTTP, log
 * messages, subscriptions); protocol mistakes are -32602 on either.
 */
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2HttpClientTransport,
} from "@modelcontextprotocol/client";
import { StdioClientTransport as V2StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as V1StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport as V1HttpClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, childEnv, ROOT } from "../helpers/binary.js";
import { type HttpServer, startHttpServer } from "../helpers/http-server.js";

const modernClient = () =>
  new V2Client({ name: "eras-v2", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
const legacyClient = () => new V1Client({ name: "eras-v1", version: "1.0.0" });

const TEXT_OF = (result: unknown) =>
  ((result as { content: { type: string; text?: string }[] }).content[0]?.text ?? "") as string;

describe("stdio, either era from one binary", () => {
  it("a v2 client negotiating gets 2026-07-28, lists the tools and calls one", async () => {
    const client = modernClient();
    await client.connect(
      new V2StdioClientTransport({
        command: process.execPath,
        args: [BIN, "--sandbox"],
        env: childEnv(),
        cwd: ROOT,
      }),
    );
    try {
      expect(client.getProtocolEra()).toBe("modern");
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      const { tools } = await client.listTools();
      expect(tools).toHaveLength(11);
      const listed = await client.callTool({ name: "notebooks-list", arguments: { limit: 1 } });
      expect(listed.isError).toBeFalsy();
      expect(listed.structuredContent).toMatchObject({ count: expect.any(Number) });
      // A miss is -32602 with the URI, as SEP-2164 says.
      await expect(client.readResource({ uri: "posthog://notebooks/nope0000" })).rejects.toMatchObject({
        code: -32602,
        data: { uri: "posthog://notebooks/nope0000" },
      });
    } finally {
      await client.close();
    }
  });

  it("a v2 client hears of a notebook it watches on a subscriptions/listen stream", async () => {
    const client = modernClient();
    await client.connect(
      new V2StdioClientTransport({
        command: process.execPath,
        args: [BIN, "--sandbox"],
        env: childEnv(),
        cwd: ROOT,
      }),
    );
    try {
      const created = await client.callTool({ name: "notebooks-create", arguments: { title: "Watched" } });
      const shortId = (created.structuredContent as { short_id: string }).short_id;
      const uri = `posthog://notebooks/${shortId}`;
      const updated: string[] = [];
      const heard = new Promise<void>((resolve) => {
        client.setNotificationHandler("notifications/resources/updated", async (notification) => {
          updated.push(notification.params.uri);
          resolve();
        });
      });
      const subscription = await client.listen({ resourceSubscriptions: [uri] });
      expect(subscription.honoredFilter.resourceSubscriptions).toEqual([uri]);
      const renamed = await client.callTool({
        name: "notebooks-partial-update",
        arguments: { short_id: shortId, title: "Watched, renamed" },
      });
      expect(renamed.isError, TEXT_OF(renamed)).toBeFalsy();
      await heard;
      // Only what was asked for: the Markdown URI of the same notebook was not.
      expect(updated).toEqual([uri]);
      await subscription.close();
    } finally {
      await client.close();
    }
  });

  it("a v1 client gets 2025-11-25 with log messages and subscriptions", async () => {
    const client = legacyClient();
    await client.connect(
      new V1StdioClientTransport({
        command: process.execPath,
        args: [BIN, "--sandbox"],
        env: childEnv(),
        cwd: ROOT,
      }),
    );
    try {
      expect(client.getServerVersion()?.name).toBe("posthog-notebooks-mcp");
      const capabilities = client.getServerCapabilities();
      expect(capabilities?.logging).toEqual({});
      expect(capabilities?.resources).toMatchObject({ subscribe: true, listChanged: true });
      const listed = await client.callTool({ name: "notebooks-list", arguments: { limit: 1 } });
      expect(listed.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });
});

describe("Streamable HTTP, either era on one endpoint", () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await startHttpServer(["--sandbox"]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("a v2 client negotiating gets 2026-07-28, answered request by request", async () => {
    const client = modernClient();
    const transport = new V2HttpClientTransport(new URL(server.url));
    await client.connect(transport);
    try {
      expect(client.getProtocolEra()).toBe("modern");
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      expect(transport.sessionId).toBeUndefined();
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain("notebooks-retrieve");
      const created = await client.callTool({ name: "notebooks-create", arguments: { title: "Modern era" } });
      expect(created.isError, TEXT_OF(created)).toBeFalsy();
      const shortId = (created.structuredContent as { short_id: string }).short_id;
      const read = await client.readResource({ uri: `posthog://notebooks/${shortId}/markdown` });
      expect(read.contents[0]?.uri).toBe(`posthog://notebooks/${shortId}/markdown`);
      // Cache hints that tell the truth: what depends on the key is private.
      const hints = (result: unknown) => {
        const { ttlMs, cacheScope } = result as { ttlMs?: unknown; cacheScope?: unknown };
        return { ttlMs, cacheScope };
      };
      expect(hints(await client.request({ method: "tools/list" } as never))).toEqual({
        ttlMs: 60_000,
        cacheScope: "private",
      });
      expect(hints(await client.request({ method: "resources/templates/list" } as never))).toEqual({
        ttlMs: 3_600_000,
        cacheScope: "public",
      });
      expect(hints(read)).toEqual({ ttlMs: 0, cacheScope: "private" });
      // Invalid params are -32602 over HTTP too, with no validation dump of the server's internals.
      await expect(client.request({ method: "resources/read", params: {} } as never)).rejects.toMatchObject({
        code: -32602,
      });
    } finally {
      await client.close();
    }
  });

  it("a v1 client gets 2025-11-25 in a session, with log messages and subscriptions", async () => {
    const client = legacyClient();
    const transport = new V1HttpClientTransport(new URL(server.url));
    await client.connect(transport);
    try {
      expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(transport.protocolVersion).toBe("2025-11-25");
      const capabilities = client.getServerCapabilities();
      expect(capabilities?.logging).toEqual({});
      expect(capabilities?.resources).toMatchObject({ subscribe: true, listChanged: true });
      await client.subscribeResource({ uri: "posthog://notebooks/anything" });
      await client.setLoggingLevel("info");
      const listed = await client.callTool({ name: "notebooks-list", arguments: { limit: 1 } });
      expect(listed.isError).toBeFalsy();
      // Invalid params are -32602 in this era too.
      await expect(client.setLoggingLevel("loud" as never)).rejects.toMatchObject({ code: -32602 });
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });
});

describe("Streamable HTTP --stateless (replicas)", () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await startHttpServer(["--sandbox", "--stateless"]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("serves both eras without sessions and advertises nothing it cannot deliver", async () => {
    const modern = modernClient();
    await modern.connect(new V2HttpClientTransport(new URL(server.url)));
    const legacy = legacyClient();
    const legacyTransport = new V1HttpClientTransport(new URL(server.url));
    await legacy.connect(legacyTransport);
    try {
      expect(modern.getProtocolEra()).toBe("modern");
      expect(legacyTransport.sessionId).toBeUndefined();
      for (const capabilities of [modern.getServerCapabilities(), legacy.getServerCapabilities()]) {
        expect(capabilities?.logging).toBeUndefined();
        expect(capabilities?.resources?.subscribe).toBeFalsy();
        expect(capabilities?.resources?.listChanged).toBeFalsy();
        expect(capabilities?.tools?.listChanged).toBeFalsy();
      }
      for (const client of [modern, legacy]) {
        const result = await client.callTool({ name: "notebooks-list", arguments: { limit: 1 } });
        expect(result.isError).toBeFalsy();
      }
    } finally {
      await modern.close();
      await legacy.close();
    }
  });
});
