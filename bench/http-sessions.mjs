// How many Streamable HTTP sessions one process holds, and the memory each costs: the built server
// (--http --sandbox) is started, sessions are opened as clients open them (initialize, initialized,
// tools/list) and kept, and the process's resident memory is read at each step.
//
//   node bench/http-sessions.mjs [max sessions = 2000]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const MAX = Number(process.argv[2] ?? 2000);
const STEPS = [0, 100, 1000, 2000, 5000].filter((n) => n <= MAX);

const child = spawn(
  process.execPath,
  [path.join(ROOT, "dist/index.js"), "--http", "--sandbox", "--port", "0"],
  {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, POSTHOG_MCP_LOG_LEVEL: "info" },
  },
);
const url = await new Promise((resolve, reject) => {
  let err = "";
  child.stderr.on("data", (chunk) => {
    err += chunk;
    const match = /"url":"(http:[^"]+\/mcp)"/.exec(err);
    if (match) resolve(match[1]);
  });
  child.once("exit", () => reject(new Error(`server exited: ${err}`)));
  setTimeout(() => reject(new Error(`no url: ${err}`)), 10_000);
});
child.stderr.resume();

function rssMB() {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

async function post(body, session) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      ...HEADERS,
      ...(session ? { "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" } : {}),
    },
    body: JSON.stringify(body),
  });
  await response.text();
  if (response.status >= 300) throw new Error(`HTTP ${response.status}`);
  return response.headers.get("mcp-session-id");
}

async function openSession(i) {
  const session = await post({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: `bench-${i}`, version: "1" },
    },
  });
  await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session);
  await post({ jsonrpc: "2.0", id: 2, method: "tools/list" }, session);
  return session;
}

const rows = [];
let open = 0;
const started = performance.now();
await new Promise((resolve) => setTimeout(resolve, 1_000));
const baseline = rssMB();
for (const target of STEPS) {
  while (open < target) {
    const batch = Math.min(25, target - open);
    await Promise.all(Array.from({ length: batch }, (_, k) => openSession(open + k)));
    open += batch;
  }
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const rss = rssMB();
  rows.push({ sessions: open, rssMB: rss, perSessionKB: open ? ((rss - baseline) * 1024) / open : 0 });
  console.log(
    `${String(open).padStart(5)} sessions: RSS ${rss.toFixed(1)} MB${open ? `, ${(((rss - baseline) * 1024) / open).toFixed(1)} KB a session` : ""}`,
  );
}
const health = await (await fetch(url.replace(/\/mcp$/, "/healthz"))).json();
console.log(`healthz: ${JSON.stringify(health)}; ${((performance.now() - started) / 1000).toFixed(1)} s`);
child.kill("SIGTERM");
