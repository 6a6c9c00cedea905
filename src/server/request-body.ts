/**
 * Reading request bodies within a budget, so that slow or large bodies cannot pile up in memory:
 * each body at most `maxBodyBytes`, all bodies being read at once at most 64 MiB, one key's at most
 * 16 MiB (so that no key, however slowly it sends, holds the others' share); when all of them fill
 * the 64 MiB, the most stalled body of the key reading the most gives way. Nothing of a body is
 * read before PostHog has accepted its key: made-up keys spend none of the reading budget.
 *
 * A long body (128 KB or more) is decoded and parsed in a worker of the body readers' own, not on
 * the server's thread, and the time is charged to its key like any other work: four 4 MB bodies
 * dense with escaped quotes took 260 ms of the server's thread to read, and every other tenant's
 * requests waited behind them. A key over its share of processing time has its long bodies refused
 * unread (from their declared length when they have one) until it has room again.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { accountedTo, metered } from "../cpu-account.js";
import type { Logger } from "../logger.js";
import { bundledWorker, ConversionFailed, WorkerPool } from "../notebooks/worker-pool.js";
import { refuse } from "./http-refusal.js";
import { type ReadMessage, readMessage } from "./read-message.js";

/**
 * Bytes from which a body is long: read in a worker, and refused to a key over its share. Below,
 * reading one costs the server's thread 2 ms at most (128 KB dense with escaped quotes), less than
 * waiting for a worker while other tenants' long bodies are read (a 40 KB request waited 0.4 s).
 */
const LONG_BODY = 128 * 1024;

let readers: WorkerPool | undefined | null = null;

/**
 * The workers that read long bodies (dist/body-worker.js): two, of their own, so that no body is
 * read behind a conversion (with one pool, one tenant's 4 MB creates held every other tenant's
 * 40 KB requests for seconds); undefined when run from the sources (bodies are read here).
 */
function bodyReaders(): WorkerPool | undefined {
  if (readers === null) {
    const file = bundledWorker("body-worker");
    readers = file ? new WorkerPool(file, { maxWorkers: 2, heapMb: 256, deadlineMs: 30_000 }) : undefined;
  }
  return readers;
}

/** Whose processing time reading a body is: its key's, once PostHog has accepted the key. */
export interface BodyAccount {
  chargeCpu(ms: number): void;
  /** Milliseconds until the key is back under its share of processing time (0: it is). */
  cpuWaitMs(): number;
}

/** Request bodies being read at once, in bytes, at most. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/**
 * One key's request bodies being read at once, in bytes, at most: a quarter of the whole. (Sixteen
 * slow uploads of one accepted key, each just under the body limit and finished only at the 30 s
 * request deadline, held all 64 MiB: every other key's calls were refused, again and again.)
 */
export const MAX_KEY_BUFFERED = 16 * 1024 * 1024;

/** One key's bodies being read: their bytes in all, and each. */
interface KeyReading {
  bytes: number;
  uploads: Set<Upload>;
}

/** A body being read: how much of it is in, when its last bytes came, and how to stop it. */
interface Upload {
  reading: KeyReading;
  size: number;
  /** Its place in the order bodies last received bytes (the most stalled gives way first). */
  seen: number;
  /** Stops it (answered 503), its bytes given back. */
  stop(): void;
  /** Its bytes are given back. */
  done: boolean;
  /** It was stopped to make room for others. */
  stopped: boolean;
}

export class BodyBudget {
  /** Bytes being read at once, of every key's bodies. */
  #buffered = 0;
  /** Each key's bodies being read (by the key's hash). */
  readonly #keys = new Map<string, KeyReading>();
  #seen = 0;

  constructor(
    private readonly maxBodyBytes: number,
    private readonly logger?: Pick<Logger, "debug">,
  ) {}

  /** Bytes of bodies being read now. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * The request's body, parsed; undefined when it was refused (and answered). `admit`, given for a
   * key not accepted yet, is asked before anything of the body is read: it answers the refusal
   * itself when PostHog does not accept the key. (A budget of their own for such keys' first bytes,
   * 4 MiB, was held by 64 slow uploads of made-up keys: every key not accepted yet, a new tenant's
   * or one idle for five minutes, was refused for as long as they went on.) `key`: the key's hash,
   * whose share the body counts in; `account`, asked once the body is in: who reading it is charged to.
   */
  async read(
    req: IncomingMessage,
    res: ServerResponse,
    admit: (() => Promise<boolean>) | undefined,
    key: string,
    account: () => BodyAccount | undefined = () => undefined,
  ): Promise<unknown | undefined> {
    const { maxBodyBytes } = this;
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      refuse(res, 413, -32600, `Request body over ${maxBodyBytes} bytes.`, { connection: "close" });
      req.resume();
      return undefined;
    }
    if (admit && !(await admit())) {
      // The refusal is answered; what the client still sends is read and dropped (closing now
      // would reset the connection before the client reads the answer).
      req.resume();
      return undefined;
    }
    // A key over its share has a long body refused from its declared length, before it is read.
    if (Number.isFinite(declared) && declared >= LONG_BODY && overShare(res, account())) {
      req.resume();
      return undefined;
    }
    const refused = (status: number, message: string) => {
      refuse(res, status, -32600, message, { connection: "close" });
      // The answer first, then the connection (destroying at once would reset it unread).
      res.once("finish", () => req.destroy());
      return undefined;
    };
    const chunks: Buffer[] = [];
    const reading = this.#keys.get(key) ?? { bytes: 0, uploads: new Set<Upload>() };
    this.#keys.set(key, reading);
    const upload: Upload = {
      reading,
      size: 0,
      seen: ++this.#seen,
      done: false,
      stopped: false,
      stop: () => {
        upload.stopped = true;
        this.#giveBack(upload);
        refused(
          503,
          "This server needed the room this key's unfinished request bodies held for other keys' requests: this one was stopped. Send a request's body in one go, then try again.",
        );
      },
    };
    reading.uploads.add(upload);
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        if (upload.stopped) return undefined;
        upload.size += chunk.length;
        upload.seen = ++this.#seen;
        this.#buffered += chunk.length;
        reading.bytes += chunk.length;
        if (upload.size > maxBodyBytes) return refused(413, `Request body over ${maxBodyBytes} bytes.`);
        if (reading.bytes > MAX_KEY_BUFFERED) {
          return refused(
            503,
            `This key's requests are sending more than ${MAX_KEY_BUFFERED / 1024 / 1024} MiB of bodies at once: let them finish, then try again.`,
          );
        }
        if (this.#buffered > MAX_BUFFERED_BYTES && !this.#makeRoom(upload)) {
          return refused(
            503,
            "This server is reading too many request bodies at once: try again in a moment.",
          );
        }
        chunks.push(chunk);
      }
    } catch (error) {
      // The client went (or its body was stopped above) while it was being sent: nothing to answer.
      if (upload.stopped || req.destroyed) {
        this.logger?.debug({ err: (error as Error).message }, "a request body stopped before it was in");
        return undefined;
      }
      throw error;
    } finally {
      this.#giveBack(upload);
      reading.uploads.delete(upload);
      if (reading.uploads.size === 0 && this.#keys.get(key) === reading) this.#keys.delete(key);
    }
    if (upload.stopped) return undefined;
    const size = upload.size;
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
    chunks.length = 0;
    const charged = account();
    if (size >= LONG_BODY && overShare(res, charged)) return undefined;
    let read: ReadMessage;
    try {
      read = await accountedTo(charged, () => this.#parse(bytes));
    } catch (error) {
      if (!(error instanceof ConversionFailed)) throw error;
      refuse(
        res,
        503,
        -32603,
        `The request body could not be read: ${error.message}. Nothing was done; try again.`,
      );
      return undefined;
    }
    if ("message" in read) return read.message;
    if ("error" in read) refuse(res, 400, read.code, read.error, {}, read.id ?? null);
    else refuse(res, 400, read.code, "Parse error: the request body is not JSON.");
    return undefined;
  }

  /** Gives back what `upload` holds (once). */
  #giveBack(upload: Upload): void {
    if (upload.done) return;
    upload.done = true;
    this.#buffered -= upload.size;
    upload.reading.bytes -= upload.size;
  }

  /**
   * Makes room for `upload`'s last bytes, all bodies together being over the budget: the most
   * stalled body of the key reading the most gives way, as long as that key would still hold at
   * least as much as `upload`'s key. (Four keys' slow uploads, sixteen MiB each, held the whole
   * budget, and every other key's requests were refused until they ended.)
   */
  #makeRoom(upload: Upload): boolean {
    const asking = upload.reading.bytes;
    while (this.#buffered > MAX_BUFFERED_BYTES) {
      let victim: Upload | undefined;
      let most = 0;
      for (const reading of this.#keys.values()) {
        if (reading === upload.reading || reading.bytes <= most) continue;
        let stalled: Upload | undefined;
        for (const other of reading.uploads) {
          if (!other.done && (!stalled || other.seen < stalled.seen)) stalled = other;
        }
        if (stalled && reading.bytes - stalled.size >= asking) {
          victim = stalled;
          most = reading.bytes;
        }
      }
      if (!victim) return false;
      victim.stop();
    }
    return true;
  }

  /** The message in `bytes`: read in a worker when long (if there are workers), here otherwise. */
  async #parse(bytes: Uint8Array): Promise<ReadMessage> {
    const workers = bytes.length >= LONG_BODY ? bodyReaders() : undefined;
    if (workers) {
      const done = (await workers.timed("readBody", [bytes])) as { value: ReadMessage; ms: number };
      this.logger?.debug(
        { bytes: bytes.length, ms: Math.round(done.ms) },
        "read a request body in a worker thread",
      );
      return done.value;
    }
    return metered(() => readMessage(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)));
  }
}

/**
 * Whether the key is over its share of processing time, its long request then refused (answered
 * 429 with when to retry): reading it would be more of the processing time it has used up.
 */
function overShare(res: ServerResponse, account: BodyAccount | undefined): boolean {
  const wait = account?.cpuWaitMs() ?? 0;
  if (wait <= 0) return false;
  const seconds = Math.ceil(wait / 1000);
  refuse(
    res,
    429,
    -32000,
    `This key has used more than its share of this server's processing time in the last minute, so its long requests are not read for now: nothing was done. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`,
    { "retry-after": String(seconds) },
  );
  return true;
}
