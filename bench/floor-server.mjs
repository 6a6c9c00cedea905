#!/usr/bin/env node
// The floor for cold start and per-call overhead: the smallest MCP stdio server built the obvious
// way with the official SDK (McpServer + registerTool with a zod input schema + StdioServerTransport),
// one trivial tool, no network, no logging. Whatever our server costs above this is ours.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "floor", version: "1.0.0" });
server.registerTool(
  "echo",
  {
    title: "Echo",
    description: "Returns its input.",
    inputSchema: { text: z.string().describe("Text to return.") },
  },
  async ({ text }) => ({ content: [{ type: "text", text }] }),
);
await server.connect(new StdioServerTransport());
// Die with the bench: the SDK's transport does not exit when stdin closes.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
