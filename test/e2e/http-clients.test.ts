/**
 * The HTTP client configurations in examples/ (the README shows the same text), used the way each
 * client uses them, against the built server in Streamable HTTP mode: `node dist/index.js --http
 * --port 0` in PostHog mode, POSTHOG_HOST at an in-process sandbox.
 *
 * Each example's variables are expanded by that client's rules (the shell for `claude mcp add`,
 * `${input:…}` for VS Code, `${env:…}` for Cursor), with one of the sandbox's keys where the user's
 * key goes (a new key per client, to know its requests from the others'), and the example's port
 * (8787) replaced by the one the server picked. Then a real MCP client connects over Streamable
 * HTTP with the example's headers, lists the tools, calls notebooks-list, and the sandbox must have
 * seen that key.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS } from "../../src/operations/index.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { childEnv, ROOT } from "../helpers/binary.js";
import { connectHttp, type HttpServer, startHttpServer } from "../helpers/http-server.js";

const exec = promisify(execFile);
const TOOL_NAMES = OPERATIONS.map((o) => o.name).sort();
const EXAMPLE_URL = "http://127.0.0.1:8787/mcp";
const PLACEHOLDER = "phx_your_personal_api_key";

let sandbox: Sandbox;
let server: HttpServer;
/** `--http --sandbox`, for the examples that need no key; started on first use. */
let sandboxServer: Promise<HttpServer> | undefined;
let keys = 0;

beforeAll(async () => {
  sandbox = await startSandbox({ rateLimit: false });
  server = await startHttpServer([], childEnv({ POSTHOG_HOST: sandbox.url }));
}, 120_000);

afterAll(async () => {
  await Promise.all([server?.stop(), sandboxServer?.then((s) => s.stop())]);
  await sandbox?.close();
});

/** What a client would use: the endpoint and the headers it sends on every request. */
interface HttpEntry {
  url: string;
  headers: Record<string, string>;
}

/** A key of the sandbox's, new for each use. */
function newKey(): string {
  const key = `phx_httpExamples${String(++keys).padStart(31, "0")}`;
  sandbox.addKey({ value: key, scopes: ["*"] });
  return key;
}

const readExample = async (file: string) => readFile(join(ROOT, "examples", file), "utf8");
const single = <T>(servers: Record<string, T>): T => {
  const entries = Object.values(servers);
  expect(entries).toHaveLength(1);
  return entries[0] as T;
};
const expandHeaders = (headers: Record<string, string> | undefined, expand: (v: string) => string) =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, expand(value)]));

/**
 * Each `claude …` line of a shell example, as the shell hands it to `claude`: bash runs the file
 * with `claude` defined as a function that prints its arguments, so quoting and `${VAR}` are
 * expanded by bash itself, in an environment where the user's key is exported.
 */
async function claudeInvocations(file: string, env: Record<string, string>): Promise<string[][]> {
  const script = 'claude() { printf "%s\\037" "$@"; printf "\\036"; }; set -u; . "$1"';
  const { stdout } = await exec("bash", ["-c", script, "bash", join(ROOT, "examples", file)], {
    env: childEnv(env),
  });
  return stdout
    .split("\x1e")
    .filter(Boolean)
    .map((line) => line.split("\x1f").slice(0, -1));
}

/** `claude mcp add --transport http [--scope S] <name> <url> [--header "Name: value"]…` */
function parseClaudeMcpAddHttp(words: string[]): { name: string; entry: HttpEntry } {
  expect(words.slice(0, 2)).toEqual(["mcp", "add"]);
  const headers: Record<string, string> = {};
  const positional: string[] = [];
  let transport: string | undefined;
  for (let i = 2; i < words.length; i++) {
    const word = words[i] ?? "";
    if (word === "--transport" || word === "-t") transport = words[++i];
    else if (word === "--scope" || word === "-s") expect(["local", "project", "user"]).toContain(words[++i]);
    else if (word === "--header" || word === "-H") {
      const header = words[++i] ?? "";
      const colon = header.indexOf(":");
      expect(colon, `a header is "Name: value": ${header}`).toBeGreaterThan(0);
      headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
    } else if (word.startsWith("-")) throw new Error(`unknown option ${word} in: claude ${words.join(" ")}`);
    else positional.push(word);
  }
  expect(transport).toBe("http");
  const [name, url, ...rest] = positional;
  expect(rest).toEqual([]);
  if (!name || !url) throw new Error(`not a complete claude mcp add line: claude ${words.join(" ")}`);
  return { name, entry: { url, headers } };
}

interface Use {
  entry: HttpEntry;
  /** The key the user's part put in the headers; undefined for a sandbox entry (no key). */
  key: string | undefined;
}

/** Each example, as its client would send it, with the user's key filled in. */
const CLIENTS: [string, () => Promise<Use[]>][] = [
  [
    "Claude Code (claude mcp add --transport http)",
    async () => {
      const key = newKey();
      const uses: Use[] = [];
      for (const words of await claudeInvocations("claude-code-http.sh", { POSTHOG_PERSONAL_API_KEY: key })) {
        const { entry } = parseClaudeMcpAddHttp(words);
        const withKey = Object.keys(entry.headers).length > 0;
        if (withKey) {
          // The shell expanded ${POSTHOG_PERSONAL_API_KEY}; a placeholder would be the user's to replace.
          if (entry.headers.Authorization === `Bearer ${PLACEHOLDER}`)
            entry.headers.Authorization = `Bearer ${key}`;
          expect(entry.headers).toEqual({ Authorization: `Bearer ${key}` });
        }
        uses.push({ entry, key: withKey ? key : undefined });
      }
      // Your PostHog with your key, then the sandbox with none.
      expect(uses.map((use) => use.key !== undefined)).toEqual([true, false]);
      return uses;
    },
  ],
  [
    "VS Code (.vscode/mcp.json, type http)",
    async () => {
      const config = JSON.parse(await readExample("vscode-http.mcp.json")) as {
        inputs: { type: string; id: string; password?: boolean }[];
        servers: Record<string, HttpEntry & { type: string }>;
      };
      const { type, url, headers } = single(config.servers);
      expect(type).toBe("http");
      const key = newKey();
      // VS Code prompts for each ${input:…} once; the key's prompt must hide what is typed.
      const expanded = expandHeaders(headers, (value) =>
        value.replace(/\$\{input:([\w-]+)\}/g, (_m, id: string) => {
          const input = config.inputs.find((i) => i.id === id);
          expect(input).toMatchObject({ type: "promptString", password: true });
          return key;
        }),
      );
      return [{ entry: { url, headers: expanded }, key }];
    },
  ],
  [
    "Cursor (.cursor/mcp.json, url)",
    async () => {
      const { url, headers } = single(
        (JSON.parse(await readExample("cursor-http.mcp.json")) as { mcpServers: Record<string, HttpEntry> })
          .mcpServers,
      );
      const key = newKey();
      const shell: Record<string, string> = { POSTHOG_PERSONAL_API_KEY: key };
      // Cursor: ${env:NAME} from its environment.
      const expanded = expandHeaders(headers, (value) =>
        value.replace(/\$\{env:([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
          const found = shell[name];
          if (found === undefined) throw new Error(`Cursor would leave \${env:${name}} empty`);
          return found;
        }),
      );
      return [{ entry: { url, headers: expanded }, key }];
    },
  ],
];

/** The example's URL with the port the server picked. */
function atPort(url: string, port: number): string {
  expect(url).toBe(EXAMPLE_URL);
  const moved = new URL(url);
  moved.port = String(port);
  return moved.href;
}

describe("the HTTP client configurations in examples/", () => {
  it.for(CLIENTS)("%s connects, lists the tools and lists notebooks with the key", async ([, uses]) => {
    for (const { entry, key } of await uses()) {
      expect(JSON.stringify(entry.headers)).not.toContain("${");
      if (!key) sandboxServer ??= startHttpServer(["--sandbox"]);
      const target = key ? server : await (sandboxServer as Promise<HttpServer>);
      const { client, close } = await connectHttp(atPort(entry.url, target.port), entry.headers);
      try {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(TOOL_NAMES);
        const listed = await client.callTool({ name: "notebooks-list", arguments: {} });
        expect(listed.isError, JSON.stringify(listed.content)).toBeFalsy();
      } finally {
        await close();
      }
      if (key) {
        const mine = sandbox.requests.filter((r) => r.headers.authorization === `Bearer ${key}`);
        expect(mine.length).toBeGreaterThan(0);
        expect(mine.some((r) => r.path.includes("/notebooks"))).toBe(true);
      }
    }
  });

  it("answers a request without Authorization with 401 and WWW-Authenticate", async () => {
    const before = sandbox.requests.length;
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-11-25",
          capabilities: {},
          clientInfo: { name: "no-key", version: "1" },
        },
      }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    await response.body?.cancel();
    expect(sandbox.requests.length).toBe(before);
  });
});
