/**
 * A server under test: the sandbox on 127.0.0.1 as PostHog, the app built from a real Config, and
 * the SDK's Client connected over InMemoryTransport.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult, ClientCapabilities } from "@modelcontextprotocol/sdk/types.js";
import pino from "pino";
import { type App, type AppOptions, createApp } from "../../src/app.js";
import type { Config, ProjectId } from "../../src/config.js";
import {
  type RecordedRequest,
  type Sandbox,
  type SandboxKeyInit,
  type SandboxOptions,
  startSandbox,
} from "../../src/sandbox/index.js";
import { fencedDocument } from "./results.js";

export interface HarnessOptions {
  /** The key the server uses; default: the sandbox's full-scope key. */
  key?: SandboxKeyInit;
  readOnly?: boolean;
  projectId?: ProjectId;
  sandbox?: SandboxOptions;
  /** An already running sandbox to point at (it is not closed by the harness). */
  upstream?: Sandbox;
  config?: Partial<Config>;
  app?: AppOptions;
  /** The capabilities the client declares (default: none). */
  capabilities?: ClientCapabilities;
}

export interface Harness {
  sandbox: Sandbox;
  app: App;
  client: Client;
  key: string;
  /** tools/call, returning the result (never throws for tool errors). */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Requests the sandbox received since the last `mark()`, without the key introspection. */
  upstream(): RecordedRequest[];
  mark(): void;
  toolNames(): Promise<string[]>;
  notifications: string[];
  close(): Promise<void>;
}

export function testConfig(host: string, apiKey: string, overrides: Partial<Config> = {}): Config {
  return {
    mode: "posthog",
    apiKey,
    host,
    projectId: "@current",
    readOnly: false,
    logLevel: "silent",
    allowInsecureHttp: false,
    timeouts: { connect: 2_000, headers: 5_000, body: 5_000 },
    maxResultChars: 80_000,
    sandboxStateFile: undefined,
    command: "serve",
    ...overrides,
  };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const sandbox =
    options.upstream ??
    (await startSandbox({
      rateLimit: false,
      ...options.sandbox,
      ...(options.key ? { keys: [options.key] } : {}),
    }));
  const key = options.key?.value ?? sandbox.defaultKey;
  const config = testConfig(sandbox.url, key, {
    readOnly: options.readOnly ?? false,
    projectId: options.projectId ?? "@current",
    ...options.config,
  });
  const app = await createApp(config, { logger: pino({ level: "silent" }), ...options.app });
  const client = new Client(
    { name: "harness", version: "1.0.0" },
    { capabilities: options.capabilities ?? {} },
  );
  const notifications: string[] = [];
  client.fallbackNotificationHandler = async (notification) => {
    notifications.push(notification.method);
  };
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await Promise.all([app.connect(serverTransport), client.connect(clientTransport)]);
  let start = sandbox.requests.length;
  return {
    sandbox,
    app,
    client,
    key,
    notifications,
    async call(name, args = {}) {
      return (await client.callTool({ name, arguments: args })) as CallToolResult;
    },
    upstream() {
      return sandbox.requests.slice(start).filter((r) => !r.path.startsWith("/api/personal_api_keys/"));
    },
    mark() {
      start = sandbox.requests.length;
    },
    async toolNames() {
      const { tools } = await client.listTools();
      return tools.map((t) => t.name).sort();
    },
    async close() {
      await client.close();
      await app.close();
      if (!options.upstream) await sandbox.close();
    },
  };
}

/** The text of a tool result's first content block. */
export function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first && first.type === "text" ? first.text : "";
}

export function structured<T = Record<string, unknown>>(result: CallToolResult): T {
  if (result.isError) throw new Error(`expected success, got error: ${textOf(result)}`);
  return result.structuredContent as T;
}

/** notebooks-retrieve's result, with the Markdown it shows (fenced in its text block) as `markdown`. */
export async function retrieve<T extends object>(
  h: Harness,
  args: Record<string, unknown>,
): Promise<T & { markdown: string }> {
  const result = await h.call("notebooks-retrieve", args);
  const data = structured<T>(result);
  return { ...data, markdown: fencedDocument(textOf(result)) ?? "" };
}
