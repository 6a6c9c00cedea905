#!/usr/bin/env node
/**
 * The bench: what a user feels. Agent tasks against the sandbox with 100 ms of latency on every
 * upstream request (as PostHog Cloud answers), each done with this server's tools and with PostHog's
 * own MCP tools as they are today: upstream requests, wall time, the tokens the agent reads and
 * writes, and the task's floor. Beside them: HTTP throughput, cold start and idle memory against a
 * minimal SDK server, the size of tools/list, and Markdown conversion. See bench/README.md.
 *
 *   npm run bench                   # builds, then: node bench/run.mjs
 *   node bench/run.mjs --quick      # a smoke run (fewer samples; same figures)
 *   node bench/run.mjs --only tasks,http,start,memory,size,convert
 *   node bench/run.mjs --posthog-budget 25000   # PostHog's results capped to a client budget
 *   node bench/run.mjs --dist DIR   # measure another build of the server (default: ./dist)
 *
 * Prints the tables and the machine, and writes everything (every sample) to bench/results.json.
 * Only 127.0.0.1 is ever used. Every subprocess dies with the bench; every loop is bounded in
 * count and in time, and a watchdog ends the run if it ever overruns. A task or a figure that
 * fails or times out is reported, and the rest still print.
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
import { posthogTools } from "./posthog-tools.mjs";
import { TASKS } from "./tasks.mjs";

const QUICK = process.argv.includes("--quick");
const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The value after a flag (`--only tasks`), or undefined. */
function flag(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}
const FIGURES = ["tasks", "http", "start", "memory", "size", "convert"];
const ONLY = new Set((flag("--only") ?? FIGURES.join(",")).split(",").map((f) => f.trim()));
const DIST = path.resolve(flag("--dist") ?? path.join(ROOT, "dist"));
let SERVER = path.join(DIST, "index.js"); // replaced by the snapshot's copy in main()
const SERVER_NODE_ARGS = [];
const FLOOR = path.join(ROOT, "bench/floor-server.mjs");
const RESULTS = path.join(ROOT, "bench/results.json");
const VERSION = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version;

/** Latency added to every upstream request in the task figure: a PostHog Cloud round trip. */
const LATENCY_MS = 100;

/** A per-client result budget for PostHog's tools, in tokens (their newer versions have one per client profile; none by default). */
const POSTHOG_BUDGET = flag("--posthog-budget") ? Number(flag("--posthog-budget")) : undefined;

/** Sample counts and time budgets per figure. */
const CFG = QUICK
  ? {
      taskRuns: 1,
      coldPairs: 4,
      coldBudgetMs: 6_000,
      memReps: 1,
      idleMs: 10_000,
      convertBytes: 1_000_000,
      convertReps: 2,
      convertBudgetMs: 20_000,
      hardLimitMs: 150_000,
      taskBudgetMs: 60_000,
      phaseBudgetMs: 90_000,
      httpSeconds: 1.5,
    }
  : {
      taskRuns: 3,
      coldPairs: 20,
      coldBudgetMs: 35_000,
      memReps: 3,
      idleMs: 10_000,
      convertBytes: 5_000_000,
      convertReps: 3,
      convertBudgetMs: 120_000,
      hardLimitMs: 480_000,
      taskBudgetMs: 90_000,
      phaseBudgetMs: 200_000,
      httpSeconds: 4,
    };

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
for (const event of ["uncaughtException", "unhandledRejection"]) {
  process.on(event, (error) => {
    process.stderr.write(`bench: ${error?.stack ?? error}\n`);
    try {
      report(
        `Stopped by an error (${String(error?.message ?? error).split("\n")[0]}): the figures above are those measured by then.`,
      );
    } catch {
      // nothing more to print
    }
    process.exit(1);
  });
}
setTimeout(() => {
  process.stderr.write(`bench: over the ${CFG.hardLimitMs / 1000} s limit, stopping\n`);
  report(`Stopped at the ${CFG.hardLimitMs / 1000} s limit: the figures above are those measured by then.`);
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
    if (typeof s.startSandbox === "function" && typeof c.markdownToDocument === "function") {
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
// Cold start

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

// ---------------------------------------------------------------------------------------------
// Agent tasks

/** What a client passes an agent from one of our results: every text block and the structured content. */
function resultChars(result) {
  let chars = 0;
  for (const block of result.content ?? []) if (block.type === "text") chars += block.text.length;
  if (result.structuredContent !== undefined) chars += JSON.stringify(result.structuredContent).length;
  return chars;
}

/** Our tools over stdio, counting what the agent writes and reads. */
function ourTools(p, tally) {
  return async function call(name, args) {
    tally.calls += 1;
    tally.written += name.length + JSON.stringify(args).length;
    const r = await p.request("tools/call", { name, arguments: args }, 60_000);
    if (r.msg.error) throw new Error(`${name}: ${JSON.stringify(r.msg.error)}`);
    const result = r.msg.result;
    tally.read += resultChars(result);
    // What a client that passes the model only the text blocks (or only structuredContent) reads.
    tally.readText = (tally.readText ?? 0) + resultChars({ content: result.content });
    if (result.isError) throw new Error(`${name}: ${result.content?.[0]?.text}`);
    const markdown = fencedMarkdown(result.content?.[0]?.text ?? "");
    return markdown === undefined ? result.structuredContent : { ...result.structuredContent, markdown };
  };
}

/** The notebook Markdown a result shows in its fenced block, as an agent reads it. */
function fencedMarkdown(text) {
  const open = /^(`{3,})markdown$/m.exec(text);
  if (!open) return undefined;
  const from = open.index + open[0].length + 1;
  const end = text.indexOf(`\n${open[1]}\n`, from - 1);
  const close = end === -1 ? text.lastIndexOf(`\n${open[1]}`) : end;
  return close < from - 1 ? undefined : text.slice(from, close);
}

/** Upstream requests since `from`, without the key introspection (made once a session, at start). */
async function upstreamSince(sandbox, from) {
  const requests = await sandbox.call("requests", { from });
  return requests.filter((r) => !r.path.startsWith("/api/personal_api_keys/"));
}

async function runTask(task, side, sandbox, call, data, content) {
  const from = await sandbox.call("requestCount");
  const t = performance.now();
  await task[side](call, data, content);
  const ms = performance.now() - t;
  const requests = await upstreamSince(sandbox, from);
  if (task.check) await task.check(sandbox, data);
  return { ms, requests: requests.length, sent: requests.map((r) => `${r.method} ${r.status}`) };
}

/**
 * Whether a task meets its targets: tokens at most a third of PostHog's, or within 1.2× the
 * floor where the floor itself is over a third of PostHog's; never more than PostHog's; and no
 * more upstream requests than PostHog's.
 */
function targetsOf(ours, theirs, floorTokens) {
  const oursTokens = ours.readTokens + ours.writtenTokens;
  const theirsTokens = theirs.readTokens + theirs.writtenTokens;
  const floorBound = floorTokens > theirsTokens / 3;
  const tokenTarget = floorBound ? Math.min(1.2 * floorTokens, theirsTokens) : theirsTokens / 3;
  return {
    tokenTarget,
    floorBound,
    tokensMet: oursTokens <= tokenTarget && oursTokens <= theirsTokens,
    requestsMet: ours.requests <= theirs.requests,
  };
}

async function figureTasks(sandbox, modules) {
  const content = await import(pathToFileURL(modules.content).href);
  await sandbox.call("fault", { fault: { kind: "latency", ms: LATENCY_MS } });
  const p = new McpProc(SERVER, { env: envFor(sandbox) });
  const rows = [];
  try {
    await p.initialize();
    for (const task of TASKS) {
      // A task that fails or times out is reported, and the others still run.
      try {
        const runs = { ours: [], theirs: [] };
        let floor;
        for (let i = 0; i < CFG.taskRuns; i++) {
          for (const side of i % 2 === 0 ? ["ours", "theirs"] : ["theirs", "ours"]) {
            const tally = { calls: 0, read: 0, written: 0 };
            const call =
              side === "ours"
                ? ourTools(p, tally)
                : posthogTools(sandbox, tally, { budgetTokens: POSTHOG_BUDGET });
            const data = await task.prepare(sandbox);
            floor ??= await task.floor(sandbox, data, content);
            const run = await withTimeout(
              runTask(task, side, sandbox, call, data, content),
              CFG.taskBudgetMs,
              `task ${task.id} (${side})`,
            );
            runs[side].push({ ...run, ...tally });
          }
        }
        const summary = (list) => ({
          calls: list[0].calls,
          requests: list[0].requests,
          sent: list[0].sent,
          ms: median(list.map((r) => r.ms)),
          readTokens: Math.round(list[0].read / 4),
          readTextTokens: list[0].readText === undefined ? undefined : Math.round(list[0].readText / 4),
          writtenTokens: Math.round(list[0].written / 4),
          steady: list.every((r) => r.requests === list[0].requests && r.read === list[0].read),
        });
        const ours = summary(runs.ours);
        const theirs = summary(runs.theirs);
        const floorTokens = Math.round((floor.written + floor.read) / 4);
        const tokenRatio =
          (ours.readTokens + ours.writtenTokens) / (theirs.readTokens + theirs.writtenTokens);
        rows.push({
          id: task.id,
          title: task.title,
          ours,
          theirs,
          floor: { ...floor, tokens: floorTokens },
          tokenRatio,
          ...targetsOf(ours, theirs, floorTokens),
          runs,
        });
        log(
          `  ${task.id}: ${ours.requests} requests, ${Math.round(ours.ms)} ms, ${ours.readTokens + ours.writtenTokens} tokens`,
        );
      } catch (error) {
        rows.push({ id: task.id, title: task.title, error: String(error?.message ?? error).slice(0, 300) });
        log(`  ${task.id}: FAILED: ${String(error?.message ?? error).split("\n")[0]}`);
      }
    }
  } finally {
    await p.stop();
    await sandbox.call("clearFaults").catch(() => undefined);
  }
  return { latencyMs: LATENCY_MS, runs: CFG.taskRuns, budgetTokens: POSTHOG_BUDGET ?? null, tasks: rows };
}

// ---------------------------------------------------------------------------------------------
// HTTP throughput: notebooks-list over Streamable HTTP against a minimal SDK server's trivial tool

const FLOOR_HTTP = path.join(ROOT, "bench/floor-http-server.mjs");
const HTTP_LEVELS = [1, 10, 50];
const HTTP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/** A server process answering Streamable HTTP, and its URL (read from its output). */
async function startHttpServer(script, args, env, pattern) {
  const child = track(spawn(process.execPath, [script, ...args], { env, stdio: ["ignore", "pipe", "pipe"] }));
  let out = "";
  const url = await withTimeout(
    new Promise((resolve, reject) => {
      const look = (chunk) => {
        out += chunk;
        const match = pattern.exec(out);
        if (match) resolve(match[1]);
      };
      child.stdout.on("data", look);
      child.stderr.on("data", look);
      child.once("exit", (code) =>
        reject(new Error(`${path.basename(script)} exited (${code}): ${out.slice(-500)}`)),
      );
    }),
    15_000,
    `starting ${path.basename(script)}`,
  );
  child.stdout.resume();
  child.stderr.resume();
  return { child, url };
}

async function mcpPost(url, body, headers) {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...HTTP_HEADERS, ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
  return { session: response.headers.get("mcp-session-id"), text };
}

let keyCount = 0;
/** A new full-scope sandbox key: a tenant of its own, with PostHog's per-key rate limits untouched. */
async function freshKey(sandbox) {
  const value = `phx_bench${String(++keyCount).padStart(6, "0")}${"0".repeat(34)}`;
  await sandbox.call("addKey", { value });
  return { authorization: `Bearer ${value}` };
}

/**
 * Tool calls per second with `concurrency` sessions, each calling in a loop for `seconds`.
 * `auth()` gives each session its headers (ours: a key of its own).
 */
async function throughput(url, auth, tool, concurrency, seconds) {
  const sessions = [];
  for (let i = 0; i < concurrency; i++) {
    const own = await auth();
    const init = await mcpPost(
      url,
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-11-25",
          capabilities: {},
          clientInfo: { name: `bench-${i}`, version: "1" },
        },
      },
      own,
    );
    const headers = { ...own, "mcp-session-id": init.session, "mcp-protocol-version": "2025-11-25" };
    await mcpPost(url, { jsonrpc: "2.0", method: "notifications/initialized" }, headers);
    sessions.push(headers);
  }
  let done = 0;
  let failed = 0;
  let firstFailure;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    sessions.map(async (headers) => {
      let id = 2;
      while (performance.now() < until) {
        try {
          const r = await mcpPost(
            url,
            { jsonrpc: "2.0", id: id++, method: "tools/call", params: tool },
            headers,
          );
          if (r.text.includes('"isError":true') || !r.text.includes('"result"')) {
            failed += 1;
            firstFailure ??= r.text.slice(0, 300);
          } else done += 1;
        } catch (error) {
          failed += 1;
          firstFailure ??= String(error?.message ?? error).slice(0, 300);
        }
      }
    }),
  );
  const elapsed = seconds + Math.max(0, (performance.now() - until) / 1000);
  return { rps: done / elapsed, done, failed, firstFailure };
}

/** Requests per second the sandbox alone answers for notebooks-list's upstream request (the bound on ours). */
async function upstreamThroughput(sandbox, concurrency, seconds) {
  const url = `${sandbox.url}/api/projects/@current/notebooks/?limit=10`;
  const headers = { authorization: `Bearer ${sandbox.key}` };
  let done = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const response = await fetch(url, { headers });
        await response.text();
        if (response.ok) done += 1;
      }
    }),
  );
  return done / (seconds + Math.max(0, (performance.now() - until) / 1000));
}

async function figureHttp(sandbox) {
  const env = envFor(sandbox, { POSTHOG_MCP_LOG_LEVEL: "info" });
  const ours = await startHttpServer(SERVER, ["--http", "--port", "0"], env, /"url":"(http:[^"]+\/mcp)"/);
  const floor = await startHttpServer(FLOOR_HTTP, [], env, /(http:\/\/127\.0\.0\.1:\d+\/mcp)/);
  const list = { name: "notebooks-list", arguments: { limit: 10 } };
  const echo = { name: "echo", arguments: { text: "hello" } };
  const auth = () => freshKey(sandbox);
  const none = async () => ({});
  const levels = [];
  try {
    // Warm both (JIT, connections); not counted.
    await throughput(ours.url, auth, list, 2, 0.5);
    await throughput(floor.url, none, echo, 2, 0.5);
    for (const concurrency of HTTP_LEVELS) {
      const runs = { ours: [], floor: [] };
      // Side by side, alternating which goes first.
      for (const order of [
        ["ours", "floor"],
        ["floor", "ours"],
      ]) {
        for (const side of order) {
          runs[side].push(
            side === "ours"
              ? await throughput(ours.url, auth, list, concurrency, CFG.httpSeconds / 2)
              : await throughput(floor.url, none, echo, concurrency, CFG.httpSeconds / 2),
          );
        }
      }
      const rps = (list) => list.reduce((sum, r) => sum + r.rps, 0) / list.length;
      const upstreamRps = await upstreamThroughput(sandbox, concurrency, CFG.httpSeconds / 2);
      levels.push({
        concurrency,
        oursRps: rps(runs.ours),
        floorRps: rps(runs.floor),
        ratio: rps(runs.ours) / rps(runs.floor),
        upstreamRps,
        failed: runs.ours.reduce((n, r) => n + r.failed, 0) + runs.floor.reduce((n, r) => n + r.failed, 0),
        firstFailure: [...runs.ours, ...runs.floor].find((r) => r.firstFailure)?.firstFailure,
        runs,
      });
      log(
        `  ${concurrency} sessions: ${Math.round(rps(runs.ours))} / ${Math.round(rps(runs.floor))} calls/s`,
      );
    }
  } finally {
    ours.child.kill("SIGTERM");
    floor.child.kill("SIGTERM");
  }
  return { seconds: CFG.httpSeconds, levels };
}

function httpTable(h) {
  const rows = h.levels.map((l) => [
    `${l.concurrency} session${l.concurrency === 1 ? "" : "s"}`,
    `${Math.round(l.oursRps).toLocaleString("en")} calls/s`,
    `${Math.round(l.floorRps).toLocaleString("en")} calls/s`,
    `${l.ratio.toFixed(2)}×${l.ratio >= 0.8 ? " ✓" : " ✗"} (≥ 0.80×)${l.failed ? `; ${l.failed} failed` : ""}`,
    `${Math.round(l.upstreamRps).toLocaleString("en")} requests/s`,
  ]);
  return `HTTP throughput, ${h.seconds} s per level and side, sessions calling in a loop (ours: notebooks-list against the sandbox, no added latency, each session a tenant with its own key; floor: a minimal SDK server's trivial tool):\n\n${formatTable(["concurrent sessions", "ours", "floor", "ratio / target", "the sandbox alone (list's upstream request)"], rows)}`;
}

// ---------------------------------------------------------------------------------------------
// What every conversation pays: tools/list

async function figureSize(sandbox) {
  const p = new McpProc(SERVER, { env: envFor(sandbox) });
  try {
    await p.initialize();
    const r = await p.listTools();
    const text = JSON.stringify(r.msg.result);
    return {
      tools: r.msg.result.tools.length,
      bytes: Buffer.byteLength(text),
      tokens: Math.round(text.length / 4),
      perTool: Object.fromEntries(r.msg.result.tools.map((t) => [t.name, JSON.stringify(t).length])),
    };
  } finally {
    await p.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Memory at idle

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

async function figureMemory(sandbox) {
  const env = envFor(sandbox);
  // Ours and the floor's side by side, one pair at a time (with more processes starting at once,
  // V8's memory reducer comes later than CFG.idleMs), the start order alternating.
  const idle = [];
  for (let i = 0; i < CFG.memReps; i++) {
    const order = i % 2 === 0 ? [SERVER, FLOOR] : [FLOOR, SERVER];
    const pair = await Promise.all(
      order.map(async (script) => ({ script, ...(await idleMemory(script, env)) })),
    );
    for (const r of pair) await r.p.stop();
    idle.push({
      ours: pair.find((r) => r.script === SERVER).mem,
      floor: pair.find((r) => r.script === FLOOR).mem,
    });
  }
  return {
    idleOursMB: median(idle.map((s) => s.ours.idleMB)),
    idleFloorMB: median(idle.map((s) => s.floor.idleMB)),
    idleSettled: idle.every((s) => s.ours.settled && s.floor.settled),
    idlePeakOursMB: median(idle.map((s) => s.ours.hwmMB)),
    idlePeakFloorMB: median(idle.map((s) => s.floor.hwmMB)),
    idle,
  };
}

// ---------------------------------------------------------------------------------------------
// Conversion

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
  const both = (name) => median(out.samples[name].parse) + median(out.samples[name].serialize);
  const ordinary = both("ordinary");
  const inputs = Object.keys(out.sizes).map((name) => ({
    name,
    chars: out.sizes[name].markdown,
    nodes: out.sizes[name].nodes,
    documentRatio: out.sizes[name].document / out.sizes.ordinary.document,
    // Time per byte of Markdown in plus document out, against ordinary Markdown's.
    perByteRatio:
      both(name) /
      (out.sizes[name].markdown + out.sizes[name].document) /
      (ordinary / (out.sizes.ordinary.markdown + out.sizes.ordinary.document)),
    parseMs: median(out.samples[name].parse),
    serializeMs: median(out.samples[name].serialize),
    ratio: both(name) / ordinary,
  }));
  return {
    bytes: out.bytes,
    reps: out.samples.ordinary.parse.length,
    ordinaryMs: ordinary,
    floorMs: median(out.samples.floor.parse),
    inputs,
    worst: inputs.reduce((worst, input) => (input.ratio > worst.ratio ? input : worst)),
    samples: out.samples,
  };
}

// ---------------------------------------------------------------------------------------------
// The tables

function formatTable(heads, rows) {
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  return [line(heads), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

const ms = (v) => `${Math.round(v).toLocaleString("en")} ms`;
const tok = (v) => v.toLocaleString("en");

function taskTable(t) {
  const both = (side) => `${tok(side.readTokens)} + ${tok(side.writtenTokens)}`;
  const rows = t.tasks.map((r) => {
    if (r.error) return [r.title, `FAILED: ${r.error}`, "", "", "", "", "", ""];
    const target = r.floorBound ? `≤ 1.2× floor (${tok(Math.round(r.tokenTarget))})` : "≤ ⅓ of PostHog's";
    return [
      r.title,
      `${r.ours.requests} / ${r.theirs.requests}${r.requestsMet ? " ✓" : " ✗"}`,
      `${ms(r.ours.ms)} / ${ms(r.theirs.ms)}`,
      both(r.ours),
      both(r.theirs),
      tok(r.floor.tokens),
      `${(r.tokenRatio * 100).toFixed(1)} %`,
      `${target}${r.tokensMet ? " ✓" : " ✗"}`,
    ];
  });
  return formatTable(
    [
      "task",
      "upstream requests, ours / PostHog's",
      "time, ours / PostHog's",
      "tokens, ours: read + written",
      "tokens, PostHog's: read + written",
      "floor",
      "ours ÷ PostHog's",
      "target",
    ],
    rows,
  );
}

function otherTable(r) {
  const rows = [];
  const x = (v) => `${v.toFixed(2)}×`;
  const mb = (v) => `${v.toFixed(1)} MB`;
  if (r.coldStart) {
    const c = r.coldStart;
    rows.push([
      `cold start: spawn → initialize → tools/list (median of ${c.pairs} pairs)`,
      ms(c.oursListMs),
      ms(c.floorListMs),
      `${x(c.ratio)}${c.ratio <= 1 ? " ✓" : " ✗"} (≤ 1.00×)`,
    ]);
  }
  if (r.memory) {
    const m = r.memory;
    rows.push([
      `RSS idle, ${CFG.idleMs / 1000} s after tools/list${m.idleSettled ? "" : " (NOT SETTLED)"}`,
      mb(m.idleOursMB),
      mb(m.idleFloorMB),
      `${x(m.idleOursMB / m.idleFloorMB)}${m.idleOursMB <= 60 ? " ✓" : " ✗"} (≤ 60 MB)`,
    ]);
    rows.push([
      "startup peak (VmHWM)",
      mb(m.idlePeakOursMB),
      mb(m.idlePeakFloorMB),
      x(m.idlePeakOursMB / m.idlePeakFloorMB),
    ]);
  }
  if (r.size) {
    const s = r.size;
    rows.push([
      `tools/list result, ${s.tools} tools`,
      `${(s.bytes / 1024).toFixed(1)} KB ≈ ${tok(s.tokens)} tokens`,
      "",
      `${s.bytes <= 9.5 * 1024 ? "✓" : "✗"} (≤ 9.5 KB)`,
    ]);
  }
  if (r.conversion) {
    const v = r.conversion;
    const mb = (v.bytes / 1e6).toFixed(0);
    const mbps = (ms) => `${(v.bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
    rows.push([
      `${mb} MB of ordinary Markdown → document → Markdown`,
      `${ms(v.ordinaryMs)} (${mbps(v.ordinaryMs)})`,
      `${ms(v.floorMs)} (markdown-it render alone)`,
      "",
    ]);
    for (const input of v.inputs.filter((i) => i.name !== "ordinary")) {
      rows.push([
        `${mb} MB adversarial: ${input.name}`,
        ms(input.parseMs + input.serializeMs),
        "",
        `${x(input.ratio)} of ordinary${input.ratio <= 2 ? " ✓" : " ✗"} (≤ 2×); document ${x(input.documentRatio)} the size, ${x(input.perByteRatio)} per byte in + out`,
      ]);
    }
  }
  return formatTable(["figure", "ours", "floor", "ratio / target"], rows);
}

// ---------------------------------------------------------------------------------------------

const results = { failures: {} };
let printed = false;

/** The tables of whatever figures have been measured (also when the run is cut short). */
function report(note) {
  if (printed) return;
  printed = true;
  const machine = results.machine ?? {};
  const header = [
    `posthog-notebooks-mcp ${VERSION} bench (${results.mode ?? "?"}), ${machine.date ?? new Date().toISOString()}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GiB, Node ${machine.node}, ${machine.platform}`,
  ].join("\n");
  let out = `\n${header}\n`;
  if (results.tasks) {
    const budget = results.tasks.budgetTokens
      ? `, PostHog's results capped at ${results.tasks.budgetTokens} tokens`
      : "";
    out += `\nAgent tasks, ${LATENCY_MS} ms on every upstream request; median of ${CFG.taskRuns} runs${budget}; tokens = characters ÷ 4 of what the agent writes (tool name and arguments) and reads (text blocks and structuredContent); floor = what the agent must write and the notebook text it must see:\n\n${taskTable(results.tasks)}\n`;
  }
  if (results.http) out += `\n${httpTable(results.http)}\n`;
  if (results.coldStart || results.memory || results.size || results.conversion) {
    out += `\n${otherTable(results)}\n`;
  }
  for (const [name, message] of Object.entries(results.failures)) out += `\n${name}: FAILED: ${message}\n`;
  const parts = Object.entries(results.timings ?? {})
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(", ");
  if (results.durationS !== undefined) {
    out += `\ntook ${results.durationS.toFixed(1)} s (${parts}); all samples in bench/results.json\n`;
  }
  if (note) out += `\n${note}\n`;
  process.stdout.write(out);
  try {
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 1)}\n`);
  } catch {
    // the tables are out; the samples file is a convenience
  }
}

async function main() {
  const started = performance.now();
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run npm run build first`);
  let attempt = 0;
  SERVER = await retrying("copying dist/", () => snapshotDist(++attempt));
  const cpus = os.cpus();
  results.machine = {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
  };
  results.mode = QUICK ? "quick" : "full";
  log(`bench (${results.mode}): preparing the sandbox…`);
  const modules = await locateModules();
  results.modules = modules.source;
  results.server = `${path.relative(ROOT, DIST) || "."}/index.js`;
  const sandbox = await startSandboxHost(modules);
  // The key owner's current project: the realistic seeds and 30 more notebooks.
  await sandbox.call("seed", { n: 30, projectId: 1 });

  results.timings = {};
  /** A figure: timed, bounded, and on failure reported while the others still run. */
  const phase = async (name, key, fn) => {
    if (!ONLY.has(name)) return;
    const t = performance.now();
    log(`${name}…`);
    try {
      results[key] = await withTimeout(fn(), CFG.phaseBudgetMs, name);
    } catch (error) {
      results.failures[name] = String(error?.message ?? error).slice(0, 500);
      log(`${name}: FAILED: ${results.failures[name].split("\n")[0]}`);
    }
    results.timings[name] = (performance.now() - t) / 1000;
  };
  await phase("tasks", "tasks", () => figureTasks(sandbox, modules));
  await phase("http", "http", () => figureHttp(sandbox));
  await phase("start", "coldStart", () => figureColdStart(sandbox));
  await phase("memory", "memory", () => figureMemory(sandbox));
  await phase("size", "size", () => figureSize(sandbox));
  await phase("convert", "conversion", () => figureConversion(modules));
  await sandbox.call("close").catch(() => undefined);
  results.durationS = (performance.now() - started) / 1000;
  report();
}

await main();
process.exit(0);
