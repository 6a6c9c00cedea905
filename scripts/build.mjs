// Builds dist/: one minified ESM bundle per entry point, with the parts that only some runs need
// (Markdown conversion, the sandbox, doctor) split into chunks loaded on first use. Type-checking
// is `npm run typecheck` (part of `npm test`); this only bundles, so `npm install` stays fast.
import { chmod, readFile, rm } from "node:fs/promises";
import { build } from "esbuild";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(await readFile(new URL("package.json", root), "utf8"));

await rm(new URL("dist", root), { recursive: true, force: true });
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
  define: { __PACKAGE_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies (pino, undici) call require() for Node's own modules.
  banner: { js: "import{createRequire as __ccr}from'node:module';const require=__ccr(import.meta.url);" },
  logLevel: "warning",
});
for (const file of ["dist/index.js", "dist/sandbox/cli.js"]) await chmod(new URL(file, root), 0o755);

const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith(".js"));
const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KB`;
process.stderr.write(
  `built ${outputs.length} files: ${outputs.map(([name, o]) => `${name.replace("dist/", "")} ${kb(o.bytes)}`).join(", ")}\n`,
);
