/**
 * At most `most` tasks at once, the others waiting in the order they came: what bounds work shared
 * by every call in the process (notebooks the recording-comments fallback reads whole, patterns
 * searching on the server's thread).
 */
export class AtMost {
  #running = 0;
  #peak = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly most: number) {}

  /** The most tasks that ran at once since this was made. */
  get peak(): number {
    return this.#peak;
  }

  /** Waits for a place, and returns how to give it back (to the first waiting, if any). */
  async take(): Promise<() => void> {
    if (this.#running >= this.most) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running += 1;
    this.#peak = Math.max(this.#peak, this.#running);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      // The place passes to the next waiting (still counted), or is freed.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    };
  }

  /** Runs `task` in a place. */
  async run<R>(task: () => Promise<R>): Promise<R> {
    const giveBack = await this.take();
    try {
      return await task();
    } finally {
      giveBack();
    }
  }
}
