/**
 * Where a conversion runs: on the server's own thread when it is small (most are: milliseconds),
 * in a worker thread when it is big, so that converting a long notebook never holds up the other
 * calls. A write is one job (content/write-job.ts): strings and bytes go in, the request body
 * comes back as bytes. Workers start on first need (at most two at once, beyond which conversions
 * wait their turn; big ones take turns within a budget of input), stop after a big job (handing
 * back the memory it grew) and after 5 s idle, so an idle server holds none. A job its worker cannot take,
 * answer or finish within 2 minutes fails alone, as a tool error, and the worker in doubt is replaced.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Conversions } from "../content/worker.js";
import { type CpuAccount, chargeCpu, currentAccount, metered } from "../cpu-account.js";
import type { Logger } from "../logger.js";
import { toolError } from "../posthog/errors.js";

/**
 * Characters of Markdown or JSON from which a conversion runs in a worker. Below, the worst input
 * converts in about 10 ms (2,000 characters of `*a`; ordinary text in under 1 ms): at 32 KB, the
 * worst took 195 ms of the server's thread, and eight sessions of one key sending it held every
 * other call 0.9 s (at 4 KB, 0.2 s). Handing a job over costs little (strings and bytes in, bytes out: see
 * content/write-job.ts); a worker idle for 5 s stops, so the first big conversion after a pause
 * waits for one to start.
 */
export const WORKER_THRESHOLD = 2 * 1024;
const MAX_WORKERS = 2;
const IDLE_MS = 5_000;
/**
 * A conversion in a worker answered within this, or stopped: 5 MB converts in about a second on an
 * idle machine, so this leaves room for a very busy one.
 */
const DEADLINE_MS = 120_000;
/**
 * Megabytes of a worker's young generation (V8's default is 48): a conversion makes objects by the
 * million that die young, and a smaller nursery collects them sooner. Measured on eight 4 MB
 * creates: the process's peak 60–70 MB lower, the creates no slower.
 */
const YOUNG_MB = 12;
/**
 * Megabytes of a worker's old generation, at most: a job that needs more stops its worker and
 * fails alone, saying so. Rewriting a notebook of the biggest body PostHog takes (3.7 MB of
 * Markdown, 20 MB of JSON) fits in 256; Markdown shaped to make many nodes (very wide tables,
 * lines dense with formatting) took a worker past 2.5 GB without it.
 */
const HEAP_MB = 384;
/**
 * Characters of input converting at once in all workers, at most (one bigger job runs alone): two
 * jobs of just under a megabyte each, shaped to make many nodes, took two workers to their heap
 * cap at once (879 MB in all) with 2M.
 */
const BUDGET = 1024 * 1024;
/** A worker that converted this many characters or more stops after it (its heap grew with them). */
const RETIRE_AFTER = 512 * 1024;

type ContentModule = typeof import("../content/index.js");
let loading: Promise<ContentModule> | undefined;

/** The content module, loaded on first use. */
export function contentModule(): Promise<ContentModule> {
  loading ??= import("../content/index.js");
  return loading;
}

/**
 * A bundled worker, `name` (dist/<name>.js, next to the chunk this code is bundled into). Run from
 * the sources (tests), there is none, and its work runs on the server's thread.
 */
export function bundledWorker(name: string): URL | undefined {
  const url = new URL(`../${name}.js`, import.meta.url);
  return url.protocol === "file:" && existsSync(fileURLToPath(url)) ? url : undefined;
}

interface Job {
  name: string;
  args: unknown[];
  weight: number;
  resolve(value: unknown, ms: number): void;
  reject(error: Error): void;
  /** Who its processing time is charged to: the key whose call asked for it. */
  account: CpuAccount | undefined;
  /** When its worker was handed it. */
  sent?: number;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  idle: NodeJS.Timeout | undefined;
  deadline: NodeJS.Timeout | undefined;
}

let log: Pick<Logger, "debug"> | undefined;

/** Where conversions in workers are logged (at debug level). */
export function logConversionsTo(logger: Pick<Logger, "debug">): void {
  log = logger;
}

/** A job its worker could not take or answer (not a conversion's own error): why, in words. */
export class ConversionFailed extends Error {}

export interface PoolOptions {
  /** Workers at once, at most. */
  maxWorkers?: number;
  /** A worker idle this long stops. */
  idleMs?: number;
  /** A job not answered within this is stopped with its worker, which is replaced. */
  deadlineMs?: number;
  /**
   * Characters of input converting at once, at most (a job bigger than this runs alone): a worker
   * converting a 4 MB notebook grows to a few hundred megabytes, so big jobs take turns.
   */
  budget?: number;
  /** A worker that ran a job this big (characters) stops after it, handing its memory back. */
  retireAfter?: number;
  /** Megabytes of a worker's old generation, at most (a job needing more fails alone). */
  heapMb?: number;
}

/**
 * Worker threads running jobs one at a time each. A job that cannot be sent (its arguments do not
 * clone) or answered (its result does not clone, its worker fails or exits, or it runs past its
 * deadline) fails alone: its worker, if it is in doubt, is stopped and replaced, and the jobs
 * waiting go on.
 */
export class WorkerPool {
  readonly #slots: Slot[] = [];
  /**
   * Jobs waiting, by whose they are (the key charged for them), each key's in order; keys in the
   * order they are served next: one job of each in turn, so that a key with many jobs queued waits
   * behind itself, not ahead of the others (first come, first served let a tenant's flood of long
   * requests hold every other tenant's for seconds).
   */
  readonly #waiting = new Map<CpuAccount | undefined, Job[]>();
  readonly #maxWorkers: number;
  readonly #idleMs: number;
  readonly #deadlineMs: number;
  readonly #budget: number;
  readonly #retireAfter: number;
  readonly #heapMb: number;
  /** Characters of input of the big jobs running now (see `#small`). */
  #weight = 0;

  constructor(
    private readonly file: URL,
    options: PoolOptions = {},
  ) {
    this.#maxWorkers = options.maxWorkers ?? MAX_WORKERS;
    this.#idleMs = options.idleMs ?? IDLE_MS;
    this.#deadlineMs = options.deadlineMs ?? DEADLINE_MS;
    this.#budget = options.budget ?? BUDGET;
    this.#retireAfter = options.retireAfter ?? RETIRE_AFTER;
    this.#heapMb = options.heapMb ?? HEAP_MB;
  }

  /** Workers running now. */
  get size(): number {
    return this.#slots.length;
  }

  /** Runs a job; `weight`: about how many characters it converts (see `PoolOptions.budget`). */
  run(name: string, args: unknown[], weight = 0): Promise<unknown> {
    return this.timed(name, args, weight).then((done) => done.value);
  }

  /** Runs a job; with its answer, how long it ran in its worker (milliseconds). */
  timed(name: string, args: unknown[], weight = 0): Promise<{ value: unknown; ms: number }> {
    return new Promise((resolve, reject) => {
      const account = currentAccount();
      const queue = this.#waiting.get(account) ?? [];
      queue.push({ name, args, weight, resolve: (value, ms) => resolve({ value, ms }), reject, account });
      this.#waiting.set(account, queue);
      this.#pump();
    });
  }

  /** Stops every worker; jobs in flight and waiting fail. */
  async close(): Promise<void> {
    const waiting = [...this.#waiting.values()].flat();
    this.#waiting.clear();
    for (const job of waiting) job.reject(new ConversionFailed("the converter stopped"));
    await Promise.all([...this.#slots].map((slot) => this.#retire(slot, "the converter stopped")));
  }

  /** Starts the jobs waiting, one key's after another's, while a worker and the budget allow. */
  #pump(): void {
    for (;;) {
      // Of the keys whose next job may start, the one that spent the least processing time in
      // the last minute, the first in turn among equals: big jobs share the budget of input in
      // flight (one over it runs alone); small ones (an eighth of it) neither wait for it nor count
      // in it. (A tenant's 40 KB create waited seconds behind another's 4 MB conversions, the
      // other worker idle: its key's turn came after a big job that had to wait. Served in turn
      // only, a tenant's 200 KB create waited a round of seven flooding keys' 4 MB pieces for
      // each of its jobs: 10 s.)
      let next: [CpuAccount | undefined, Job[]] | undefined;
      let least = Number.POSITIVE_INFINITY;
      for (const entry of this.#waiting) {
        const head = entry[1][0] as Job;
        if (!(this.#small(head) || this.#weight === 0 || this.#weight + head.weight <= this.#budget))
          continue;
        const spent = entry[0]?.cpuSpentMs?.() ?? 0;
        if (spent < least) {
          next = entry;
          least = spent;
        }
      }
      if (!next) return;
      const [account, queue] = next;
      const job = queue[0] as Job;
      let slot = this.#slots.find((s) => s.job === undefined);
      if (!slot) {
        if (this.#slots.length >= this.#maxWorkers) return;
        slot = this.#spawn();
      }
      // Taken: its key goes to the back of the turn (or out, with nothing left waiting).
      queue.shift();
      this.#waiting.delete(account);
      if (queue.length > 0) this.#waiting.set(account, queue);
      if (slot.idle) clearTimeout(slot.idle);
      slot.idle = undefined;
      // Handing the input over is this thread's time; the job's is the worker's.
      const started = performance.now();
      try {
        slot.worker.postMessage({ id: 0, name: job.name, args: job.args });
        job.sent = performance.now();
        chargeCpu(job.sent - started, job.account);
      } catch (error) {
        // Nothing reached the worker: it is as free as before.
        job.reject(new ConversionFailed(`its input could not be handed to a worker (${messageOf(error)})`));
        this.#rest(slot);
        continue;
      }
      slot.job = job;
      if (!this.#small(job)) this.#weight += job.weight;
      const busy = slot;
      slot.deadline = setTimeout(() => {
        void this.#retire(
          busy,
          `it ran longer than ${Math.round(this.#deadlineMs / 1000)} s, and was stopped`,
        );
      }, this.#deadlineMs);
      slot.deadline.unref();
    }
  }

  /** A job small enough (an eighth of the budget) to run whatever big ones run. */
  #small(job: Job): boolean {
    return job.weight <= this.#budget / 8;
  }

  #spawn(): Slot {
    const worker = new Worker(this.file, {
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB, maxOldGenerationSizeMb: this.#heapMb },
    });
    worker.unref();
    const slot: Slot = { worker, job: undefined, idle: undefined, deadline: undefined };
    worker.on("message", (message: { ok: boolean; value?: unknown; error?: string; ms?: number }) => {
      const job = this.#finish(slot);
      if (message.ok) job?.resolve(message.value, message.ms ?? 0);
      else job?.reject(new Error(message.error));
      // A worker that has converted something big holds the memory it grew to: it goes now, and
      // a fresh one starts when needed.
      if (job && job.weight >= this.#retireAfter) void this.#retire(slot, "done");
      else this.#next(slot);
    });
    // An answer that cannot be read (a result too deeply nested to clone, say): the worker is in
    // doubt, so it goes.
    worker.on("messageerror", (error) => {
      void this.#retire(slot, `its result could not be read back (${messageOf(error)})`);
    });
    worker.on("error", (error) => {
      const why =
        (error as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY"
          ? `it needed more than the ${this.#heapMb} MB a conversion may use`
          : `its worker failed (${messageOf(error)})`;
      void this.#retire(slot, why);
    });
    worker.on("exit", () => {
      void this.#retire(slot, "its worker stopped");
    });
    this.#slots.push(slot);
    return slot;
  }

  #finish(slot: Slot): Job | undefined {
    const job = slot.job;
    slot.job = undefined;
    if (job?.sent !== undefined) chargeCpu(performance.now() - job.sent, job.account);
    if (job && !this.#small(job)) this.#weight -= job.weight;
    if (slot.deadline) clearTimeout(slot.deadline);
    slot.deadline = undefined;
    return job;
  }

  /** Takes a worker out of the pool (its job, if any, fails with `why`), and starts what waits. */
  async #retire(slot: Slot, why: string): Promise<void> {
    const at = this.#slots.indexOf(slot);
    if (at === -1) return;
    this.#slots.splice(at, 1);
    if (slot.idle) clearTimeout(slot.idle);
    this.#finish(slot)?.reject(new ConversionFailed(why));
    this.#pump();
    await slot.worker.terminate().catch(() => undefined);
  }

  #next(slot: Slot): void {
    this.#pump();
    if (slot.job === undefined) this.#rest(slot);
  }

  /** A free worker waits a while for work, then stops. */
  #rest(slot: Slot): void {
    if (slot.idle) clearTimeout(slot.idle);
    slot.idle = setTimeout(() => void this.#retire(slot, "idle"), this.#idleMs);
    slot.idle.unref();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

let pool: WorkerPool | undefined | null = null;

/** The conversion workers' pool; undefined when there is no worker to run (run from the sources). */
function thePool(): WorkerPool | undefined {
  if (pool === null) {
    const file = bundledWorker("content-worker");
    pool = file ? new WorkerPool(file) : undefined;
  }
  return pool;
}

/** One conversion run: which, how big its input, where, and how long it took (ms). */
export interface ConversionRun {
  name: keyof Conversions;
  chars: number;
  where: "worker" | "inline";
  ms: number;
}

const watchers = new Set<(run: ConversionRun) => void>();

/**
 * Calls `watcher` after each conversion, in a worker or on the server's thread (for accounting the
 * work each call costs, and for tests counting the jobs a tool makes). Returns how to stop.
 */
export function watchConversions(watcher: (run: ConversionRun) => void): () => void {
  watchers.add(watcher);
  return () => watchers.delete(watcher);
}

function report(run: ConversionRun): void {
  for (const watcher of watchers) watcher(run);
}

type Runnable = Record<keyof Conversions, (...args: unknown[]) => unknown>;

/** Runs one conversion, in a worker when `size` (characters of input) is over the threshold. */
export async function convert<K extends keyof Conversions>(
  name: K,
  size: number,
  ...args: Parameters<Conversions[K]>
): Promise<ReturnType<Conversions[K]>> {
  if (size < WORKER_THRESHOLD || !thePool()) {
    const content = (await contentModule()) as unknown as Runnable;
    const started = performance.now();
    const value = metered(() => content[name](...args)) as ReturnType<Conversions[K]>;
    report({ name, chars: size, where: "inline", ms: performance.now() - started });
    return value;
  }
  log?.debug({ conversion: name, chars: size }, "converting in a worker thread");
  try {
    const done = await (thePool() as WorkerPool).timed(name, args, size);
    report({ name, chars: size, where: "worker", ms: done.ms });
    return done.value as ReturnType<Conversions[K]>;
  } catch (error) {
    if (!(error instanceof ConversionFailed)) throw error;
    log?.debug({ conversion: name, chars: size, why: error.message }, "a conversion failed in its worker");
    throw toolError(
      "conversion_failed",
      `This notebook's content could not be converted: ${error.message}. Nothing was written. If the content is unusual (nested hundreds of levels deep, tables thousands of cells wide, lines dense with formatting), simplify it or split it into several notebooks; otherwise try again in a moment.`,
    );
  }
}
