// What a 2025 session and a 2026 listen stream hold, measured on the heap (after collection): the
// figures the server's budget for them counts by (src/server/kept-memory.ts). The server, the
// sandbox and the clients run in one process started with --expose-gc, from src/ bundled here by
// esbuild; sessions are opened as clients open them (initialize, initialized, tools/list), streams as
// 2026 clients open them, across 20 keys; each is measured light (a short request) and heavy (a
// 50 KB client name; a session watching 1,000 notebooks; a stream's filter of 1,000 URIs).
//
//   node bench/kept-memory.mjs [sessions = 400] [streams = 300]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

if (process.argv[2] !== "--child") {
  const dir = mkdtempSync(path.join(tmpdir(), "kept-memory-"));
  const esbuild = await import("esbuild");
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { sandbox: "src/sandbox/index.ts", upstream: "src/upstream.ts", http: "src/server/http.ts" },
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20.18",
    define: {
      __PACKAGE_VERSION__: JSON.stringify(
        JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version,
      ),
    },
    banner: { js: "import{createRequire as __ccr}from'node:module';const require=__ccr(import.meta.url);" },
    logLevel: "warning",
  });
  esbuild.stop?.();
  const [sessions = "400", streams = "300"] = process.argv.slice(2);
  console.log(`${new Date().toISOString()}, Node ${process.version}`);
  for (const weight of ["light", "heavy"]) {
    const run = spawnSync(
      process.execPath,
      ["--expose-gc", fileURLToPath(import.meta.url), "--child", dir, sessions, streams, weight],
      { stdio: "inherit" },
    );
    if (run.status !== 0) process.exitCode = 1;
  }
  rmSync(dir, { recursive: true, force: true });
  process.exit();
}

const [dir, S, T, weight] = [
  process.argv[3],
  Number(process.argv[4]),
  Number(process.argv[5]),
  process.argv[6],
];
const HEAVY = weight === "heavy";
const load = (name) => import(pathToFileURL(path.join(dir, `${name}.mjs`)).href);
const { startSandbox } = await load("sandbox");
const { openUpstreamBase } = await load("upstream");
const { serveHttp } = await load("http");
const { default: pino } = await import("pino");
const { notebookUri, openMany, openSession, openWatchingStream } = await import("./raw-clients.mjs");
const KEYS = Array.from({ length: 20 }, (_, i) =>
  `phx_measure${String(i).padStart(4, "0")}abcdefghijklmnopqrstuvwxyz01234567`.slice(0, 47),
);
const sandbox = await startSandbox({
  rateLimit: false,
  keys: KEYS.map((value) => ({ value, scopes: ["*"] })),
});
const config = {
  mode: "posthog",
  apiKey: "",
  host: sandbox.url,
  projectId: "@current",
  readOnly: false,
  logLevel: "silent",
  allowInsecureHttp: false,
  timeouts: { connect: 2000, headers: 5000, body: 5000 },
  maxResultChars: 80000,
  command: "serve",
};
const base = await openUpstreamBase(config, { logger: pino({ level: "silent" }), rateLimits: false });
const serving = await serveHttp(
  base,
  { host: "127.0.0.1", port: 0, stateless: false, allowedHosts: [], corsOrigins: [] },
  { keptBytes: 4 * 1024 ** 3 },
);
const url = serving.url;
const openSessionOf = (i, watch = 0) =>
  openSession(
    url,
    KEYS[i % KEYS.length],
    HEAVY ? `b${i}${"n".repeat(50_000)}` : `b${i}`,
    Array.from({ length: watch }, (_, n) => notebookUri(i, n)),
  );
const streams = [];
async function openStreamOf(i) {
  const answer = await openWatchingStream(url, KEYS[i % KEYS.length], i, HEAVY);
  if (answer.abort) streams.push(answer.abort);
  else console.log(answer.status, answer.text.slice(0, 300));
}
function used() {
  for (let i = 0; i < 4; i++) global.gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 1024;
}
await openMany(KEYS.length, (i) => openSessionOf(i));
await openMany(KEYS.length, openStreamOf);
await new Promise((r) => setTimeout(r, 500));
let b = used();
await openMany(S, (i) => openSessionOf(i), 1000);
await new Promise((r) => setTimeout(r, 500));
let a = used();
console.log(
  `${weight} sessions${HEAVY ? " (50 KB client names)" : ""}: ${((a - b) / S).toFixed(1)} KB each (heap+external, after gc)`,
);
if (HEAVY) {
  b = a;
  await openMany(20, (i) => openSessionOf(i, 1000), 5000);
  a = used();
  console.log(`sessions watching 1,000: ${((a - b) / 20).toFixed(1)} KB each`);
}
b = a;
await openMany(T, openStreamOf, 10000);
await new Promise((r) => setTimeout(r, 500));
a = used();
console.log(
  `${weight} streams${HEAVY ? " (1,000 URIs, 4 KB of protocol _meta)" : ""}: ${((a - b) / T).toFixed(1)} KB each (includes the client side of each stream in this process)`,
);
for (const s of streams) s.abort();
await serving.close();
await base.close();
await sandbox.close();
