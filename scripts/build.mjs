// Builds dist/: one minified ESM bundle per entry point, with the parts that only some runs need
// (Markdown conversion, the sandbox, doctor) split into chunks loaded on first use. Type-checking
// is `npm run typecheck` (part of `npm test`); this only bundles, so `npm install` stays fast.
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(await readFile(new URL("package.json", root), "utf8"));

/**
 * The SDK's server imports its ajv-based validator at load even when it is given another one
 * (src/server/index.ts gives its own: the server never elicits). Leaving ajv out of the bundle
 * saves its load time at every start; the stand-in fails loudly if anything ever constructs it.
 */
const withoutAjv = {
  name: "without-ajv",
  setup(b) {
    b.onResolve({ filter: /validation\/ajv-provider\.js$/ }, (args) => ({
      path: args.path,
      namespace: "without-ajv",
    }));
    b.onLoad({ filter: /.*/, namespace: "without-ajv" }, () => ({
      contents:
        "export class AjvJsonSchemaValidator { constructor() { throw new Error('ajv is not bundled: pass a jsonSchemaValidator'); } }",
      loader: "js",
    }));
  },
};

await rm(new URL("dist", root), { recursive: true, force: true });

// First, the tools' JSON Schemas, generated once here rather than at every start.
const scratch = await mkdtemp(join(tmpdir(), "posthog-notebooks-mcp-build-"));
let toolSchemas;
try {
  await build({
    absWorkingDir: root.pathname,
    stdin: {
      contents: 'export { generateToolSchemas } from "./src/server/tools.ts";',
      resolveDir: root.pathname,
      loader: "ts",
    },
    outfile: join(scratch, "schemas.mjs"),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20.18",
    banner: { js: "import{createRequire as __ccr}from'node:module';const require=__ccr(import.meta.url);" },
    plugins: [withoutAjv],
    logLevel: "warning",
  });
  const { generateToolSchemas } = await import(pathToFileURL(join(scratch, "schemas.mjs")).href);
  toolSchemas = generateToolSchemas();
} finally {
  await rm(scratch, { recursive: true, force: true });
}

const result = await build({
  absWorkingDir: root.pathname,
  entryPoints: { index: "src/index.ts", "sandbox/cli": "src/sandbox/cli.ts", docs: "src/docs.ts" },
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.18",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  metafile: true,
  define: { __PACKAGE_VERSION__: JSON.stringify(pkg.version), __TOOL_SCHEMAS__: JSON.stringify(toolSchemas) },
  // Bundled CommonJS dependencies (pino, undici) call require() for Node's own modules.
  banner: { js: "import{createRequire as __ccr}from'node:module';const require=__ccr(import.meta.url);" },
  logLevel: "warning",
  plugins: [withoutAjv],
});
for (const file of ["dist/index.js", "dist/sandbox/cli.js"]) await chmod(new URL(file, root), 0o755);

const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith(".js"));
const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KB`;
process.stderr.write(
  `built ${outputs.length} files: ${outputs.map(([name, o]) => `${name.replace("dist/", "")} ${kb(o.bytes)}`).join(", ")}\n`,
);
