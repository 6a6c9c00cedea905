/**
 * Log lines to stderr that never stop the server. stderr is written synchronously, so that lines
 * come out whole and in order; but when it is a pipe whose reader is behind (a container's log
 * pipe, `| logger`, a busy parent), a write cannot be taken now (EAGAIN), and a throw there
 * crashed the process (the error handler's own line threw again; the crash could not be written
 * either). A line that cannot be written now waits, with those after it, in a queue of at most
 * MAX_QUEUED bytes, retried shortly; past that, lines are dropped and counted, and the count is
 * written once the pipe takes lines again. If stderr is gone (EPIPE), lines are dropped.
 */
import { writeSync } from "node:fs";

/** Bytes of log lines that wait for stderr at most. */
export const MAX_QUEUED = 1024 * 1024;
const RETRY_MS = 20;

export class StderrSink {
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #dropped = 0;
  #retry: NodeJS.Timeout | undefined;
  #gone = false;

  /** `write`: writes what it can of a buffer now, returning how much (tests give their own). */
  constructor(
    private readonly write: (bytes: Buffer) => number = (bytes) => writeSync(2, bytes),
    private readonly maxQueued = MAX_QUEUED,
  ) {}

  /** Lines dropped since the last count was written. */
  get dropped(): number {
    return this.#dropped;
  }

  line(text: string): void {
    if (this.#gone) return;
    const bytes = Buffer.from(text);
    if (this.#queued + bytes.length > this.maxQueued) {
      this.#dropped += 1;
      return;
    }
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (this.#retry === undefined) this.#flush();
  }

  #flush(): void {
    this.#retry = undefined;
    for (;;) {
      if (this.#queue.length === 0 && this.#dropped > 0) {
        const note = `${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, msg: `${this.#dropped} log lines were dropped: stderr was not being read` })}\n`;
        this.#dropped = 0;
        this.#queue.push(Buffer.from(note));
        this.#queued += note.length;
      }
      const head = this.#queue[0];
      if (!head) return;
      let written: number;
      try {
        written = this.write(head);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" || code === "EWOULDBLOCK") {
          this.#retry = setTimeout(() => this.#flush(), RETRY_MS);
          this.#retry.unref();
        } else {
          // stderr is closed (EPIPE, EBADF): nobody can read what is written.
          this.#gone = true;
          this.#queue.length = 0;
          this.#queued = 0;
        }
        return;
      }
      this.#queued -= written;
      if (written >= head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(written);
    }
  }
}
