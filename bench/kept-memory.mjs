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
const H = (key, extra = {}) => ({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  authorization: `Bearer ${key}`,
  ...extra,
});
async function post(key, body, session) {
  const r = await fetch(url, {
    method: "POST",
    headers: H(key, session ? { "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" } : {}),
    body: JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, text, session: r.headers.get("mcp-session-id") };
}
async function openSession(i, watch = 0) {
  const key = KEYS[i % KEYS.length];
  const init = await post(key, {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: HEAVY ? `b${i}${"n".repeat(50_000)}` : `b${i}`, version: "1" },
    },
  });
  if (!init.session) {
    console.log(init.status, init.text.slice(0, 200));
    return;
  }
  await post(key, { jsonrpc: "2.0", method: "notifications/initialized" }, init.session);
  await post(key, { jsonrpc: "2.0", id: 2, method: "tools/list" }, init.session);
  for (let n = 0; n < watch; n++)
    await post(
      key,
      {
        jsonrpc: "2.0",
        id: 3 + n,
        method: "resources/subscribe",
        params: { uri: `posthog://notebooks/${String(i).padStart(8, "0")}${String(n).padStart(24, "0")}` },
      },
      init.session,
    );
}
const streams = [];
async function openStream(i) {
  const key = KEYS[i % KEYS.length];
  const meta = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    ...(HEAVY ? { "io.modelcontextprotocol/pad": "p".repeat(4_000) } : {}),
  };
  const watched = Array.from(
    { length: HEAVY ? 1000 : 1 },
    (_, n) => `posthog://notebooks/${String(i).padStart(8, "0")}${String(n).padStart(24, "0")}`,
  );
  const abort = new AbortController();
  const r = await fetch(url, {
    method: "POST",
    headers: H(key, { "mcp-protocol-version": "2026-07-28", "mcp-method": "subscriptions/listen" }),
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: i + 1,
      method: "subscriptions/listen",
      params: { _meta: meta, notifications: { resourceSubscriptions: watched } },
    }),
    signal: abort.signal,
  });
  if (r.status !== 200) {
    console.log(r.status, (await r.text()).slice(0, 300));
    return;
  }
  const reader = r.body.getReader();
  await reader.read();
  streams.push(abort);
}
async function many(n, f, from) {
  for (let d = 0; d < n; d += 20)
    await Promise.all(Array.from({ length: Math.min(20, n - d) }, (_, k) => f(from + d + k)));
}
function used() {
  for (let i = 0; i < 4; i++) global.gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 1024;
}
await many(KEYS.length, (i) => openSession(i), 0);
await many(KEYS.length, (i) => openStream(i), 0);
await new Promise((r) => setTimeout(r, 500));
let b = used();
await many(S, (i) => openSession(i), 1000);
await new Promise((r) => setTimeout(r, 500));
let a = used();
console.log(
  `${weight} sessions${HEAVY ? " (50 KB client names)" : ""}: ${((a - b) / S).toFixed(1)} KB each (heap+external, after gc)`,
);
if (HEAVY) {
  b = a;
  await many(20, (i) => openSession(i, 1000), 5000);
  a = used();
  console.log(`sessions watching 1,000: ${((a - b) / 20).toFixed(1)} KB each`);
}
b = a;
await many(T, openStream, 10000);
await new Promise((r) => setTimeout(r, 500));
a = used();
console.log(
  `${weight} streams${HEAVY ? " (1,000 URIs, 4 KB of protocol _meta)" : ""}: ${((a - b) / T).toFixed(1)} KB each (includes the client side of each stream in this process)`,
);
for (const s of streams) s.abort();
await serving.close();
await base.close();
await sandbox.close();
