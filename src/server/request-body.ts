/**
 * Reading request bodies within a budget, so that slow or large bodies cannot pile up in memory:
 * each body at most `maxBodyBytes`, all bodies being read at once at most 64 MiB. Bodies of keys
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

export class BodyBudget {
  /** Bytes being read of accepted keys' bodies, and of the others'. */
  #buffered = 0;
  #bufferedUnchecked = 0;

  constructor(private readonly maxBodyBytes: number) {}

  /**
   * The request's body, parsed; undefined when it was refused (and answered). `admit` is asked,
   * once, before more than a small part of the body of a key not yet accepted is read: it answers
   * the refusal itself when the key is not accepted.
   */
  async read(
    req: IncomingMessage,
    res: ServerResponse,
    admit: (() => Promise<boolean>) | undefined,
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
        if (admit) {
          unchecked += chunk.length;
          this.#bufferedUnchecked += chunk.length;
        } else this.#buffered += chunk.length;
        if (size > maxBodyBytes) return refused(413, `Request body over ${maxBodyBytes} bytes.`);
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
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
    } catch {
      refuse(res, 400, -32700, "Parse error: the request body is not JSON.");
      return undefined;
    }
  }
}
