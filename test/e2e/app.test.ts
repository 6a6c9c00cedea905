/**
 * The notebook view from the built binary over stdio, in both eras: a 2026-07-28 client that
 * declares the MCP Apps extension (in each request's envelope) and a 2025 client that declares it
 * at initialize see the links and read the view's page from beside the bundle; a client without it
 * sees none of it.
 */
import { Client as V2Client } from "@modelcontextprotocol/client";
import { StdioClientTransport as V2StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as V1StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { describe, expect, it } from "vitest";
import { BIN, childEnv, ROOT } from "../helpers/binary.js";

const VIEW_URI = "ui://posthog-notebooks/notebook.html";
const extensions = { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } };
const stdio = { command: process.execPath, args: [BIN, "--sandbox"], env: childEnv(), cwd: ROOT };

describe("the notebook view from the built server", () => {
  it("is linked and served to a 2026-07-28 client that renders apps", async () => {
    const client = new V2Client(
      { name: "app-v2", version: "1.0.0" },
      { capabilities: { extensions }, versionNegotiation: { mode: "auto" } },
    );
    await client.connect(new V2StdioClientTransport(stdio));
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      const { tools } = await client.listTools();
      const retrieve = tools.find((tool) => tool.name === "notebooks-retrieve");
      expect(retrieve?._meta).toMatchObject({ ui: { resourceUri: VIEW_URI } });
      expect(tools.map((tool) => tool.name)).toContain("notebook-view-save");
      const read = await client.readResource({ uri: VIEW_URI });
      const page = read.contents[0] as { mimeType?: string; text?: string };
      expect(page.mimeType).toBe("text/html;profile=mcp-app");
      expect(page.text).toContain("posthog-notebook-view");
    } finally {
      await client.close();
    }
  });

  it("is linked for a 2025 client that declared the extension, and absent for one that did not", async () => {
    for (const declared of [true, false]) {
      const client = new V1Client(
        { name: "app-v1", version: "1.0.0" },
        { capabilities: declared ? { extensions } : {} },
      );
      await client.connect(new V1StdioClientTransport(stdio));
      try {
        const { tools } = await client.listTools();
        const linked = tools.filter((tool) => tool._meta !== undefined).map((tool) => tool.name);
        expect(linked.length, `declared: ${declared}`).toBe(declared ? 6 : 0);
      } finally {
        await client.close();
      }
    }
  });
});
