// Builds dist/: one minified ESM bundle per entry point, with the parts that only some runs need
// (Markdown conversion, the sandbox, doctor) split into chunks loaded on first use. Type-checking
// is `npm run typecheck` (part of `npm test`); this only bundles, so `npm install` stays fast.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { buildView } from "./build-view.mjs";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(await readFile(new URL("package.json", root), "utf8"));

/** Which replacements took effect in the last build (a dependency's new layout can defeat one). */
const replaced = new Set();

/**
 * An esbuild plugin bundling `contents` in place of the modules matching `filter` (when imported
 * from a module matching `importer`, if given): for dependencies' parts this server never runs.
 */
function replaceModule(name, { filter, importer, contents }) {
  return {
    name,
    setup(b) {
      b.onStart(() => {
        replaced.delete(name);
      });
      b.onResolve({ filter }, (args) =>
        !importer || importer.test(args.importer)
          ? {
              path: args.path.startsWith(".") ? join(dirname(args.importer), args.path) : args.path,
              namespace: name,
            }
          : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: name }, (args) => {
        replaced.add(name);
        return { contents, loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
}

const plugins = [
  // The SDK's server imports its ajv-based validator at load (through its `_shims` export) even when
  // it is given another one (src/server/json-schema.ts gives its own: the server never elicits).
  // Leaving ajv out of the bundle saves its load time at every start; the stand-in fails loudly if
  // anything ever constructs it.
  replaceModule("without-ajv", {
    filter: /^@modelcontextprotocol\/server\/_shims$/,
    contents:
      'export { default as process } from "node:process"; export class DefaultJsonSchemaValidator { constructor() { throw new Error("ajv is not bundled: pass a jsonSchemaValidator"); } }',
  }),
  // undici's HTTP/2 client loads `node:http2` (and with it TLS and crypto) when undici loads, for
  // connections this server never makes (HTTP/2 is off unless asked for). undici falls back to
  // HTTP/1.1 alone when `node:http2` cannot be loaded; this makes it so for the bundle (a megabyte
  // less memory, and less to load at every start).
  replaceModule("without-http2", {
    filter: /^node:http2$/,
    importer: /undici[\\/]lib[\\/]dispatcher[\\/]client-h2\.js$/,
    contents: "throw new Error('HTTP/2 is not bundled: posthog-notebooks-mcp speaks HTTP/1.1');",
  }),
  // zod's messages in 40-odd languages come with `z.locales`, though only English is ever used
  // (`z.config` is never called): a fifth of the bundle's JavaScript, parsed and run at every
  // start. The bundle keeps English alone; `z.locales.en` is still there.
  replaceModule("only-english-zod-messages", {
    filter: /^\.\.\/locales\/index\.js$/,
    importer: /[\\/]zod[\\/]v4[\\/](classic|core|mini)[\\/]/,
    contents: 'export { default as en } from "./en.js";',
  }),
];

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
    plugins,
    logLevel: "warning",
  });
  const { generateToolSchemas } = await import(pathToFileURL(join(scratch, "schemas.mjs")).href);
  toolSchemas = generateToolSchemas();
} finally {
  await rm(scratch, { recursive: true, force: true });
}

// The notebook view (an MCP App): one HTML page, fixed into the server and kept beside it.
const viewHtml = await buildView(plugins.filter((p) => p.name === "only-english-zod-messages"));

const result = await build({
  absWorkingDir: root.pathname,
  entryPoints: {
    index: "src/index.ts",
    "content-worker": "src/content/worker.ts",
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
  plugins,
});
// Each stand-in must have replaced its module: a dependency that moved a file would otherwise
// bring back, silently, what the stand-in keeps out (ajv, HTTP/2, zod's other languages).
const missed = plugins.map((p) => p.name).filter((name) => !replaced.has(name));
if (missed.length > 0) {
  process.stderr.write(`build: these module replacements matched nothing: ${missed.join(", ")}\n`);
  process.exit(1);
}
for (const file of ["dist/index.js", "dist/sandbox/cli.js"]) await chmod(new URL(file, root), 0o755);
await writeFile(new URL("dist/notebook-view.html", root), viewHtml);

// BUILD_METAFILE=path writes esbuild's metafile there: what each bundle holds, for size work.
if (process.env.BUILD_METAFILE) await writeFile(process.env.BUILD_METAFILE, JSON.stringify(result.metafile));
const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith(".js"));
const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KB`;
process.stderr.write(
  `built ${outputs.length} files: ${outputs.map(([name, o]) => `${name.replace("dist/", "")} ${kb(o.bytes)}`).join(", ")}; notebook-view.html ${kb(viewHtml.length)}\n`,
);
