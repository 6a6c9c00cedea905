// Packs the Claude Desktop bundle (MCPB): posthog-notebooks-mcp-<version>.mcpb, from dist/ (run
// `npm run bundle`, which builds first). The bundle holds only what runs: dist/ is one esbuild
// bundle with every dependency inside, so no node_modules; Claude Desktop starts it with its own
// Node and the user's settings (manifest.json's user_config) as environment variables.
//
// Before packing, manifest.json's version and tools and server.json's versions are brought in
// step with package.json and with the tools the built server lists (like `npm run docs` for the
// README's table). Flags: --out FILE (default: the repository root); --check to fail instead of
// rewriting a file that is out of step (what the tests use).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { packExtension } from "@anthropic-ai/mcpb";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const { values } = parseArgs({
  options: { out: { type: "string" }, check: { type: "boolean", default: false } },
});
const readJson = async (name) => JSON.parse(await readFile(join(root, name), "utf8"));
const pkg = await readJson("package.json");
const manifest = await readJson("manifest.json");
const server = await readJson("server.json");

/** name and description of every tool the built server lists (against its sandbox: all ten). */
async function serverTools() {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(root, "dist/index.js"), "--sandbox", "--log-level", "silent"],
    stderr: "ignore",
  });
  const client = new Client({ name: "bundle", version: pkg.version });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    return tools.map(({ name, description }) => ({ name, description }));
  } finally {
    await client.close();
  }
}

const synced = [];
const wantedManifest = { ...manifest, version: pkg.version, tools: await serverTools() };
if (JSON.stringify(wantedManifest) !== JSON.stringify(manifest))
  synced.push(["manifest.json", wantedManifest]);
const wantedServer = {
  ...server,
  version: pkg.version,
  packages: server.packages.map((p) => (p.registryType === "npm" ? { ...p, version: pkg.version } : p)),
};
if (JSON.stringify(wantedServer) !== JSON.stringify(server)) synced.push(["server.json", wantedServer]);
if (synced.length > 0) {
  const names = synced.map(([name]) => name).join(" and ");
  if (values.check) {
    process.stderr.write(
      `${names} out of step with package.json or the server's tools: run npm run bundle\n`,
    );
    process.exit(1);
  }
  for (const [name, data] of synced) await writeFile(join(root, name), `${JSON.stringify(data, null, 2)}\n`);
  // The repository's formatter has the last word on layout, so `npm run lint` stays clean.
  spawnSync(join(root, "node_modules/.bin/biome"), ["format", "--write", ...synced.map(([n]) => n)], {
    cwd: root,
    stdio: "ignore",
  });
  process.stderr.write(`${names} updated\n`);
}

// Stage exactly what the bundle holds, then let mcpb validate and pack it.
const stage = await mkdtemp(join(tmpdir(), "posthog-notebooks-mcpb-"));
try {
  await copyFile(join(root, "manifest.json"), join(stage, "manifest.json"));
  await copyFile(join(root, "icon.png"), join(stage, "icon.png"));
  await copyFile(join(root, "README.md"), join(stage, "README.md"));
  // dist/ is ESM: Node needs "type": "module" next to it.
  const { name, version, description, license, type, engines } = pkg;
  await writeFile(
    join(stage, "package.json"),
    `${JSON.stringify({ name, version, description, license, type, engines, private: true }, null, 2)}\n`,
  );
  const repoOnly = new Set(["dist/docs.js", "dist/sandbox"]);
  await cp(join(root, "dist"), join(stage, "dist"), {
    recursive: true,
    filter: (source) => {
      const path = relative(root, source).split("\\").join("/");
      return !path.endsWith(".map") && !repoOnly.has(path);
    },
  });
  const out = values.out ?? join(root, `${pkg.name}-${pkg.version}.mcpb`);
  if (!(await packExtension({ extensionPath: stage, outputPath: out, silent: true }))) {
    process.stderr.write("mcpb could not pack the bundle: run npx mcpb validate manifest.json\n");
    process.exit(1);
  }
  const bytes = await readFile(out);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const kb = ((await stat(out)).size / 1024).toFixed(0);
  process.stderr.write(`bundled ${relative(process.cwd(), out) || out}: ${kb} KB, sha256 ${sha256}\n`);
} finally {
  await rm(stage, { recursive: true, force: true });
}
