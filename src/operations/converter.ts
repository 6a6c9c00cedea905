/**
 * Where a conversion runs: on the server's own thread when it is small (most are: milliseconds),
 * in a worker thread when it is big, so that converting a long notebook never holds up the other
 * calls. Workers start on first need (at most two at once, beyond which conversions wait their
 * turn) and stop after a while idle, so an idle server holds none.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Conversions } from "../content/worker.js";
import type { Logger } from "../logger.js";

/** Characters of Markdown or JSON above which a conversion runs in a worker (about 20 ms of work). */
export const WORKER_THRESHOLD = 128 * 1024;
const MAX_WORKERS = 2;
const IDLE_MS = 30_000;

type ContentModule = typeof import("../content/index.js");
let loading: Promise<ContentModule> | undefined;

/** The content module, loaded on first use. */
export function contentModule(): Promise<ContentModule> {
  loading ??= import("../content/index.js");
  return loading;
}

/**
 * The bundled worker (dist/content-worker.js, next to the chunk this code is bundled into). Run
 * from the sources (tests), there is none, and conversions run on the server's thread.
 */
function workerFile(): URL | undefined {
  const url = new URL("../content-worker.js", import.meta.url);
  return url.protocol === "file:" && existsSync(fileURLToPath(url)) ? url : undefined;
}

interface Job {
  name: keyof Conversions;
  args: unknown[];
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  idle: NodeJS.Timeout | undefined;
}

let log: Pick<Logger, "debug"> | undefined;

/** Where conversions in workers are logged (at debug level). */
export function logConversionsTo(logger: Pick<Logger, "debug">): void {
  log = logger;
}

const slots: Slot[] = [];
const waiting: Job[] = [];
let file: URL | undefined | null = null;

function start(job: Job): void {
  let slot = slots.find((s) => s.job === undefined);
  if (!slot) {
    if (slots.length >= MAX_WORKERS) {
      waiting.push(job);
      return;
    }
    const worker = new Worker(file as URL);
    worker.unref();
    const created: Slot = { worker, job: undefined, idle: undefined };
    worker.on("message", (message: { ok: boolean; value?: unknown; error?: string }) => {
      const done = created.job;
      created.job = undefined;
      if (message.ok) done?.resolve(message.value);
      else done?.reject(new Error(message.error));
      next(created);
    });
    worker.on("error", (error) => {
      created.job?.reject(error);
      created.job = undefined;
      slots.splice(slots.indexOf(created), 1);
    });
    slots.push(created);
    slot = created;
  }
  if (slot.idle) clearTimeout(slot.idle);
  slot.job = job;
  slot.worker.postMessage({ id: 0, name: job.name, args: job.args });
}

function next(slot: Slot): void {
  const job = waiting.shift();
  if (job) {
    start(job);
    return;
  }
  slot.idle = setTimeout(() => {
    slots.splice(slots.indexOf(slot), 1);
    void slot.worker.terminate();
  }, IDLE_MS);
  slot.idle.unref();
}

/** Runs one conversion, in a worker when `size` (characters of input) is over the threshold. */
export async function convert<K extends keyof Conversions>(
  name: K,
  size: number,
  ...args: Parameters<Conversions[K]>
): Promise<ReturnType<Conversions[K]>> {
  if (file === null) file = workerFile();
  if (size < WORKER_THRESHOLD || !file) {
    const content = await contentModule();
    return (content[name] as (...a: unknown[]) => ReturnType<Conversions[K]>)(...args);
  }
  log?.debug({ conversion: name, chars: size }, "converting in a worker thread");
  return new Promise((resolve, reject) =>
    start({ name, args, resolve: resolve as (value: unknown) => void, reject }),
  );
}
