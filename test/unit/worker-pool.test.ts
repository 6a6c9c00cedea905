/**
 * The conversion workers' pool, with a worker written for the test: a job that cannot be sent,
 * answered or finished fails alone, with a reason, and the jobs after it run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { accountedTo, type CpuAccount } from "../../src/cpu-account.js";
import { ConversionFailed, WorkerPool } from "../../src/notebooks/worker-pool.js";

const WORKER = `
import { parentPort } from "node:worker_threads";
parentPort.on("message", ({ name, args }) => {
  if (name === "hang") for (;;) {}
  if (name === "busy") {
    const until = Date.now() + args[1];
    while (Date.now() < until) {}
  }
  if (name === "exit") process.exit(3);
  if (name === "throw") throw new Error("thrown outside any handler");
  if (name === "fail") return parentPort.postMessage({ ok: false, error: "the conversion said no" });
  if (name === "grow") {
    const kept = [];
    for (;;) kept.push(new Array(100_000).fill({ kept: kept.length }));
  }
  if (name === "unreadable") {
    // A port the parent cannot take: posting it without transferring it makes the answer unreadable
    // or unsendable; either way, no answer arrives.
    const { port1 } = new MessageChannel();
    try { parentPort.postMessage({ ok: true, value: port1 }); } catch { /* nothing sent */ }
    return;
  }
  parentPort.postMessage({ ok: true, value: args[0] });
});
`;

let dir: string;
let pool: WorkerPool;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pool-"));
  writeFileSync(join(dir, "worker.mjs"), WORKER);
  pool = new WorkerPool(pathToFileURL(join(dir, "worker.mjs")), { maxWorkers: 2, deadlineMs: 4_000 });
});
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

async function reason(job: Promise<unknown>): Promise<string> {
  try {
    await job;
    return "answered";
  } catch (error) {
    return error instanceof ConversionFailed
      ? `failed: ${error.message}`
      : `error: ${(error as Error).message}`;
  }
}

it("answers jobs, and a conversion's own error is that job's", async () => {
  expect(await pool.run("echo", [{ a: [1, 2] }])).toEqual({ a: [1, 2] });
  expect(await reason(pool.run("fail", []))).toBe("error: the conversion said no");
  expect(await pool.run("echo", ["next"])).toBe("next");
});

it("fails a job whose input cannot be sent, alone", async () => {
  expect(await reason(pool.run("echo", [() => 1]))).toMatch(/^failed: its input could not be handed/);
  expect(await pool.run("echo", ["still here"])).toBe("still here");
});

it("fails a job whose worker exits or throws, and replaces the worker", async () => {
  expect(await reason(pool.run("exit", []))).toMatch(/^failed: its worker (stopped|failed)/);
  expect(await reason(pool.run("throw", []))).toMatch(/^failed: its worker failed/);
  expect(await pool.run("echo", ["after"])).toBe("after");
});

it("stops a job past its deadline, with its worker, while other jobs go on", async () => {
  // Both workers stuck, and more jobs waiting behind them: all get answered once the stuck go.
  const stuck = [pool.run("hang", []), pool.run("hang", [])];
  const after = [pool.run("echo", [1]), pool.run("echo", [2]), pool.run("echo", [3])];
  for (const job of stuck) expect(await reason(job)).toMatch(/^failed: it ran longer than 4 s/);
  expect(await Promise.all(after)).toEqual([1, 2, 3]);
  expect(pool.size).toBeLessThanOrEqual(2);
});

it("fails a job whose answer never comes back readable (past its deadline at worst)", async () => {
  expect(await reason(pool.run("unreadable", []))).toMatch(/^failed: /);
  expect(await pool.run("echo", ["fine"])).toBe("fine");
});

it("stops a worker after a big job, handing its memory back, and answers the next job with a fresh one", async () => {
  const big = new WorkerPool(pathToFileURL(join(dir, "worker.mjs")), { retireAfter: 1_000, budget: 1_000 });
  try {
    expect(await big.run("echo", ["small"], 10)).toBe("small");
    expect(big.size).toBe(1);
    expect(await big.run("echo", ["big"], 5_000)).toBe("big");
    expect(big.size).toBe(0);
    // Big jobs over the budget take turns; each still answers.
    expect(
      await Promise.all([big.run("echo", [1], 5_000), big.run("echo", [2], 5_000), big.run("echo", [3], 10)]),
    ).toEqual([1, 2, 3]);
  } finally {
    await big.close();
  }
});

it("a job that needs more heap than a worker may have fails alone, saying so; the next job runs", async () => {
  const small = new WorkerPool(pathToFileURL(join(dir, "worker.mjs")), { heapMb: 32, deadlineMs: 30_000 });
  try {
    expect(await reason(small.run("grow", []))).toBe(
      "failed: it needed more than the 32 MB a conversion may use",
    );
    expect(await small.run("echo", ["after"])).toBe("after");
  } finally {
    await small.close();
  }
});

it("serves waiting jobs one key's after another's, not first come first served", async () => {
  const one = new WorkerPool(pathToFileURL(join(dir, "worker.mjs")), { maxWorkers: 1, deadlineMs: 30_000 });
  const a = { chargeCpu: () => undefined };
  const b = { chargeCpu: () => undefined };
  const order: string[] = [];
  const run = (account: CpuAccount, label: string, ms = 0) =>
    accountedTo(account, () => one.run("busy", [label, ms])).then(() => order.push(label));
  try {
    // The first holds the only worker while the rest queue: key a's three, then key b's one.
    await Promise.all([run(a, "a1", 200), run(a, "a2"), run(a, "a3"), run(a, "a4"), run(b, "b1")]);
    expect(order).toEqual(["a1", "a2", "b1", "a3", "a4"]);
  } finally {
    await one.close();
  }
});

it("serves first the waiting key that spent the least processing time in the last minute", async () => {
  const one = new WorkerPool(pathToFileURL(join(dir, "worker.mjs")), { maxWorkers: 1, deadlineMs: 30_000 });
  // Key a has been converting for ten seconds of the last minute; key b has spent nothing.
  const a = { chargeCpu: () => undefined, cpuSpentMs: () => 10_000 };
  const b = { chargeCpu: () => undefined, cpuSpentMs: () => 0 };
  const order: string[] = [];
  const run = (account: CpuAccount, label: string, ms = 0) =>
    accountedTo(account, () => one.run("busy", [label, ms])).then(() => order.push(label));
  try {
    // Key a's queued first, key b's last: b's goes as soon as the worker is free.
    await Promise.all([run(a, "a1", 200), run(a, "a2"), run(a, "a3"), run(b, "b1"), run(b, "b2")]);
    expect(order).toEqual(["a1", "b1", "b2", "a2", "a3"]);
  } finally {
    await one.close();
  }
});

it("runs a small job beside a big one over the budget, in the other worker", async () => {
  const pool = new WorkerPool(pathToFileURL(join(dir, "worker.mjs")), { budget: 1_000, deadlineMs: 4_000 });
  try {
    let bigSettled = false;
    const big = pool.run("hang", [], 5_000).finally(() => {
      bigSettled = true;
    });
    // Answered while the big one still runs (not after its deadline stops it).
    expect(await pool.run("echo", ["small"], 100)).toBe("small");
    expect(bigSettled).toBe(false);
    expect(await reason(big)).toMatch(/^failed: it ran longer than 4 s/);
  } finally {
    await pool.close();
  }
});

it("runs another key's small job while a key's second big job waits for the budget", async () => {
  const pool = new WorkerPool(pathToFileURL(join(dir, "worker.mjs")), { budget: 1_000, deadlineMs: 4_000 });
  const a = { chargeCpu: () => undefined };
  const b = { chargeCpu: () => undefined };
  try {
    let bigSettled = false;
    const first = accountedTo(a, () => pool.run("hang", [], 5_000)).finally(() => {
      bigSettled = true;
    });
    // Key a's next big job waits for the budget; key b's small one must not wait behind it.
    const second = accountedTo(a, () => pool.run("echo", ["second big"], 5_000));
    expect(await accountedTo(b, () => pool.run("echo", ["small"], 100))).toBe("small");
    expect(bigSettled).toBe(false);
    expect(await reason(first)).toMatch(/^failed: it ran longer than 4 s/);
    expect(await second).toBe("second big");
  } finally {
    await pool.close();
  }
});
