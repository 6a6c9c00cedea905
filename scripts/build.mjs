// Builds dist/: one minified ESM bundle per entry point, with the parts that only some runs need
// (Markdown conversion, the sandbox, doctor) split into chunks loaded on first use. Type-checking
// is `npm run typecheck` (part of `npm test`); this only bundles, so `npm install` stays fast.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { buildView } from "./build-view.mjs";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(await readFile(new URL("package.json", root), "utf8"));

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
    logLevel: "warning",
  });
  const { generateToolSchemas } = await import(pathToFileURL(join(scratch, "schemas.mjs")).href);
  toolSchemas = generateToolSchemas();
} finally {
  await rm(scratch, { recursive: true, force: true });
}

// The notebook view (an MCP App): one HTML page, fixed into the server and kept beside it.
const viewHtml = await buildView();

const result = await build({
  absWorkingDir: root.pathname,
  entryPoints: {
    index: "src/index.ts",
    "content-worker": "src/content/worker.ts",
    "body-worker": "src/server/body-worker.ts",
    "sandbox/cli": "src/sandbox/cli.ts",
    docs: "src/docs.ts",
  },
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
  define: {
    __PACKAGE_VERSION__: JSON.stringify(pkg.version),
    __TOOL_SCHEMAS__: JSON.stringify(toolSchemas),
    // Read on first use from beside the bundle (dist/chunks/ → dist/), not parsed at every start.
    __NOTEBOOK_VIEW_FILE__: JSON.stringify("../notebook-view.html"),
  },
  // Bundled CommonJS dependencies (pino, undici) call require() for Node's own modules.
  banner: { js: "import{createRequire as __ccr}from'node:module';const require=__ccr(import.meta.url);" },
  logLevel: "warning",
});
for (const file of ["dist/index.js", "dist/sandbox/cli.js"]) await chmod(new URL(file, root), 0o755);
await writeFile(new URL("dist/notebook-view.html", root), viewHtml);

// BUILD_METAFILE=path writes esbuild's metafile there: what each bundle holds, for size work.
if (process.env.BUILD_METAFILE) await writeFile(process.env.BUILD_METAFILE, JSON.stringify(result.metafile));
const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith(".js"));
const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KB`;
process.stderr.write(
  `built ${outputs.length} files: ${outputs.map(([name, o]) => `${name.replace("dist/", "")} ${kb(o.bytes)}`).join(", ")}; notebook-view.html ${kb(viewHtml.length)}\n`,
);
