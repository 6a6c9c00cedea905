/**
 * The Claude Desktop bundle (MCPB): manifest.json passes the mcpb tool's own validation, declares
 * the tools the server really lists (names and descriptions), and the packed .mcpb runs the way
 * Claude Desktop runs it: unpacked into a folder with no node_modules anywhere above it, started
 * with the manifest's mcp_config after substituting ${__dirname} and the user's settings.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENVIRONMENT } from "../../src/config.js";
import { OPERATIONS } from "../../src/operations/index.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { assertBuilt, BIN, childEnv, ROOT } from "../helpers/binary.js";

const exec = promisify(execFile);
const MCPB = join(ROOT, "node_modules", "@anthropic-ai", "mcpb", "dist", "cli", "cli.js");
const KEY = "phx_bundleE2eKey0000000000000000000000000000000001";

interface Manifest {
  manifest_version: string;
  name: string;
  version: string;
  icon: string;
  server: {
    type: string;
    entry_point: string;
    mcp_config: { command: string; args: string[]; env: Record<string, string> };
  };
  tools: { name: string; description: string }[];
  user_config: Record<string, { type: string; sensitive?: boolean; required?: boolean; default?: string }>;
  compatibility: { runtimes: { node: string } };
}

/** MCPB's own placeholder syntax, `${…}`, written without tripping the template-string lint. */
const placeholder = (name: string) => `\${${name}}`;

const read = async (path: string) => JSON.parse(await readFile(join(ROOT, path), "utf8"));
let manifest: Manifest;
let work: string;
let sandbox: Sandbox;

beforeAll(async () => {
  assertBuilt();
  manifest = await read("manifest.json");
  work = await mkdtemp(join(tmpdir(), "posthog-notebooks-mcpb-"));
  sandbox = await startSandbox({ keys: [{ value: KEY, scopes: ["*"] }], rateLimit: false });
});

afterAll(async () => {
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function toolsOf(transport: StdioClientTransport) {
  const client = new Client({ name: "bundle-e2e", version: "1.0.0" });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    return tools.map(({ name, description }) => ({ name, description }));
  } finally {
    await client.close();
  }
}

const byName = <T extends { name: string }>(list: T[]) =>
  [...list].sort((a, b) => a.name.localeCompare(b.name));

describe("the Claude Desktop bundle", () => {
  it("has a manifest the mcpb tool validates", async () => {
    const { stdout } = await exec(process.execPath, [MCPB, "validate", "manifest.json"], { cwd: ROOT });
    expect(stdout).toContain("Manifest schema validation passes!");
    expect(stdout).not.toMatch(/ERROR/);
    expect(manifest.manifest_version).toBe("0.3");
    expect(manifest.version).toBe((await read("package.json")).version);
  });

  it("declares exactly the tools the server lists, with the server's descriptions", async () => {
    const served = await toolsOf(
      new StdioClientTransport({
        command: process.execPath,
        args: [BIN, "--sandbox"],
        env: childEnv(),
        stderr: "ignore",
      }),
    );
    expect(served).toHaveLength(OPERATIONS.length);
    // npm run bundle rewrites manifest.json's tools from the server when they change.
    expect(byName(manifest.tools)).toEqual(byName(served));
  });

  it("asks for the key as a secret, and for the host and project with PostHog's defaults", () => {
    expect(manifest.user_config.api_key).toMatchObject({ type: "string", sensitive: true, required: true });
    expect(manifest.user_config.host).toMatchObject({ default: "https://us.posthog.com", required: false });
    expect(manifest.user_config.project).toMatchObject({ default: "@current", required: false });
    const { mcp_config } = manifest.server;
    expect(manifest.server).toMatchObject({ type: "node", entry_point: "dist/index.js" });
    expect(mcp_config).toMatchObject({
      command: "node",
      args: [`${placeholder("__dirname")}/dist/index.js`],
    });
    expect(mcp_config.env).toEqual({
      POSTHOG_PERSONAL_API_KEY: placeholder("user_config.api_key"),
      POSTHOG_HOST: placeholder("user_config.host"),
      POSTHOG_PROJECT_ID: placeholder("user_config.project"),
      POSTHOG_MCP_READ_ONLY: placeholder("user_config.read_only"),
    });
    expect(manifest.user_config.read_only).toMatchObject({
      type: "boolean",
      default: false,
      required: false,
    });
    for (const name of Object.keys(mcp_config.env)) expect(Object.keys(ENVIRONMENT)).toContain(name);
  });

  it("packs into a .mcpb that runs from its own folder, without node_modules", async () => {
    const bundle = join(work, "posthog-notebooks-mcp.mcpb");
    // --check: fails instead of rewriting manifest.json or server.json when they are out of step.
    await exec(process.execPath, [join(ROOT, "scripts", "bundle.mjs"), "--check", "--out", bundle], {
      cwd: ROOT,
      env: childEnv(),
    });
    const size = (await stat(bundle)).size;
    expect(size).toBeLessThan(1024 * 1024);

    const installed = join(work, "installed");
    await exec(process.execPath, [MCPB, "unpack", bundle, installed], { cwd: work });
    const files = (await readdir(installed, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => relative(installed, join(entry.parentPath, entry.name)).split("\\").join("/"))
      .sort();
    for (const required of ["manifest.json", "icon.png", "package.json", "README.md", "dist/index.js"]) {
      expect(files).toContain(required);
    }
    const unexpected = files.filter(
      (f) =>
        ![
          "manifest.json",
          "icon.png",
          "package.json",
          "README.md",
          "dist/index.js",
          "dist/content-worker.js",
          "dist/body-worker.js",
          "dist/notebook-view.html",
        ].includes(f) && !/^dist\/chunks\/[\w-]+\.js(\.LEGAL\.txt)?$/.test(f),
    );
    expect(unexpected).toEqual([]);
    // Nothing to resolve packages from: not in the bundle, not in any folder above it.
    for (let dir = installed; dir !== dirname(dir); dir = dirname(dir)) {
      expect(existsSync(join(dir, "node_modules")), `${dir}/node_modules`).toBe(false);
    }

    // Started as Claude Desktop starts it: the manifest's command, ${__dirname} = the bundle's
    // folder, ${user_config.*} = what the user entered (here: the in-test sandbox and its key;
    // the project left at its default), and an environment without the developer's.
    const settings: Record<string, string> = {
      api_key: KEY,
      host: sandbox.url,
      project: manifest.user_config.project?.default ?? "",
      // A boolean setting reaches the server as the text Claude Desktop substitutes.
      read_only: "false",
    };
    const substitute = (value: string) =>
      value
        .replaceAll(placeholder("__dirname"), installed)
        .replace(/\$\{user_config\.(\w+)\}/g, (_m, name: string) => settings[name] ?? "");
    const { mcp_config } = manifest.server;
    const env = Object.fromEntries(Object.entries(mcp_config.env).map(([k, v]) => [k, substitute(v)]));
    expect(mcp_config.command).toBe("node");
    const served = await toolsOf(
      new StdioClientTransport({
        command: process.execPath,
        args: mcp_config.args.map(substitute),
        env: { PATH: process.env.PATH ?? "", ...env },
        cwd: work,
        stderr: "ignore",
      }),
    );
    expect(byName(served)).toEqual(byName(manifest.tools));
    expect(sandbox.requests.some((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
  });
});
