/**
 * test/conformance: a package of its own holding the official MCP conformance suite and Node 22
 * (the `node` package), which the root package cannot depend on (it would take over `node` in every
 * npm script). Installed on first use (`npm ci`, which needs the registry once), by one test file
 * at a time.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { childEnv, ROOT } from "./binary.js";

const exec = promisify(execFile);
export const SUITE = join(ROOT, "test", "conformance");
export const NODE22 = join(SUITE, "node_modules", "node", "bin", "node");
export const CLI = join(SUITE, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");

/** The suite and Node 22 are in test/conformance/node_modules, at the versions its package.json pins. */
async function installed(): Promise<boolean> {
  if (!existsSync(NODE22) || !existsSync(CLI)) return false;
  const pins = JSON.parse(await readFile(join(SUITE, "package.json"), "utf8")).dependencies;
  const version = async (name: string) =>
    JSON.parse(await readFile(join(SUITE, "node_modules", name, "package.json"), "utf8")).version;
  return (
    (await version("@modelcontextprotocol/conformance")) === pins["@modelcontextprotocol/conformance"] &&
    (await version("node")) === pins.node
  );
}

/** npm ci, without the settings of an npm that may be running this test for the root package. */
function npmEnv(): Record<string, string> {
  const env = childEnv({ npm_config_update_notifier: "false", npm_config_fund: "false" });
  for (const name of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|config_local_prefix$|config_offline$)/i.test(name)) delete env[name];
  }
  return env;
}

/** Held while one test file installs the package: the others wait (two `npm ci` at once clash). */
async function locked<T>(run: () => Promise<T>): Promise<T> {
  const lock = join(SUITE, ".install-lock");
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      // A lock left by a killed run (an install takes a minute or two) is taken over.
      const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (age > 600_000) await rm(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await run();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** The suite and Node 22, installed at the versions test/conformance/package.json pins. */
export function ensureSuite(): Promise<void> {
  return locked(async () => {
    if (await installed()) return;
    try {
      await exec("npm", ["ci", "--no-audit", "--loglevel=error"], {
        cwd: SUITE,
        env: npmEnv(),
        timeout: 300_000,
      });
    } catch (error) {
      const output = `${(error as { stderr?: string }).stderr ?? ""}\n${(error as Error).message}`;
      const offline =
        /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|ENOTCACHED|network/i.test(output);
      throw new Error(
        offline
          ? `The MCP conformance suite is not installed, and npm could not reach the registry to install it. Run \`npm ci\` in test/conformance once with network access (it installs @modelcontextprotocol/conformance and Node 22 there), then run the tests again.\n${output}`
          : `\`npm ci\` in test/conformance failed:\n${output}`,
      );
    }
    if (!existsSync(NODE22)) {
      throw new Error(
        `npm ci in test/conformance did not install Node 22 at ${NODE22}: the \`node\` package's preinstall script did not run (check allowScripts in test/conformance/package.json).`,
      );
    }
    if (!(await installed())) throw new Error("npm ci in test/conformance did not install the pinned suite");
  });
}
