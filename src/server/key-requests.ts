/**
 * What one key's requests may take of an HTTP server besides their tools' own work (which the
 * tools charge to the key themselves):
 *
 * - **At most IN_FLIGHT requests of a key at once** (listen streams and GET streams aside): a read
 *   of a big notebook holds its notebook and answer while it runs (about 9 MB for one of 4 MB), and
 *   one key's hundred reads at once held a gigabyte. The next ones wait their turn, their bodies
 *   unread (an agent's forty calls at once are all answered); past WAITING of them, 429 saying so.
 * - **Protocol requests charged to the key**: those that call nothing upstream (initialize, ping,
 *   tools/list, server/discover, notifications, a call of a tool that does not exist...) spend
 *   only this server's thread, building a server and an answer for each; their time, from the body
 *   read to the answer sent (at most MAX_CHARGE_MS a message), counts against the key's share of
 *   processing time. One key looping batches of tools/list kept the server's thread busy and was
 *   never counted. A key over its share has such requests refused (429, saying when to try again).
 */
import type { ServerResponse } from "node:http";
import { OPERATIONS } from "../operations/index.js";
import { refuse } from "./http-refusal.js";
import type { BodyAccount } from "./request-body.js";

/** Requests of one key in flight at once, at most. */
export const IN_FLIGHT = 16;
/** Requests of one key waiting for a place in flight, at most (their bodies unread); past them, 429. */
export const WAITING = 48;
/** A key's requests in flight, and those waiting for a place. */
interface Lane {
  running: number;
  waiting: Array<() => void>;
}
/** What one protocol message is charged at most (the rest of its time was waiting). */
const MAX_CHARGE_MS = 50;
/** What any other message is charged for this server's part around its tool (read, answer, redact). */
const OTHER_CHARGE_MS = 1;

/** Methods answered by this server alone: nothing is asked of PostHog for them. */
const LOCAL_METHODS = new Set([
  "initialize",
  "ping",
  "server/discover",
  "tools/list",
  "prompts/list",
  "resources/templates/list",
  "logging/setLevel",
  "completion/complete",
  "resources/subscribe",
  "resources/unsubscribe",
]);

function messagesOf(body: unknown): unknown[] {
  return Array.isArray(body) ? body : [body];
}

/** The tools there are: a call of any other is answered here, as a protocol request is. */
const TOOL_NAMES = new Set(OPERATIONS.map((op) => op.name));

function isLocal(message: unknown): boolean {
  const { method, params } = (message ?? {}) as { method?: unknown; params?: { name?: unknown } };
  if (typeof method !== "string") return true;
  if (method === "tools/call") return typeof params?.name !== "string" || !TOOL_NAMES.has(params.name);
  return LOCAL_METHODS.has(method) || method.startsWith("notifications/");
}

function idOf(body: unknown): string | number | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

export class KeyRequests {
  /** Requests in flight, and waiting to be, by key hash. */
  readonly #lanes = new Map<string, Lane>();
  #total = 0;

  /** Requests waiting for a place in flight now, of every key. */
  get waiting(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.waiting.length;
    return n;
  }

  /** Requests in flight now, of every key (streams aside). */
  get inFlight(): number {
    return this.#total;
  }

  /**
   * Counts a POST of the key `hash` in flight before its body is read, once there is room: past
   * IN_FLIGHT of the key's, it waits its turn (its body unread, left in its connection), and past
   * WAITING more, it is refused (answered). Returns how to stop counting it (a stream, once known),
   * or undefined when refused or its client went while it waited.
   */
  async enter(hash: string, res: ServerResponse): Promise<(() => void) | undefined> {
    let lane = this.#lanes.get(hash);
    if (!lane) {
      lane = { running: 0, waiting: [] };
      this.#lanes.set(hash, lane);
    }
    const own = lane;
    while (own.running >= IN_FLIGHT) {
      if (own.waiting.length >= WAITING) {
        refuse(
          res,
          429,
          -32000,
          `This key has ${IN_FLIGHT} requests in flight on this server and ${WAITING} more waiting, the most one key may have: wait for some of them to be answered, then send more.`,
          { "retry-after": "1" },
        );
        return undefined;
      }
      await new Promise<void>((resolve) => own.waiting.push(resolve));
      if (res.destroyed) {
        this.#wake(hash, own);
        return undefined;
      }
    }
    own.running += 1;
    this.#total += 1;
    let counted = true;
    const leave = () => {
      if (!counted) return;
      counted = false;
      own.running -= 1;
      this.#total -= 1;
      this.#wake(hash, own);
    };
    res.once("close", leave);
    return leave;
  }

  /**
   * Lets the request (its body read) go on, or refuses it (answered): protocol requests are
   * refused once the key has spent its share of processing time, and charged for their time.
   * `account`: the key's, once PostHog has accepted it (and when its processing time is rationed).
   */
  admit(account: BodyAccount | undefined, body: unknown, res: ServerResponse): boolean {
    if (!account) return true;
    const messages = messagesOf(body);
    // Messages answered here alone (a batch may mix them with calls that go to PostHog); the others
    // are charged a millisecond each for what this server does around their tools' own work.
    const local = messages.filter(isLocal).length;
    const others = messages.length - local;
    if (local === 0) {
      if (others > 0) res.once("close", () => account.chargeCpu(OTHER_CHARGE_MS * others));
      return true;
    }
    const wait = account.cpuWaitMs();
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      refuse(
        res,
        429,
        -32000,
        `This key has used more than its share of this server's processing time in the last minute: nothing was done. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`,
        { "retry-after": String(seconds) },
        idOf(body),
      );
      return false;
    }
    const started = performance.now();
    res.once("close", () => {
      const protocol = Math.min(performance.now() - started, MAX_CHARGE_MS * local);
      account.chargeCpu(protocol + OTHER_CHARGE_MS * others);
    });
    return true;
  }

  /** Wakes the next request waiting in `lane`; forgets the lane when nothing is left in it. */
  #wake(hash: string, lane: Lane): void {
    const next = lane.waiting.shift();
    if (next) next();
    else if (lane.running === 0 && this.#lanes.get(hash) === lane) this.#lanes.delete(hash);
  }
}
