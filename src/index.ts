#!/usr/bin/env node
/**
 * posthog-notebooks-mcp: serve PostHog Notebooks to MCP clients over stdio.
 * stdout carries JSON-RPC only; everything a person reads goes to stderr.
 */
import { writeSync } from "node:fs";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createApp } from "./app.js";
import { ConfigError, helpText, loadConfig } from "./config.js";
import { VERSION } from "./version.js";

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`posthog-notebooks-mcp: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // --help and --version answer a person at a terminal, not an MCP client: stdout is theirs.
  if (config.command === "help") return void writeSync(1, helpText(VERSION));
  if (config.command === "version") return void writeSync(1, `${VERSION}\n`);

  const app = await createApp(config);
  const transport = new StdioServerTransport();
  let stopping = false;
  const stop = async (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ why }, "shutting down");
    const timer = setTimeout(() => process.exit(code), 3_000);
    timer.unref();
    await app.close();
    process.exit(code);
  };
  process.stdin.on("end", () => void stop("stdin closed"));
  process.stdin.on("close", () => void stop("stdin closed"));
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  transport.onclose = () => void stop("transport closed");
  await app.server.connect(transport);

  const where = app.config.mode === "sandbox" ? `the local sandbox at ${app.config.host}` : app.config.host;
  app.logger.info(
    { version: VERSION, upstream: where, readOnly: app.config.readOnly },
    "serving MCP over stdio",
  );
  if (process.stdin.isTTY) {
    process.stderr.write(
      [
        "",
        `posthog-notebooks-mcp ${VERSION} is serving PostHog Notebooks (${where}) over stdio.`,
        "It speaks JSON-RPC on stdin/stdout, so it is meant to be started by an MCP client, not typed at.",
        'Add it to your client, e.g. {"mcpServers": {"posthog-notebooks": {"command": "npx", "args": ["-y", "posthog-notebooks-mcp", "--sandbox"]}}}',
        "See mcp.json and README.md for Claude Desktop, Claude Code, VS Code and Cursor. Press Ctrl+C to stop.",
        "",
      ].join("\n"),
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `posthog-notebooks-mcp: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
