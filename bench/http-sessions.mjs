// What 2025 sessions and 2026 listen streams cost a process, and what its budget for them holds:
// the built server (--http) in front of the sandbox with many keys; sessions are opened as clients
// open them (initialize, initialized, tools/list), listen streams as 2026 clients open them, across
// the keys in turn, and the process's resident memory is read at each step.
//
//   node bench/http-sessions.mjs [sessions = 800] [streams = 400] [--heavy]
//
// --heavy: each session's initialize carries a 60 KB client name and watches 1,000 notebooks (a
// sample of 20 sessions), each stream's request 60 KB of protocol `_meta` and 1,000 notebook URIs:
// the most either may hold. At the end, sessions are opened past the budget, to show what happens.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { rssMB, startProcess } from "./processes.mjs";
import { notebookUri, openMany, openSession, openWatchingStream } from "./raw-clients.mjs";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const HEAVY = process.argv.includes("--heavy");
const SESSIONS = Number(args[0] ?? 800);
const STREAMS = Number(args[1] ?? 400);
const KEY_COUNT = 40;

const start = (script, argv, env, pattern, stream) =>
  startProcess(ROOT, [path.join(ROOT, script), ...argv], env, pattern, stream);

const sandbox = await start(
  "dist/sandbox/cli.js",
  ["--port", "0", "--no-seed", "--keys", String(KEY_COUNT)],
  {},
  new RegExp(`base URL: (\\S+)[\\s\\S]*key ${KEY_COUNT}: +phx_\\S+`),
  "stdout",
);
sandbox.child.stderr.resume();
const KEYS = [...sandbox.match[0].matchAll(/key(?: \d+)?: +(phx_\S+)/g)].map((m) => m[1]);
const server = await start(
  "dist/index.js",
  ["--http", "--port", "0"],
  { POSTHOG_HOST: sandbox.match[1], POSTHOG_MCP_LOG_LEVEL: "info" },
  /"url":"(http:[^"]+\/mcp)"/,
  "stderr",
);
server.child.stderr.resume();
const url = server.match[1];

const settle = () => new Promise((resolve) => setTimeout(resolve, 1_500));
const health = async () => (await fetch(url.replace(/\/mcp$/, "/healthz"))).json();

const name = (i) => (HEAVY ? `bench-${i}-${"n".repeat(60_000)}` : `bench-${i}`);
const openSessionOf = (i, watch = 0) =>
  openSession(
    url,
    KEYS[i % KEYS.length],
    name(i),
    Array.from({ length: watch }, (_, n) => notebookUri(i, n)),
  );
const streams = [];
async function openStreamOf(i) {
  const answer = await openWatchingStream(url, KEYS[i % KEYS.length], i, HEAVY);
  if (answer.abort) streams.push(answer.abort);
  return answer;
}

const started = performance.now();
const perKB = (rss, base, n) => (((rss - base) * 1024) / n).toFixed(1);
// Every key's first session, so that what keys cost is in the baseline.
await openMany(KEYS.length, (i) => openSessionOf(i));
await settle();
const baseline = rssMB(server.child.pid);
console.log(`${KEYS.length} keys, one session each: RSS ${baseline.toFixed(1)} MB`);

await openMany(SESSIONS, (i) => openSessionOf(i), KEYS.length);
await settle();
const afterSessions = rssMB(server.child.pid);
console.log(
  `+${SESSIONS} sessions${HEAVY ? " (60 KB client names)" : ""}: RSS ${afterSessions.toFixed(1)} MB, ${perKB(afterSessions, baseline, SESSIONS)} KB a session; ${JSON.stringify(await health())}`,
);
if (HEAVY) {
  await openMany(20, (i) => openSessionOf(i, 1_000), 100_000);
  await settle();
  const watching = rssMB(server.child.pid);
  console.log(
    `+20 sessions watching 1,000 notebooks each: ${perKB(watching, afterSessions, 20)} KB a session`,
  );
}
const beforeStreams = rssMB(server.child.pid);
const streamStatuses = await openMany(STREAMS, openStreamOf);
await settle();
const afterStreams = rssMB(server.child.pid);
console.log(
  `+${STREAMS} listen streams${HEAVY ? " (4 KB of protocol _meta, 1,000 URIs)" : ""}: ${JSON.stringify(streamStatuses)}, RSS ${afterStreams.toFixed(1)} MB, ${perKB(afterStreams, beforeStreams, STREAMS)} KB a stream; ${JSON.stringify(await health())}`,
);
// Past the budget: each key asks for 40 sessions more.
const past = await openMany(KEYS.length * 40, (i) => openSessionOf(i), 200_000);
await settle();
console.log(
  `+${KEYS.length * 40} sessions more: ${JSON.stringify(past)}, RSS ${rssMB(server.child.pid).toFixed(1)} MB; ${JSON.stringify(await health())}`,
);
for (const abort of streams) abort.abort();
console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
server.child.kill("SIGTERM");
sandbox.child.kill("SIGTERM");
