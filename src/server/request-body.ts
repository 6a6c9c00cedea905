/**
 * Reading request bodies within a budget, so that slow or large bodies cannot pile up in memory:
 * each body at most `maxBodyBytes`, all bodies being read at once at most 64 MiB, one key's at most
 * 16 MiB (so that no key, however slowly it sends, holds the others' share). Bodies of keys
 * PostHog has not accepted yet count apart, with a budget of their own, and only their first 64 KiB
 * is read before the key is checked: made-up keys cannot spend the server's reading budget.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { refuse } from "./http-refusal.js";

/** Request bodies being read at once, in bytes, at most. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/**
 * Bytes of a request's body read before its key is accepted: more waits for PostHog's answer on
 * the key.
 */
const UNCHECKED_BODY_BYTES = 64 * 1024;
/** Request bodies of keys not accepted yet being read at once, in bytes, at most. */
const MAX_UNCHECKED_BUFFERED = 4 * 1024 * 1024;
/**
 * One key's request bodies being read at once, in bytes, at most: a quarter of the whole. (Sixteen
 * slow uploads of one accepted key, each just under the body limit and finished only at the 30 s
 * request deadline, held all 64 MiB: every other key's calls were refused, again and again.)
 */
export const MAX_KEY_BUFFERED = 16 * 1024 * 1024;

export class BodyBudget {
  /** Bytes being read of accepted keys' bodies, and of the others'. */
  #buffered = 0;
  #bufferedUnchecked = 0;
  /** Bytes being read of each key's bodies (by the key's hash). */
  readonly #perKey = new Map<string, number>();

  constructor(private readonly maxBodyBytes: number) {}

  /**
   * The request's body, parsed; undefined when it was refused (and answered). `admit` is asked,
   * once, before more than a small part of the body of a key not yet accepted is read: it answers
   * the refusal itself when the key is not accepted. `key`: the key's hash, whose share it counts in.
   */
  async read(
    req: IncomingMessage,
    res: ServerResponse,
    admit: (() => Promise<boolean>) | undefined,
    key: string,
  ): Promise<unknown | undefined> {
    const { maxBodyBytes } = this;
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      refuse(res, 413, -32600, `Request body over ${maxBodyBytes} bytes.`, { connection: "close" });
      req.resume();
      return undefined;
    }
    const refused = (status: number, message: string) => {
      refuse(res, status, -32600, message, { connection: "close" });
      // The answer first, then the connection (destroying at once would reset it unread).
      res.once("finish", () => req.destroy());
      return undefined;
    };
    if (admit && Number.isFinite(declared) && declared > UNCHECKED_BODY_BYTES) {
      if (!(await admit())) return void res.once("finish", () => req.destroy());
      admit = undefined;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let unchecked = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        const keyBuffered = (this.#perKey.get(key) ?? 0) + chunk.length;
        this.#perKey.set(key, keyBuffered);
        if (admit) {
          unchecked += chunk.length;
          this.#bufferedUnchecked += chunk.length;
        } else this.#buffered += chunk.length;
        if (size > maxBodyBytes) return refused(413, `Request body over ${maxBodyBytes} bytes.`);
        if (keyBuffered > MAX_KEY_BUFFERED) {
          return refused(
            503,
            `This key's requests are sending more than ${MAX_KEY_BUFFERED / 1024 / 1024} MiB of bodies at once: let them finish, then try again.`,
          );
        }
        if (this.#buffered > MAX_BUFFERED_BYTES || this.#bufferedUnchecked > MAX_UNCHECKED_BUFFERED) {
          return refused(
            503,
            "This server is reading too many request bodies at once: try again in a moment.",
          );
        }
        chunks.push(chunk);
        if (admit && size > UNCHECKED_BODY_BYTES) {
          // Past the small part: the key is checked before anything more is read.
          if (!(await admit())) return void res.once("finish", () => req.destroy());
          admit = undefined;
          this.#bufferedUnchecked -= unchecked;
          this.#buffered += unchecked;
          unchecked = 0;
        }
      }
    } finally {
      this.#bufferedUnchecked -= unchecked;
      this.#buffered -= size - unchecked;
      const left = (this.#perKey.get(key) ?? 0) - size;
      if (left > 0) this.#perKey.set(key, left);
      else this.#perKey.delete(key);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
    } catch {
      refuse(res, 400, -32700, "Parse error: the request body is not JSON.");
      return undefined;
    }
  }
}
