#!/usr/bin/env node
/**
 * The bench: each figure measured side by side with its floor in the same run, interleaved so that
 * noise hits both alike, reported as medians and ratios (ours ÷ floor, as a cost: lower is better,
 * 1.00× = at the floor). See bench/README.md.
 *
 *   npm run bench                 # builds, then: node bench/run.mjs   (55–80 s on 2 cores)
 *   node bench/run.mjs --quick    # 20–30 s smoke run (fewer samples; same figures)
 *   node bench/run.mjs --only 2,5 # only these figures (4 comes with 2)
 *   node bench/run.mjs --dist DIR # measure another build of the server (default: ./dist)
 *   node bench/run.mjs --cpu-prof DIR  # our server writes V8 CPU profiles to DIR (slows it down)
 *
 * Prints one table plus the machine, and writes everything (every sample) to bench/results.json.
 * Only 127.0.0.1 is ever used. Every subprocess dies with the bench; every loop is bounded in
 * count and in time, and a watchdog ends the run if it ever overruns.
 */
import { fork, spawn } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";

const QUICK = process.argv.includes("--quick");
const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The value after a flag (`--only 2,5`), or undefined. */
function flag(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}
/** Figures to run (4 is measured with 2): all unless --only says otherwise. */
const ONLY = new Set((flag("--only") ?? "1,2,3,4,5,6").split(",").map((f) => f.trim()));
if (ONLY.has("4")) ONLY.add("2");
const DIST = path.resolve(flag("--dist") ?? path.join(ROOT, "dist"));
let SERVER = path.join(DIST, "index.js"); // replaced by the snapshot's copy in main()
/** Node options for our server only: V8 CPU profiles under the bench's own load, when asked. */
const PROFILE_DIR = flag("--cpu-prof");
const SERVER_NODE_ARGS = PROFILE_DIR
  ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(PROFILE_DIR)}`, "--cpu-prof-interval=50"]
  : [];
const FLOOR = path.join(ROOT, "bench/floor-server.mjs");
const RESULTS = path.join(ROOT, "bench/results.json");
const VERSION = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version;

/** Sample counts and time budgets per figure. Full mode stays well under 2 minutes on 2 cores. */
const CFG = QUICK
  ? {
      coldPairs: 4,
      coldBudgetMs: 6_000,
      callWarmup: 20,
      callRounds: 100,
      callBudgetMs: 4_000,
      bursts: 1,
      burstSize: 200,
      burstWarmup: 20,
      throughputBudgetMs: 5_000,
      memReps: 1,
      idleMs: 10_000,
      pagingNotebooks: 10_000,
      bigNotebookBytes: 5_000_000,
      convertBytes: 500_000,
      convertReps: 3,
      convertBudgetMs: 4_000,
      hardLimitMs: 60_000,
    }
  : {
      coldPairs: 20,
      coldBudgetMs: 35_000,
      callWarmup: 30,
      // The server keeps PostHog's 480 requests a minute per key on its side: warm-up + rounds + the
      // key introspection stay under it, so no call of this figure ever waits for the limiter.
      callRounds: 300,
      callBudgetMs: 15_000,
      bursts: 3,
      burstSize: 200,
      // Before each burst, in a fresh session (+ the burst + the key request < 480, the limiter's budget).
      burstWarmup: 40,
      throughputBudgetMs: 15_000,
      memReps: 3,
      idleMs: 10_000,
      pagingNotebooks: 10_000,
      bigNotebookBytes: 5_000_000,
      convertBytes: 3_000_000,
      convertReps: 7,
      convertBudgetMs: 20_000,
      hardLimitMs: 115_000,
    };

const RETRIEVE_ID = "chk9Drop"; // the sandbox's seeded notebook: headings, lists, code, a recording

// ---------------------------------------------------------------------------------------------
// Subprocesses: tracked, killed on any exit; a temp dir for bundles, removed on exit.

const children = new Set();
const tmpDir = mkdtempSync(path.join(os.tmpdir(), "posthog-notebooks-bench-"));

function track(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

process.on("exit", () => {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(tmpDir, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping\n`);
    process.exit(130);
  });
}
process.on("uncaughtException", (error) => {
  process.stderr.write(`bench: ${error?.stack ?? error}\n`);
  process.exit(1);
});
process.on("unhandledRejection", (error) => {
  process.stderr.write(`bench: ${error?.stack ?? error}\n`);
  process.exit(1);
});
setTimeout(() => {
  process.stderr.write(`bench: over the ${CFG.hardLimitMs / 1000} s limit, stopping\n`);
  process.exit(3);
}, CFG.hardLimitMs).unref();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function log(text) {
  process.stderr.write(`${text}\n`);
}

// ---------------------------------------------------------------------------------------------
// Statistics

function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
const median = (values) => quantile(values, 0.5);

// ---------------------------------------------------------------------------------------------
// An MCP stdio client written by hand on raw child_process.
//
// Why not the SDK's Client: the figures are wall-clock times from spawn() (or from writing a
// request) to the moment the answer's last byte reaches this process. Raw pipes put nothing
// between the child's stdout and the timestamp: the time is taken in the 'data' handler, before
// any parsing or validation, and the request is one write() of a pre-serialized line. The SDK
// client would add its own zod validation and promise hops to every measured call (tens of µs,
// the same order as the floor's trivial call), and for cold start its import would happen in this
// process anyway, so it buys nothing but noise.

class McpProc {
  constructor(script, { env, args = [], execArgv = [] } = {}) {
    this.script = script;
    this.pending = new Map();
    this.nextId = 1;
    this.parts = [];
    this.stderrTail = "";
    this.t0 = performance.now();
    this.child = track(
      spawn(
        process.execPath,
        [...execArgv, ...(script === SERVER ? SERVER_NODE_ARGS : []), script, ...args],
        { env, stdio: ["pipe", "pipe", "pipe"] },
      ),
    );
    this.pid = this.child.pid;
    this.child.stdout.on("data", (chunk) => this.#data(chunk, performance.now()));
    this.child.stderr.on("data", (chunk) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000);
    });
    this.child.stdin.on("error", () => undefined);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => {
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`${path.basename(script)} exited (${code ?? signal}): ${this.stderrTail}`));
        }
        this.pending.clear();
        resolve({ code, signal });
      }),
    );
  }

  #data(chunk, t) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.parts.push(chunk.subarray(start, nl));
      const line = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
      this.parts = [];
      start = nl + 1;
      this.#line(line, t);
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
  }

  #line(line, t) {
    let msg;
    try {
      msg = JSON.parse(line.toString("utf8"));
    } catch {
      return;
    }
    const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
    if (!p) return; // a notification
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    p.resolve({ msg, t, bytes: line.length, ms: t - p.sent });
  }

  /** Pre-serialized request line and a promise of its answer (`ms`: write → last byte). */
  prepare(method, params, timeoutMs = 15_000) {
    const id = this.nextId++;
    const line = `${JSON.stringify({ jsonrpc: "2.0", id, method, ...(params ? { params } : {}) })}\n`;
    let entry;
    const answer = new Promise((resolve, reject) => {
      entry = { resolve, reject, sent: 0, timer: undefined };
      entry.timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(
            `${method} to ${path.basename(this.script)} timed out after ${timeoutMs} ms. ${this.stderrTail}`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, entry);
    });
    return { line, answer, entry };
  }

  request(method, params, timeoutMs) {
    const { line, answer, entry } = this.prepare(method, params, timeoutMs);
    entry.sent = performance.now();
    this.child.stdin.write(line);
    return answer;
  }

  notify(method, params) {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method, ...(params ? { params } : {}) })}\n`);
  }

  async initialize() {
    const r = await this.request("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "posthog-notebooks-bench", version: "1.0.0" },
    });
    if (r.msg.error) throw new Error(`initialize failed: ${JSON.stringify(r.msg.error)}`);
    this.notify("notifications/initialized");
    return r;
  }

  async listTools() {
    const r = await this.request("tools/list");
    if (r.msg.error) throw new Error(`tools/list failed: ${JSON.stringify(r.msg.error)}`);
    return r;
  }

  async callTool(name, args, timeoutMs) {
    const r = await this.request("tools/call", { name, arguments: args }, timeoutMs);
    if (r.msg.error || r.msg.result?.isError) {
      throw new Error(`${name} failed: ${JSON.stringify(r.msg.error ?? r.msg.result).slice(0, 500)}`);
    }
    return r;
  }

  /** Closes stdin (both servers exit on it), waits for the exit, SIGKILL after `ms`. */
  async stop(ms = 3_000) {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    await this.exited;
    clearTimeout(timer);
  }
}

/** VmRSS (now) and VmHWM (peak so far) of a process, in MB. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssMB: kb("VmRSS") / 1024, hwmMB: kb("VmHWM") / 1024 };
}

/**
 * Resets a process's VmHWM to its current RSS (Linux ≥ 4.0: "5" > /proc/<pid>/clear_refs), so that
 * the next peak belongs to what follows, not to startup (whose peak is well above idle). Returns
 * false where that is not allowed; the peaks then include startup's, and results.json says so.
 */
function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Modules the figures need besides the built server: startSandbox() for the sandbox process and
// the content module for the conversion figure. A tsc-style dist/ has them as files; the esbuild
// bundle does not export them, so they are bundled here from src/ with the same esbuild settings.

async function locateModules() {
  const dist = path.dirname(SERVER); // the snapshot
  const distSandbox = path.join(dist, "sandbox/index.js");
  const distContent = path.join(dist, "content/index.js");
  const found = {};
  if (existsSync(distSandbox) && existsSync(distContent)) {
    const s = await import(pathToFileURL(distSandbox).href).catch(() => ({}));
    const c = await import(pathToFileURL(distContent).href).catch(() => ({}));
    if (typeof s.startSandbox === "function" && typeof c.markdownToDoc === "function") {
      return { sandbox: distSandbox, content: distContent, source: "dist/ (tsc layout)" };
    }
  }
  const esbuild = await import("esbuild");
  await retrying("bundling src/sandbox and src/content", () =>
    esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: { sandbox: "src/sandbox/index.ts", content: "src/content/index.ts" },
      outdir: tmpDir,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20.18",
      minify: true,
      define: { __PACKAGE_VERSION__: JSON.stringify(VERSION) },
      banner: { js: "import{createRequire as __ccr}from'node:module';const require=__ccr(import.meta.url);" },
      logLevel: "warning",
    }),
  );
  esbuild.stop?.(); // its service process would otherwise idle beside the measurements
  Object.assign(found, {
    sandbox: path.join(tmpDir, "sandbox.mjs"),
    content: path.join(tmpDir, "content.mjs"),
    source: "esbuild bundles of src/sandbox/index.ts and src/content/index.ts (temp dir)",
  });
  return found;
}

/** Runs `fn` until it works, a few times, waiting in between (another build may be under way). */
async function retrying(what, fn, attempts = 4, waitMs = 15_000) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts) throw error;
      log(
        `${what} failed (${String(error?.message ?? error).split("\n")[0]}); retrying in ${waitMs / 1000} s`,
      );
      await sleep(waitMs);
    }
  }
}

/**
 * A private copy of dist/ for the whole run: a rebuild during the run (another engineer's, or a
 * watch mode) would otherwise swap chunks under a starting server. The copy is checked: every
 * relative import in it resolves, and dist/index.js did not change while it was copied.
 */
function snapshotDist(attempt) {
  const dir = path.join(tmpDir, `snapshot-${attempt}`);
  const entry = path.join(DIST, "index.js");
  const before = statSync(entry).mtimeMs;
  cpSync(DIST, path.join(dir, "dist"), {
    recursive: true,
    filter: (src) => !src.endsWith(".map"),
  });
  // A tsc-style dist/ reads ../package.json and imports node_modules; a bundle needs neither.
  copyFileSync(path.join(ROOT, "package.json"), path.join(dir, "package.json"));
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  if (statSync(entry).mtimeMs !== before) throw new Error("dist/ changed while it was copied");
  const missing = [];
  const walk = (d) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, name.name);
      if (name.isDirectory()) walk(file);
      else if (name.name.endsWith(".js")) {
        const text = readFileSync(file, "utf8");
        for (const m of text.matchAll(/(?:from|import\(|import)\s*"(\.{1,2}\/[^"']+\.js)"/g)) {
          if (!existsSync(path.resolve(path.dirname(file), m[1])))
            missing.push(`${m[1]} (from ${name.name})`);
        }
      }
    }
  };
  walk(path.join(dir, "dist"));
  if (missing.length > 0) throw new Error(`dist/ is incomplete: ${missing.slice(0, 3).join(", ")}`);
  return path.join(dir, "dist/index.js");
}

/** The sandbox in its own process, driven over IPC. */
async function startSandboxHost(modules) {
  const child = track(
    fork(path.join(ROOT, "bench/sandbox-host.mjs"), [modules.sandbox, modules.content], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    }),
  );
  let stderr = "";
  child.stderr.on("data", (c) => {
    stderr = (stderr + c).slice(-2000);
  });
  const waiting = new Map();
  let nextId = 1;
  const ready = withTimeout(
    new Promise((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`sandbox host exited (${code}): ${stderr}`)));
      child.on("message", (msg) => {
        if (msg.ready) return resolve(msg);
        const w = waiting.get(msg.id);
        if (!w) return;
        waiting.delete(msg.id);
        if (msg.ok) w.resolve(msg.value);
        else w.reject(new Error(msg.error));
      });
    }),
    15_000,
    "starting the sandbox",
  );
  const { url, key } = await ready;
  const call = (cmd, args = {}, ms = 30_000) =>
    withTimeout(
      new Promise((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        child.send({ id, cmd, args });
      }),
      ms,
      `sandbox ${cmd}`,
    );
  return { url, key, pid: child.pid, call, child };
}

// ---------------------------------------------------------------------------------------------
// Figures

function envFor(sandbox, extra = {}) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("POSTHOG_")) delete env[name];
  return {
    ...env,
    POSTHOG_PERSONAL_API_KEY: sandbox.key,
    POSTHOG_HOST: sandbox.url,
    POSTHOG_MCP_LOG_LEVEL: "silent",
    ...extra,
  };
}

/** spawn → initialize answered → tools/list answered, as a client does it (one after the other). */
async function coldStartOnce(script, env) {
  const p = new McpProc(script, { env });
  try {
    const init = await p.initialize();
    const list = await p.listTools();
    return { initMs: init.t - p.t0, listMs: list.t - p.t0, tools: list.msg.result.tools.length };
  } finally {
    await p.stop();
  }
}

async function figureColdStart(sandbox) {
  const env = envFor(sandbox);
  // Warm the page cache and the sandbox's connection handling; not counted.
  await coldStartOnce(SERVER, env);
  await coldStartOnce(FLOOR, env);
  const pairs = [];
  const deadline = performance.now() + CFG.coldBudgetMs;
  for (let i = 0; i < CFG.coldPairs && performance.now() < deadline; i++) {
    // Alternate which goes first, so drift within a pair cancels out across pairs.
    const oursFirst = i % 2 === 0;
    const a = await coldStartOnce(oursFirst ? SERVER : FLOOR, env);
    const b = await coldStartOnce(oursFirst ? FLOOR : SERVER, env);
    const [ours, floor] = oursFirst ? [a, b] : [b, a];
    pairs.push({ ours, floor, ratio: ours.listMs / floor.listMs, initRatio: ours.initMs / floor.initMs });
  }
  return {
    pairs: pairs.length,
    oursListMs: median(pairs.map((p) => p.ours.listMs)),
    floorListMs: median(pairs.map((p) => p.floor.listMs)),
    oursInitMs: median(pairs.map((p) => p.ours.initMs)),
    floorInitMs: median(pairs.map((p) => p.floor.initMs)),
    ratio: median(pairs.map((p) => p.ratio)),
    initRatio: median(pairs.map((p) => p.initRatio)),
    samples: pairs,
  };
}

function directGetter(sandbox, undici) {
  const agent = new undici.Agent({ connections: 8, pipelining: 1, keepAliveTimeout: 30_000 });
  const headers = {
    authorization: `Bearer ${sandbox.key}`,
    accept: "application/json",
    "user-agent": `posthog-notebooks-mcp/${VERSION}`,
  };
  const get = async (pathAndQuery) => {
    const t = performance.now();
    const res = await undici.request(`${sandbox.url}${pathAndQuery}`, { dispatcher: agent, headers });
    const text = await res.body.text();
    JSON.parse(text); // what any consumer of the API does with it; the proxy does it too
    if (res.statusCode !== 200) throw new Error(`direct GET ${pathAndQuery}: ${res.statusCode}`);
    return { ms: performance.now() - t, bytes: text.length };
  };
  return { get, close: () => agent.close() };
}

async function figurePerCall(sandbox, undici) {
  const env = envFor(sandbox);
  const ours = new McpProc(SERVER, { env });
  const floor = new McpProc(FLOOR, { env });
  const direct = directGetter(sandbox, undici);
  try {
    await Promise.all([ours.initialize(), floor.initialize()]);
    const toolsList = await ours.listTools();
    await floor.listTools();
    const retrievePath = `/api/projects/@current/notebooks/${RETRIEVE_ID}/`;
    const steps = {
      ours: async () => (await ours.callTool("notebooks-retrieve", { short_id: RETRIEVE_ID })).ms,
      direct: async () => (await direct.get(retrievePath)).ms,
      floor: async () => (await floor.callTool("echo", { text: "ping" })).ms,
    };
    const names = Object.keys(steps);
    for (let i = 0; i < CFG.callWarmup; i++) for (const n of names) await steps[n]();
    const samples = { ours: [], direct: [], floor: [] };
    const deadline = performance.now() + CFG.callBudgetMs;
    for (let round = 0; round < CFG.callRounds && performance.now() < deadline; round++) {
      // Interleaved call by call, the order rotating every round.
      for (let k = 0; k < names.length; k++) {
        const n = names[(round + k) % names.length];
        samples[n].push(await steps[n]());
      }
    }
    // Figure 4 (agent context cost) from the same session.
    const list = await ours.callTool("notebooks-list", {});
    const retrieve = await ours.callTool("notebooks-retrieve", { short_id: RETRIEVE_ID });
    const stats = (xs) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), n: xs.length });
    const paired = samples.ours.map((v, i) => v - samples.direct[i]);
    return {
      perCall: {
        rounds: samples.ours.length,
        ours: stats(samples.ours),
        direct: stats(samples.direct),
        floor: stats(samples.floor),
        ratio: (median(samples.ours) - median(samples.direct)) / median(samples.floor),
        pairedExcessP50: median(paired),
        samples,
      },
      context: {
        toolsList: contextCost(toolsList.msg.result),
        tools: toolsList.msg.result.tools.length,
        perTool: Object.fromEntries(
          toolsList.msg.result.tools.map((t) => [t.name, Buffer.byteLength(JSON.stringify(t))]),
        ),
        list: { ...contextCost(list.msg.result), items: list.msg.result.structuredContent?.results?.length },
        retrieve: contextCost(retrieve.msg.result),
      },
    };
  } finally {
    await Promise.all([ours.stop(), floor.stop(), direct.close()]);
  }
}

function contextCost(result) {
  const bytes = (v) => Buffer.byteLength(JSON.stringify(v));
  const text = (result.content ?? [])
    .filter((b) => b.type === "text")
    .map((b) => b.text)
    .join("");
  return {
    bytes: bytes(result),
    tokens: Math.round(JSON.stringify(result).length / 4),
    ...(result.content ? { textBytes: Buffer.byteLength(text) } : {}),
    ...(result.structuredContent ? { structuredBytes: bytes(result.structuredContent) } : {}),
  };
}

async function figureThroughput(sandbox, undici) {
  const env = envFor(sandbox);
  const n = CFG.burstSize;
  const mix = (i) =>
    i % 2 === 0
      ? {
          tool: ["notebooks-retrieve", { short_id: RETRIEVE_ID }],
          path: `/api/projects/@current/notebooks/${RETRIEVE_ID}/`,
        }
      : { tool: ["notebooks-list", {}], path: "/api/projects/@current/notebooks/?limit=25" };
  const bursts = [];
  const deadline = performance.now() + CFG.throughputBudgetMs;
  for (let b = 0; b < CFG.bursts && (b === 0 || performance.now() < deadline); b++) {
    const runOurs = async () => {
      const before = await sandbox.call("connections");
      const p = new McpProc(SERVER, { env });
      try {
        await p.initialize();
        await p.listTools(); // waits for the key's grants: one connection is open by now
        // A warm session (JIT, lazily loaded converter), one call at a time: one connection.
        for (let i = 0; i < CFG.burstWarmup; i++) {
          const [name, args] = mix(i).tool;
          await p.callTool(name, args);
        }
        const afterStart = await sandbox.call("connections");
        const prepared = Array.from({ length: n }, (_, i) => {
          const [name, args] = mix(i).tool;
          return p.prepare("tools/call", { name, arguments: args }, 30_000);
        });
        const t0 = performance.now();
        for (const r of prepared) r.entry.sent = t0;
        // All 200 requests in one write: as concurrent as one stdio session gets.
        p.child.stdin.write(prepared.map((r) => r.line).join(""));
        const answers = await Promise.all(prepared.map((r) => r.answer));
        const ms = Math.max(...answers.map((a) => a.t)) - t0;
        const errors = answers.filter((a) => a.msg.error || a.msg.result?.isError).length;
        const afterBurst = await sandbox.call("connections");
        return {
          ms,
          callsPerS: (n / ms) * 1000,
          errors,
          connectionsSession: afterBurst - before,
          connectionsBurst: afterBurst - afterStart,
        };
      } finally {
        await p.stop();
      }
    };
    const runDirect = async () => {
      // The same requests straight from here, through an undici pool of the same size (8).
      const direct = directGetter(sandbox, undici);
      const before = await sandbox.call("connections");
      try {
        for (let i = 0; i < CFG.burstWarmup; i++) await direct.get(mix(i).path);
        const t0 = performance.now();
        await Promise.all(Array.from({ length: n }, (_, i) => direct.get(mix(i).path)));
        const ms = performance.now() - t0;
        return { ms, callsPerS: (n / ms) * 1000, connections: (await sandbox.call("connections")) - before };
      } finally {
        await direct.close();
      }
    };
    const oursFirst = b % 2 === 0;
    const first = await (oursFirst ? runOurs() : runDirect());
    const second = await (oursFirst ? runDirect() : runOurs());
    bursts.push(oursFirst ? { ours: first, direct: second } : { ours: second, direct: first });
  }
  return {
    bursts: bursts.length,
    size: n,
    oursCallsPerS: median(bursts.map((b) => b.ours.callsPerS)),
    directCallsPerS: median(bursts.map((b) => b.direct.callsPerS)),
    // As a cost: our time for the burst over the direct time.
    ratio: median(bursts.map((b) => b.ours.ms / b.direct.ms)),
    connectionsSession: Math.max(...bursts.map((b) => b.ours.connectionsSession)),
    connectionsBurst: Math.max(...bursts.map((b) => b.ours.connectionsBurst)),
    errors: bursts.reduce((s, b) => s + b.ours.errors, 0),
    samples: bursts,
  };
}

/**
 * A server's memory from its first tools/list to idle: read 300 ms after the answer (startup still
 * shows: young-generation space grown for startup's garbage, not yet given back) and then every
 * 500 ms while it sits idle, as a server does between an agent's turns. V8's memory reducer gives
 * startup's slack back about eight seconds after startup's collections; `idleMB` is the reading
 * once it has (the last of `CFG.idleMs`), and `settled` says whether the last three readings agree.
 */
async function idleMemory(script, env) {
  const p = new McpProc(script, { env });
  await p.initialize();
  await p.listTools();
  await sleep(300);
  const early = memoryOf(p.pid);
  const readings = [early.rssMB];
  const until = performance.now() + CFG.idleMs - 300;
  while (performance.now() < until) {
    await sleep(500);
    readings.push(memoryOf(p.pid).rssMB);
  }
  const last = memoryOf(p.pid);
  readings.push(last.rssMB);
  const tail = readings.slice(-3);
  return {
    p,
    mem: {
      earlyMB: early.rssMB,
      idleMB: last.rssMB,
      hwmMB: last.hwmMB,
      settled: Math.max(...tail) - Math.min(...tail) <= 0.5,
      readings,
    },
  };
}

async function figureMemory(sandbox, big) {
  const env = envFor(sandbox);
  // Ours and the floor's side by side, one pair at a time (with more processes starting at once,
  // V8's memory reducer comes later than CFG.idleMs), the start order alternating.
  const runs = [];
  for (let i = 0; i < CFG.memReps; i++) {
    const order = i % 2 === 0 ? [SERVER, FLOOR] : [FLOOR, SERVER];
    const pair = await Promise.all(
      order.map(async (script) => ({ rep: i, script, ...(await idleMemory(script, env)) })),
    );
    runs.push(...pair);
    // Only one of our processes is kept, for the 5 MB notebook.
    for (const r of pair) if (r.script === FLOOR || i > 0) await r.p.stop();
  }
  const idle = Array.from({ length: CFG.memReps }, (_, rep) => ({
    ours: runs.find((r) => r.rep === rep && r.script === SERVER).mem,
    floor: runs.find((r) => r.rep === rep && r.script === FLOOR).mem,
  }));
  // The 5 MB notebook, in our first idle process.
  const first = runs.find((r) => r.script === SERVER && r.rep === 0);
  let bigNotebook;
  try {
    const peakReset = resetPeak(first.p.pid);
    const r = await first.p.callTool("notebooks-retrieve", { short_id: big.short_id }, 60_000);
    await sleep(100);
    const after = memoryOf(first.p.pid);
    bigNotebook = {
      ...big,
      ms: r.ms,
      resultBytes: r.bytes,
      peakMB: after.hwmMB,
      rssAfterMB: after.rssMB,
      idleMB: first.mem.idleMB,
      startupPeakMB: first.mem.hwmMB,
      peakReset,
    };
  } finally {
    await first.p.stop();
  }

  // Paging: 10,000 notebooks in project 2 through resources/list, 100 a page.
  const p = new McpProc(SERVER, { env: envFor(sandbox, { POSTHOG_PROJECT_ID: "2" }) });
  let paging;
  try {
    await p.initialize();
    await p.listTools();
    await sleep(300);
    const idleMem = memoryOf(p.pid);
    const peakReset = resetPeak(p.pid);
    let r = await p.request("resources/list", {}, 30_000);
    if (r.msg.error) throw new Error(`resources/list: ${JSON.stringify(r.msg.error)}`);
    const firstPage = memoryOf(p.pid);
    const rssByPage = [firstPage.rssMB];
    let count = r.msg.result.resources.length;
    let pages = 1;
    const pageMs = [r.ms];
    const deadline = performance.now() + 30_000;
    while (r.msg.result.nextCursor && pages < 500 && performance.now() < deadline) {
      r = await p.request("resources/list", { cursor: r.msg.result.nextCursor }, 30_000);
      if (r.msg.error) throw new Error(`resources/list: ${JSON.stringify(r.msg.error)}`);
      count += r.msg.result.resources.length;
      pages += 1;
      pageMs.push(r.ms);
      rssByPage.push(memoryOf(p.pid).rssMB);
    }
    const all = memoryOf(p.pid);
    paging = {
      notebooks: count,
      pages,
      complete: !r.msg.result.nextCursor,
      pageMsP50: median(pageMs),
      idleMB: idleMem.rssMB,
      startupPeakMB: idleMem.hwmMB,
      peakReset,
      firstPageRssMB: firstPage.rssMB,
      maxRssMB: Math.max(...rssByPage),
      lastPageRssMB: rssByPage.at(-1),
      rssByPage: rssByPage.map((v) => Math.round(v * 10) / 10),
      // Growth that follows the project shows as RSS still rising in the second half of the pages;
      // V8 sizing its heap to the allocation rate shows as a rise over the first pages, then flat.
      secondHalfGrowthMB:
        Math.max(...rssByPage.slice(Math.floor(rssByPage.length / 2))) -
        Math.max(...rssByPage.slice(0, Math.floor(rssByPage.length / 2))),
      firstPagePeakMB: firstPage.hwmMB,
      allPagesPeakMB: all.hwmMB,
      rssAfterMB: all.rssMB,
      ratio: all.hwmMB / firstPage.hwmMB,
    };
  } finally {
    await p.stop();
  }
  return {
    idleOursMB: median(idle.map((s) => s.ours.idleMB)),
    idleFloorMB: median(idle.map((s) => s.floor.idleMB)),
    earlyOursMB: median(idle.map((s) => s.ours.earlyMB)),
    earlyFloorMB: median(idle.map((s) => s.floor.earlyMB)),
    idleSettled: idle.every((s) => s.ours.settled && s.floor.settled),
    idlePeakOursMB: median(idle.map((s) => s.ours.hwmMB)),
    idlePeakFloorMB: median(idle.map((s) => s.floor.hwmMB)),
    idle,
    bigNotebook,
    paging,
  };
}

async function figureConversion(modules) {
  const child = track(
    fork(
      path.join(ROOT, "bench/convert.mjs"),
      [modules.content, String(CFG.convertBytes), String(CFG.convertReps), String(CFG.convertBudgetMs)],
      { stdio: ["ignore", "inherit", "inherit", "ipc"] },
    ),
  );
  const out = await withTimeout(
    new Promise((resolve, reject) => {
      child.once("message", resolve);
      child.once("exit", (code) => reject(new Error(`conversion worker exited (${code})`)));
    }),
    CFG.convertBudgetMs + 30_000,
    "conversion",
  );
  child.kill();
  const mbps = (ms) => out.mdBytes / 1e6 / (ms / 1000);
  const parseMs = median(out.samples.parse);
  const serializeMs = median(out.samples.serialize);
  const floorMs = median(out.samples.floor);
  return {
    markdownBytes: out.mdBytes,
    docBytes: out.docBytes,
    roundTripBytes: out.roundTripBytes,
    reps: out.samples.parse.length,
    parseMBps: mbps(parseMs),
    serializeMBps: mbps(serializeMs),
    floorMBps: mbps(floorMs),
    parseRatio: parseMs / floorMs,
    serializeRatio: serializeMs / floorMs,
    samples: out.samples,
  };
}

// ---------------------------------------------------------------------------------------------
// The table

function verdict(ok) {
  return ok === undefined ? "info" : ok ? "PASS" : "FAIL";
}

function buildRows(r) {
  const ms = (v) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
  const x = (v) => `${v.toFixed(2)}×`;
  const kb = (c) => `${(c.bytes / 1024).toFixed(1)} KB ≈${c.tokens} tok`;
  const mb = (v) => `${v.toFixed(1)} MB`;
  const rows = [];
  const row = (figure, ours, floor, ratio, target, ok) =>
    rows.push({ figure, ours, floor, ratio, target, verdict: verdict(ok) });
  const c = r.coldStart;
  if (c) {
    row(
      `1 cold start: spawn→tools/list (${c.pairs} pairs)`,
      ms(c.oursListMs),
      ms(c.floorListMs),
      x(c.ratio),
      "≤ 1.00×",
      c.ratio <= 1,
    );
    row("1 cold start: spawn→initialize", ms(c.oursInitMs), ms(c.floorInitMs), x(c.initRatio), "", undefined);
  }
  const p = r.perCall;
  if (p) {
    row(
      `2 per call p50: retrieve | echo (${p.rounds} rounds)`,
      ms(p.ours.p50),
      ms(p.floor.p50),
      "",
      "",
      undefined,
    );
    row("2 per call p99: retrieve | echo", ms(p.ours.p99), ms(p.floor.p99), "", "", undefined);
    row("2 direct GET (undici) p50 | p99", ms(p.direct.p50), ms(p.direct.p99), "", "", undefined);
    row(
      "2 overhead p50: (ours − direct) / echo",
      ms(p.ours.p50 - p.direct.p50),
      ms(p.floor.p50),
      x(p.ratio),
      "≤ 1.00×",
      p.ratio <= 1,
    );
  }
  const t = r.throughput;
  if (t) {
    row(
      `3 throughput: ${t.size} concurrent calls, 1 session${t.errors ? ` (${t.errors} ERRORS)` : ""}`,
      `${t.oursCallsPerS.toFixed(0)}/s`,
      `${t.directCallsPerS.toFixed(0)}/s direct`,
      x(t.ratio),
      "",
      undefined,
    );
    row(
      "3 TCP connections to the sandbox (session)",
      String(t.connectionsSession),
      "8 (pool)",
      "",
      "≤ 8",
      t.connectionsSession <= 8,
    );
  }
  const k = r.context;
  if (k) {
    row(
      `4 tools/list result (${k.tools} tools)`,
      kb(k.toolsList),
      "",
      "",
      "≤ 8 KB",
      k.toolsList.bytes <= 8 * 1024,
    );
    row(`4 notebooks-list result (${k.list.items} items)`, kb(k.list), "", "", "", undefined);
    row(`4 notebooks-retrieve result (${RETRIEVE_ID})`, kb(k.retrieve), "", "", "", undefined);
  }
  const m = r.memory;
  if (!m) return conversionRows(r, rows, row);
  row(
    `5 RSS idle (${CFG.idleMs / 1000} s after tools/list${m.idleSettled ? "" : ", NOT SETTLED"})`,
    mb(m.idleOursMB),
    mb(m.idleFloorMB),
    x(m.idleOursMB / m.idleFloorMB),
    "≤ 60 MB",
    m.idleOursMB <= 60,
  );
  row(
    "5 RSS 300 ms after tools/list",
    mb(m.earlyOursMB),
    mb(m.earlyFloorMB),
    x(m.earlyOursMB / m.earlyFloorMB),
    "",
    undefined,
  );
  row(
    "5 startup peak (VmHWM when idle)",
    mb(m.idlePeakOursMB),
    mb(m.idlePeakFloorMB),
    x(m.idlePeakOursMB / m.idlePeakFloorMB),
    "",
    undefined,
  );
  if (m.bigNotebook) {
    const b = m.bigNotebook;
    row(
      `5 peak RSS after a ${(b.notebookBytes / 1e6).toFixed(1)} MB notebook`,
      mb(b.peakMB),
      `${mb(b.idleMB)} idle`,
      x(b.peakMB / b.idleMB),
      "",
      undefined,
    );
  }
  const g = m.paging;
  row(
    `5 peak RSS paging ${g.notebooks} notebooks | 1st page${g.peakReset ? "" : " (startup peak incl.)"}`,
    mb(g.allPagesPeakMB),
    mb(g.firstPagePeakMB),
    x(g.ratio),
    "",
    undefined,
  );
  const half = g.secondHalfGrowthMB / g.allPagesPeakMB;
  row(
    `5 RSS growth, 2nd half of the ${g.pages} pages`,
    `${g.secondHalfGrowthMB >= 0 ? "+" : ""}${g.secondHalfGrowthMB.toFixed(1)} MB`,
    "",
    `${(half * 100).toFixed(1)} %`,
    "≤ 5 % (flat)",
    g.complete && half <= 0.05,
  );
  return conversionRows(r, rows, row);
}

function conversionRows(r, rows, row) {
  const x = (v) => `${v.toFixed(2)}×`;
  const v = r.conversion;
  if (!v) return rows;
  const mbps = (s) => `${s.toFixed(1)} MB/s`;
  row(
    `6 Markdown → doc (${(v.markdownBytes / 1e6).toFixed(1)} MB)`,
    mbps(v.parseMBps),
    `${mbps(v.floorMBps)} md-it`,
    x(v.parseRatio),
    "",
    undefined,
  );
  row(
    "6 doc → Markdown",
    mbps(v.serializeMBps),
    `${mbps(v.floorMBps)} md-it`,
    x(v.serializeRatio),
    "",
    undefined,
  );
  return rows;
}

function formatTable(rows) {
  const heads = ["figure", "ours (median)", "floor (median)", "ratio", "target", "verdict"];
  const keys = ["figure", "ours", "floor", "ratio", "target", "verdict"];
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[keys[i]]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  return [
    line(heads),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map((r) => line(keys.map((k) => r[k]))),
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const started = performance.now();
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run npm run build first`);
  let attempt = 0;
  SERVER = await retrying("copying dist/", () => snapshotDist(++attempt));
  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
  };
  log(`bench (${QUICK ? "quick" : "full"}): preparing the sandbox…`);
  const modules = await locateModules();
  const sandbox = await startSandboxHost(modules);
  const undici = await import("undici");
  // Project 1: the realistic seeds plus 40 simple notebooks (a full 25-item list page) and a
  // 5 MB notebook. Project 2: 10,000 notebooks for paging, apart so project 1's lists stay small.
  await sandbox.call("seed", { n: 40, projectId: 1 });
  let big;
  if (ONLY.has("5")) {
    await sandbox.call("seed", { n: CFG.pagingNotebooks, projectId: 2 }, 60_000);
    big = await sandbox.call(
      "insertGenerated",
      { targetBytes: CFG.bigNotebookBytes, title: "Big generated notebook" },
      60_000,
    );
  }

  const results = {
    mode: QUICK ? "quick" : "full",
    machine,
    modules: modules.source,
    server: `${path.relative(ROOT, DIST) || "."}/index.js`,
  };
  const timings = { setupS: (performance.now() - started) / 1000 };
  const timed = async (name, fn) => {
    const t = performance.now();
    const out = await fn();
    timings[`${name}S`] = (performance.now() - t) / 1000;
    return out;
  };
  if (ONLY.has("1")) {
    log("1/6 cold start…");
    results.coldStart = await timed("coldStart", () => figureColdStart(sandbox));
  }
  if (ONLY.has("2")) {
    log("2/6 per-call overhead (and 4/6 context cost)…");
    const { perCall, context } = await timed("perCall", () => figurePerCall(sandbox, undici));
    results.perCall = perCall;
    results.context = context;
  }
  if (ONLY.has("3")) {
    log("3/6 throughput…");
    results.throughput = await timed("throughput", () => figureThroughput(sandbox, undici));
  }
  if (ONLY.has("5")) {
    log("5/6 memory…");
    results.memory = await timed("memory", () => figureMemory(sandbox, big));
  }
  if (ONLY.has("6")) {
    log("6/6 conversion…");
    results.conversion = await timed("conversion", () => figureConversion(modules));
  }
  await sandbox.call("close").catch(() => undefined);

  results.durationS = (performance.now() - started) / 1000;
  results.timings = timings;
  results.table = buildRows(results);
  const header = [
    `posthog-notebooks-mcp ${VERSION} bench (${results.mode}), ${machine.date}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`,
    "ratio = ours ÷ floor as a cost (time, or memory): lower is better, 1.00× = at the floor",
  ].join("\n");
  process.stdout.write(`\n${header}\n\n${formatTable(results.table)}\n\n`);
  const parts = Object.entries(timings)
    .map(([k, v]) => `${k.replace(/S$/, "")} ${v.toFixed(1)}`)
    .join(", ");
  process.stdout.write(
    `took ${results.durationS.toFixed(1)} s (${parts}); all samples in bench/results.json\n`,
  );
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 1)}\n`);
}

await main();
process.exit(0);
