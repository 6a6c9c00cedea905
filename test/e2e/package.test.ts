/**
 * What we publish is what we test: the package is packed (`npm pack`, from the dist/ that
 * `npm test` just built), installed from the tarball into an empty folder with `npm install
 * --offline` (dependencies come from the npm cache; the registry is never asked), and started the
 * way users start it: its bin, through a real MCP client.
 *
 * Then every client configuration in examples/ and mcp.json (the README shows the same text) is
 * launched as its client would: from an empty folder outside the repository, variables expanded
 * by that client's rules, the example's placeholder key replaced by the in-test sandbox's key
 * (what the user pastes) and POSTHOG_HOST pointed at the sandbox. Their command is the one that
 * `npm install -g .` in the clone puts on the PATH (done here into a prefix of the test's own), or
 * `node` with the clone's absolute path (examples/from-clone.json).
 *
 * The same configurations once published (docs/once-published.md, generated from examples/) run
 * `npx -y posthog-notebooks-mcp`: those are run as is, from the folder where the tarball was
 * installed and with npm offline, so npx finds the package in that folder's node_modules and runs
 * its bin: `npx -y posthog-notebooks-mcp` means exactly "the packed package" here, without any
 * download.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENVIRONMENT, FLAGS } from "../../src/config.js";
import { publishedExample } from "../../src/docs.js";
import { OPERATIONS } from "../../src/operations/index.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { assertBuilt, childEnv, ROOT } from "../helpers/binary.js";

const exec = promisify(execFile);
const KEY = "phx_examplesE2eKey000000000000000000000000000001";
const PLACEHOLDER = "phx_your_personal_api_key";
const TOOL_NAMES = OPERATIONS.map((o) => o.name).sort();
const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
};

let work: string;
let app: string;
/** An empty folder outside the repository: where clients start the configured command. */
let outside: string;
/** PATH with the bin folder of `npm install -g .` (a global prefix of the test's own) in front. */
let installedPath: string;
let bin: string;
let packed: { filename: string; files: { path: string; mode: number }[]; size: number };
let sandbox: Sandbox;
let keys = 0;

/** npm, never allowed to reach a registry. */
const npmEnv = () => childEnv({ npm_config_offline: "true", npm_config_update_notifier: "false" });

beforeAll(async () => {
  assertBuilt();
  sandbox = await startSandbox({ keys: [{ value: KEY, scopes: ["*"] }], rateLimit: false });
  work = await mkdtemp(join(tmpdir(), "posthog-notebooks-package-"));
  // --ignore-scripts: dist/ is already built; `prepare` would rebuild it under the other tests' feet.
  const pack = await exec("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], {
    cwd: ROOT,
    env: npmEnv(),
  });
  [packed] = JSON.parse(pack.stdout);
  app = join(work, "app");
  await mkdir(app);
  await writeFile(join(app, "package.json"), '{ "name": "consumer", "private": true }\n');
  try {
    await exec(
      "npm",
      ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", join(work, packed.filename)],
      { cwd: app, env: npmEnv() },
    );
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? error);
    if (!stderr.includes("ENOTCACHED")) throw error;
    throw new Error(
      `npm install --offline found the package's dependencies' metadata missing from the npm cache; this test never asks the registry. Fill it once, online: npm pack, then npm install <the .tgz> in an empty folder.\n${stderr}`,
    );
  }
  bin = join(app, "node_modules", ".bin", pkg.name);
  // `npm install -g .` as the README says, run in the clone, into a global prefix of the test's own.
  const prefix = join(work, "global");
  await exec("npm", ["install", "-g", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", "."], {
    cwd: ROOT,
    env: { ...npmEnv(), npm_config_prefix: prefix },
  });
  installedPath = `${join(prefix, "bin")}:${process.env.PATH ?? ""}`;
  outside = join(work, "elsewhere");
  await mkdir(outside);
}, 300_000);

afterAll(async () => {
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function connect(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd = app,
): Promise<Client> {
  const transport = new StdioClientTransport({ command, args, env, cwd, stderr: "pipe" });
  const client = new Client({ name: "package-e2e", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

describe("the npm package", () => {
  it("holds only what runs: the bundle, its chunks and licences, the notebook view, the README and LICENSE", () => {
    const paths = packed.files.map((f) => f.path).sort();
    expect(paths).toContain("package.json");
    expect(paths).toContain("README.md");
    expect(paths).toContain("dist/index.js");
    const unexpected = paths.filter(
      (p) =>
        ![
          "package.json",
          "README.md",
          "LICENSE",
          "dist/index.js",
          "dist/content-worker.js",
          "dist/body-worker.js",
          "dist/notebook-view.html",
        ].includes(p) && !/^dist\/chunks\/[\w-]+\.js(\.LEGAL\.txt)?$/.test(p),
    );
    expect(unexpected).toEqual([]);
    expect(packed.size).toBeLessThan(1024 * 1024);
  });

  it("installs with a bin that has a shebang and is executable", async () => {
    const entry = join(app, "node_modules", pkg.name, "dist", "index.js");
    expect((await readFile(entry, "utf8")).split("\n")[0]).toBe("#!/usr/bin/env node");
    expect((await stat(entry)).mode & 0o111).not.toBe(0);
    const version = await exec(bin, ["--version"], { env: childEnv() });
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it("documents every command, flag and environment variable in --help", async () => {
    const { stdout } = await exec(bin, ["--help"], { env: childEnv() });
    expect(stdout).toContain(`posthog-notebooks-mcp ${pkg.version}`);
    expect(stdout).toContain("posthog-notebooks-mcp doctor");
    for (const flag of Object.keys(FLAGS)) expect(stdout).toContain(flag);
    for (const name of Object.keys(ENVIRONMENT)) expect(stdout).toContain(name);
  });

  it("serves every tool to a real MCP client with --sandbox", async () => {
    const client = await connect(bin, ["--sandbox"], childEnv());
    try {
      expect(client.getServerVersion()).toMatchObject({ name: pkg.name, version: pkg.version });
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(TOOL_NAMES);
      const created = await client.callTool({
        name: "notebooks-create",
        arguments: { markdown: "# From the tarball\n\nIt works." },
      });
      expect(created.isError).toBeFalsy();
      const listed = await client.callTool({ name: "notebooks-list", arguments: { search: "tarball" } });
      expect(JSON.stringify(listed.structuredContent)).toContain("From the tarball");
    } finally {
      await client.close();
    }
  });

  it("runs doctor --sandbox, every check passing", async () => {
    const { stdout } = await exec(bin, ["doctor", "--sandbox"], { env: childEnv() });
    expect(stdout).toMatch(/^✓ configuration/);
    expect(stdout).toContain("All checks passed");
    expect(stdout).not.toContain("✗");
  });
});

// ---------------------------------------------------------------------------------------------
// examples/: each client's configuration, launched the way that client launches it
// ---------------------------------------------------------------------------------------------

interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

interface ServerEntry {
  type?: string;
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

/** The environment the user's client runs in: the key exported, POSTHOG_HOST at the sandbox. */
const shell = () => ({ POSTHOG_PERSONAL_API_KEY: KEY, POSTHOG_HOST: sandbox.url });

/** Applies `expand` to the command, each argument and each env value, as the clients do. */
function launch(entry: ServerEntry, expand: (value: string) => string): Launch {
  return {
    command: expand(entry.command),
    args: (entry.args ?? []).map(expand),
    env: Object.fromEntries(Object.entries(entry.env ?? {}).map(([k, v]) => [k, expand(v)])),
  };
}

/** Claude Code (`.mcp.json`): `${VAR}` and `${VAR:-default}` from its environment. */
function claudeCodeExpand(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
    const found = (shell() as Record<string, string>)[name] ?? fallback;
    if (found === undefined) throw new Error(`Claude Code would fail: \${${name}} is not set`);
    return found;
  });
}

/** Cursor: `${env:NAME}` from its environment. */
function cursorExpand(value: string): string {
  return value.replace(/\$\{env:([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    const found = (shell() as Record<string, string>)[name];
    if (found === undefined) throw new Error(`Cursor would leave \${env:${name}} empty`);
    return found;
  });
}

/** `claude mcp add [--transport T] [--scope S] [--env K=V]… <name> -- <command> [args…]` */
function parseClaudeMcpAdd(line: string): { name: string; entry: ServerEntry } {
  const words = line.trim().split(/\s+/);
  expect(words.slice(0, 3)).toEqual(["claude", "mcp", "add"]);
  const env: Record<string, string> = {};
  let i = 3;
  let name: string | undefined;
  for (; i < words.length && words[i] !== "--"; i++) {
    const word = words[i] ?? "";
    if (word === "--transport") expect(words[++i]).toBe("stdio");
    else if (word === "--scope") expect(["local", "project", "user"]).toContain(words[++i]);
    else if (word === "--env") {
      const [k, ...v] = (words[++i] ?? "").split("=");
      env[k ?? ""] = v.join("=");
    } else if (word.startsWith("-")) throw new Error(`unknown option ${word} in: ${line}`);
    else if (name === undefined) name = word;
    else throw new Error(`options must come before the name (Claude Code's rule): ${line}`);
  }
  const [command, ...args] = words.slice(i + 1);
  if (!name || !command) throw new Error(`not a complete claude mcp add line: ${line}`);
  return { name, entry: { command, args, env } };
}

const readExample = async (file: string) => readFile(join(ROOT, "examples", file), "utf8");
/** The example as docs/once-published.md shows it (npx), or as it is when npx does not appear. */
const readPublished = async (file: string) => publishedExample(file, await readExample(file)) ?? "";
const single = (servers: Record<string, ServerEntry>): ServerEntry => {
  const entries = Object.values(servers);
  expect(entries).toHaveLength(1);
  return entries[0] as ServerEntry;
};

type Read = (file: string) => Promise<string>;

/** Each example as its client would launch it, before the user's key and host are filled in. */
const CLIENTS: [string, (read: Read) => Promise<Launch[]>][] = [
  [
    "Claude Desktop (claude_desktop_config.json)",
    async (read) => [launch(single(JSON.parse(await read("claude-desktop.json")).mcpServers), (v) => v)],
  ],
  [
    "Claude Code (.mcp.json)",
    async (read) => {
      const entry = single(JSON.parse(await read("claude-code.mcp.json")).mcpServers);
      expect(entry.type).toBe("stdio");
      return [launch(entry, claudeCodeExpand)];
    },
  ],
  [
    "Claude Code (claude mcp add)",
    async (read) =>
      (await read("claude-code.sh"))
        .split("\n")
        .filter((line) => line.startsWith("claude "))
        .map((line) => launch(parseClaudeMcpAdd(line).entry, (v) => v)),
  ],
  [
    "VS Code (.vscode/mcp.json)",
    async (read) => {
      const config = JSON.parse(await read("vscode.mcp.json")) as {
        inputs: { type: string; id: string; password?: boolean }[];
        servers: Record<string, ServerEntry>;
      };
      const entry = single(config.servers);
      expect(entry.type).toBe("stdio");
      // VS Code prompts for each ${input:…} once; the key's prompt must hide what is typed.
      return [
        launch(entry, (value) =>
          value.replace(/\$\{input:([\w-]+)\}/g, (_m, id: string) => {
            const input = config.inputs.find((i) => i.id === id);
            expect(input).toMatchObject({ type: "promptString", password: true });
            return KEY;
          }),
        ),
      ];
    },
  ],
  [
    "Cursor (.cursor/mcp.json)",
    async (read) => [launch(single(JSON.parse(await read("cursor.mcp.json")).mcpServers), cursorExpand)],
  ],
  [
    "any client, sandbox (examples/sandbox.json)",
    async (read) => [launch(single(JSON.parse(await read("sandbox.json")).mcpServers), (v) => v)],
  ],
];

/**
 * Starts one configuration with the user's part filled in (their key instead of the placeholder,
 * POSTHOG_HOST at the sandbox) and checks that it serves every tool, with that key.
 */
async function startsAndAnswers(config: Launch, env: Record<string, string>, cwd: string): Promise<void> {
  const sandboxMode = config.args.includes("--sandbox");
  const configured = { ...config.env };
  expect(JSON.stringify(configured)).not.toContain("${");
  // Never a real key in the examples: the placeholder, or the key the user's environment holds.
  const key = `phx_examplesE2eLaunch${String(++keys).padStart(26, "0")}`;
  if (!sandboxMode) {
    expect([PLACEHOLDER, "phx_replace_with_your_personal_api_key", KEY]).toContain(
      configured.POSTHOG_PERSONAL_API_KEY,
    );
    sandbox.addKey({ value: key, scopes: ["*"] });
    configured.POSTHOG_PERSONAL_API_KEY = key;
    configured.POSTHOG_HOST = sandbox.url;
  }
  const client = await connect(config.command, config.args, { ...env, ...configured }, cwd);
  try {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOL_NAMES);
    const listed = await client.callTool({ name: "notebooks-list", arguments: {} });
    expect(listed.isError).toBeFalsy();
  } finally {
    await client.close();
  }
  if (!sandboxMode) {
    const mine = sandbox.requests.filter((r) => r.headers.authorization === `Bearer ${key}`);
    expect(mine.length).toBeGreaterThan(0);
  }
}

describe("the client configurations in examples/, from a folder outside the repository", () => {
  it.concurrent.for(CLIENTS)(
    "%s starts the command `npm install -g .` installed, and lists its tools",
    { timeout: 300_000 },
    async ([, configs]) => {
      for (const config of await configs(readExample)) {
        expect(config.command).toBe(pkg.name);
        expect(config.args).not.toContain(pkg.name);
        await startsAndAnswers(config, { ...childEnv({ PATH: installedPath }) }, outside);
      }
    },
  );

  it("examples/from-clone.json starts dist/index.js by its absolute path, with nothing installed", async () => {
    const text = await readExample("from-clone.json");
    expect(text).toContain("/path/to/posthog-notebooks-mcp/dist/index.js");
    const entry = single(
      JSON.parse(text.replaceAll("/path/to/posthog-notebooks-mcp", ROOT.replace(/\/$/, ""))).mcpServers,
    );
    expect(entry.command).toBe("node");
    await startsAndAnswers(
      launch(entry, (v) => v),
      childEnv(),
      outside,
    );
  }, 300_000);

  it("mcp.json starts both of its servers, whatever folder the client starts it in", async () => {
    const servers = JSON.parse(await readFile(join(ROOT, "mcp.json"), "utf8")).mcpServers as Record<
      string,
      ServerEntry
    >;
    expect(Object.keys(servers)).toEqual(["posthog-notebooks", "posthog-notebooks-sandbox"]);
    for (const entry of Object.values(servers)) {
      expect(entry.command).toBe(pkg.name);
      await startsAndAnswers(
        launch(entry, (v) => v),
        childEnv({ PATH: installedPath }),
        outside,
      );
    }
  }, 300_000);
});

describe("the same configurations once published (docs/once-published.md)", () => {
  it.concurrent.for(CLIENTS)(
    "%s starts npx -y posthog-notebooks-mcp, here the packed package",
    { timeout: 300_000 },
    async ([, configs]) => {
      for (const config of await configs(readPublished)) {
        expect(config.command).toBe("npx");
        expect(config.args.slice(0, 2)).toEqual(["-y", pkg.name]);
        await startsAndAnswers(config, npmEnv(), app);
      }
    },
  );
});
