/**
 * Streams a key keeps open for as long as its client wants (2026 listen streams, 2025 sessions'
 * GET streams), ended once their client has stopped reading them for too long.
 *
 * The SDK queues what it tells a stream in memory, without bound, for as long as the connection
 * takes nothing more (the socket's buffers full, the response waiting for `drain`). A client that
 * opens a key's hundred listen streams, never reads them and changes notebooks at the key's
 * request rate grew the server's memory by megabytes a minute. What a stream is told here is one
 * change after another (a few hundred bytes each), so changes are what is counted: a stream still
 * waiting for its client to read when more than MAX_UNREAD changes of its key have gone by is
 * ended. A client that reads never waits that long (each change is a request to PostHog first).
 */
import type { ServerResponse } from "node:http";

/** Changes of its key that a stream its client does not read may wait behind, at most. */
export const MAX_UNREAD = 200;

/** What is watched of a response: whether it waits for its client, and how to end it. */
export type StreamResponse = Pick<ServerResponse, "writableNeedDrain" | "destroy" | "on" | "once">;

export class StalledStreams<Key> {
  readonly #streams = new Map<Key, Map<StreamResponse, number>>();

  constructor(private readonly maxUnread = MAX_UNREAD) {}

  /** Watches `res`, one of `key`'s streams, until it closes. */
  watch(key: Key, res: StreamResponse): void {
    const own = this.#streams.get(key) ?? new Map<StreamResponse, number>();
    this.#streams.set(key, own);
    own.set(res, 0);
    res.on("drain", () => {
      if (own.has(res)) own.set(res, 0);
    });
    res.once("close", () => {
      own.delete(res);
      if (own.size === 0 && this.#streams.get(key) === own) this.#streams.delete(key);
    });
  }

  /** A change of `key` is about to be told to its streams: those long unread are ended. */
  changed(key: Key): number {
    const streams = this.#streams.get(key);
    if (!streams) return 0;
    let ended = 0;
    for (const [res, unread] of streams) {
      if (!res.writableNeedDrain) {
        streams.set(res, 0);
        continue;
      }
      if (unread + 1 <= this.maxUnread) {
        streams.set(res, unread + 1);
        continue;
      }
      streams.delete(res);
      res.destroy();
      ended += 1;
    }
    return ended;
  }

  /** Streams watched, for `key` or in all. */
  count(key?: Key): number {
    if (key !== undefined) return this.#streams.get(key)?.size ?? 0;
    let n = 0;
    for (const streams of this.#streams.values()) n += streams.size;
    return n;
  }
}
