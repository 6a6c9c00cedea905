/**
 * What one key's requests may take of an HTTP server besides their tools' own work (which the
 * tools charge to the key themselves):
 *
 * - **At most IN_FLIGHT requests of a key at once** (listen streams and GET streams aside): a read
 *   of a big notebook holds its notebook and answer while it runs (about 9 MB for one of 4 MB), and
 *   one key's hundred reads at once held a gigabyte. The next ones wait their turn, their bodies
 *   unread (an agent's forty calls at once are all answered); past WAITING of them, 429 saying so.
 *   A call waiting for its user's answer (a confirmation form, on a 2025 connection) is not counted
 *   meanwhile: the answer is a POST of the same key, and it waited behind the calls it would
 *   release (twenty deletes at once locked their key out). At most AWAITING of a key's calls wait
 *   so; the next is told to have the user answer first.
 * - **Protocol requests charged to the key**: those that call nothing upstream (initialize, ping,
 *   tools/list, server/discover, notifications, a call of a tool that does not exist...) spend
 *   only this server's thread, building a server and an answer for each; their time, from the body
 *   read to the answer sent (at most MAX_CHARGE_MS a message), counts against the key's share of
 *   processing time. One key looping batches of tools/list kept the server's thread busy and was
 *   never counted. A key over its share has such requests refused (429, saying when to try again).
 * - **One protocol request of a key answered at a time, one per round of the event loop**: a
 *   place is given back only on the loop's next round (`setImmediate`), so whatever else arrived
 *   meanwhile (another key's call, `/healthz`) is served between two of them. Without it, the
 *   sixteen answers one key's sessions asked for were all built in one round, back to back: 150–280
 *   ms in which nothing else ran (the place alone, given back at once, changed nothing: each next
 *   request arrived to find it free). A key's other requests (tool calls) take the same place to
 *   start, and give it back on the next round without waiting for PostHog: sixteen calls refused
 *   for their arguments ran in one round too. And at most PER_ROUND requests of all keys start in
 *   a round, the key that started fewest lately first, so that many keys flooding at once do not
 *   make each round long (`Rounds`).
 */
import type { ServerResponse } from "node:http";
import { OPERATIONS } from "../operations/index.js";
import { refuse } from "./http-refusal.js";
import { messagesOf } from "./read-message.js";
import type { BodyAccount } from "./request-body.js";

/** Requests of one key in flight at once, at most. */
export const IN_FLIGHT = 16;
/** Requests of one key waiting for a place in flight, at most (their bodies unread); past them, 429. */
export const WAITING = 48;
/** A key's calls waiting for their user's answer (not counted in flight meanwhile), at most. */
export const AWAITING = 32;
/**
 * How long a protocol request keeps its key's place at most: until its answer is written, or this
 * (a batch that also calls PostHog, or a client that does not read its answer, holds it no longer).
 */
export const PLACE_MS = 1_000;
/**
 * Requests started in one round of the event loop, at most, of all keys: a round runs each one's
 * start (a protocol request's whole answer, about 10 ms for a batch of tools/list) before it reads
 * anything else, so one key's flood, or eight keys', holds another tenant's request a round or two.
 */
export const PER_ROUND = 2;
/**
 * How fast a key's count of requests started lately fades: the key that started fewest goes first,
 * so a tenant's occasional request goes before flooding keys' next ones, and a key held back
 * (starting none) soon has the fewest itself.
 */
const STARTS_HALF_LIFE_MS = 1_000;
/** A request counted in flight: how to stop counting it, and to hold it while its work runs. */
export interface Entered {
  /** Stops counting it (a stream, once known). */
  leave(): void;
  /**
   * Keeps it counted, its client gone or not, until the returned function is called (and counts it
   * again if it was waiting for its client).
   */
  hold(): () => void;
  /**
   * Stops counting it while its call waits for its client's answer (a form shown to the user), until
   * its work holds it again or it closes; false (still counted) when AWAITING of the key's calls
   * already wait so.
   */
  awaitClient(): boolean;
}
/** A key's requests in flight, and those waiting for a place. */
interface Lane {
  running: number;
  waiting: Array<() => void>;
  /** Calls waiting for their client's answer, not counted in `running`. */
  awaiting: number;
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
  // Answered here (a stream of notifications, or a refusal of its params): nothing asked of PostHog.
  "subscriptions/listen",
]);

/** The tools there are: a call of any other is answered here, as a protocol request is. */
const TOOL_NAMES = new Set(OPERATIONS.map((op) => op.name));

function isLocal(message: unknown): boolean {
  const { method, params } = (message ?? {}) as { method?: unknown; params?: { name?: unknown } };
  if (typeof method !== "string") return true;
  if (method === "tools/call") return typeof params?.name !== "string" || !TOOL_NAMES.has(params.name);
  return LOCAL_METHODS.has(method) || method.startsWith("notifications/");
}

/**
 * Whether the message asks PostHog for something: any but a protocol request, and a completion
 * (answered here as a protocol request is, charged by its time, but from PostHog's list of notebooks).
 */
function asksPostHog(message: unknown): boolean {
  return !isLocal(message) || (message as { method?: unknown } | null)?.method === "completion/complete";
}

/** A client's answer to what this server asked it (a form): a user may be waiting on it. */
function isAnswer(message: unknown): boolean {
  const m = (message ?? {}) as Record<string, unknown>;
  return m.method === undefined && ("result" in m || "error" in m);
}

function idOf(body: unknown): string | number | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

export class KeyRequests {
  /** Requests in flight, and waiting to be, by key hash. */
  readonly #lanes = new Map<string, Lane>();
  #total = 0;
  /** Which requests start in each round of the event loop. */
  readonly #rounds = new Rounds();

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
   * WAITING more, it is refused (answered). Returns how to stop counting it (a stream, once known)
   * and to keep it counted while its work runs, or undefined when refused or its client went while
   * it waited.
   */
  async enter(hash: string, res: ServerResponse): Promise<Entered | undefined> {
    const own = this.#laneOf(hash);
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
    const count = (by: number) => {
      own.running += by;
      this.#total += by;
    };
    count(1);
    let counted = true;
    // Waiting for its client's answer: counted in `own.awaiting` instead.
    let awaiting = false;
    const stopAwaiting = () => {
      awaiting = false;
      own.awaiting -= 1;
    };
    const leave = () => {
      if (!counted) return;
      counted = false;
      if (awaiting) stopAwaiting();
      else count(-1);
      this.#wake(hash, own);
    };
    // Counted until its response has closed and the work it started (held) has ended.
    let holds = 0;
    let closed = false;
    res.once("close", () => {
      closed = true;
      if (holds === 0) leave();
    });
    const hold = () => {
      if (counted && awaiting) {
        stopAwaiting();
        count(1);
      }
      holds += 1;
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        holds -= 1;
        if (closed && holds === 0) leave();
      };
    };
    const awaitClient = () => {
      if (!counted || awaiting) return true;
      if (own.awaiting >= AWAITING) return false;
      awaiting = true;
      own.awaiting += 1;
      count(-1);
      this.#wake(hash, own);
      return true;
    };
    return { leave, hold, awaitClient };
  }

  /**
   * Lets the request (its body read) go on, or refuses it (answered): protocol requests are
   * refused once the key has spent its share of processing time, wait for the key's place (one at a
   * time, held until answered; a listen stream, which lasts, holds it for its round only), and are
   * charged for their time; other requests take the place for their round. `account`: the
   * key's, once PostHog has accepted it (and when its processing time is rationed). False when
   * refused, or when its client went while it waited.
   */
  async admit(
    hash: string,
    account: BodyAccount | undefined,
    body: unknown,
    res: ServerResponse,
    listen = false,
  ): Promise<boolean> {
    const messages = messagesOf(body);
    // Messages answered here alone (a batch may mix them with calls that go to PostHog); the others
    // are charged a millisecond each for what this server does around their tools' own work.
    const local = messages.filter(isLocal).length;
    const others = messages.length - local;
    const asking = messages.filter(asksPostHog).length;
    if (asking > 1) {
      // A request takes one place in flight: ten reads of 4 MB notebooks in one batch held ten
      // times what a place is for (one key's sixteen such batches: 1.5 GB).
      refuse(
        res,
        400,
        -32600,
        `Invalid Request: a batch of ${asking} calls that ask PostHog for something (tools/call, resources/read, completion/complete…); this server takes at most one in a batch, beside any other messages (a request is one of its key's ${IN_FLIGHT} places in flight): send them in several requests.`,
      );
      return false;
    }
    if (local === 0) {
      // Its start waits for the key's place all the same, and gives it back on the next round: one
      // key's calls answered without PostHog (arguments refused, say) are one a round, as above.
      // Whatever takes a place is charged (an empty batch too: it was charged nothing).
      if (!(await this.#place(hash, res, false))) return false;
      if (account) res.once("close", () => account.chargeCpu(OTHER_CHARGE_MS * Math.max(1, others)));
      return true;
    }
    // A client's answers, once read, are not refused for the share: the call that asked (a user's
    // confirmation) waits on them. (A long body is not read while the key is over it: request-body.ts.)
    const wait = messages.every(isAnswer) ? 0 : (account?.cpuWaitMs() ?? 0);
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
    // A listen stream lasts: it starts in its round, and holds no place after it.
    if (!(await this.#place(hash, res, !listen))) return false;
    if (!account) return true;
    const started = performance.now();
    res.once("close", () => {
      const protocol = Math.min(performance.now() - started, MAX_CHARGE_MS * local);
      account.chargeCpu(protocol + OTHER_CHARGE_MS * others);
    });
    return true;
  }

  #laneOf(hash: string): Lane {
    let lane = this.#lanes.get(hash);
    if (!lane) {
      lane = { running: 0, waiting: [], awaiting: 0 };
      this.#lanes.set(hash, lane);
    }
    return lane;
  }

  /** Wakes the next request waiting in `lane`; forgets the lane when nothing is left in it. */
  #wake(hash: string, lane: Lane): void {
    const next = lane.waiting.shift();
    if (next) next();
    else if (lane.running === 0 && lane.awaiting === 0 && this.#lanes.get(hash) === lane) {
      this.#lanes.delete(hash);
    }
  }

  /**
   * Waits for the key's place, held until the answer is written (or PLACE_MS) when `hold`, else
   * only for this round, and given back on the event loop's next round; false when its client went
   * meanwhile.
   */
  async #place(hash: string, res: ServerResponse, hold: boolean) {
    if (!(await this.#rounds.start(hash, res))) return false;
    if (!hold) {
      this.#rounds.giveBack(hash);
      return true;
    }
    let held = true;
    const giveBack = () => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      this.#rounds.giveBack(hash);
    };
    const timer = setTimeout(giveBack, PLACE_MS);
    res.once("finish", giveBack);
    res.once("close", giveBack);
    return true;
  }
}

/**
 * Which requests start in each round of the event loop: at most PER_ROUND of all keys' (the work
 * a round does before it reads anything else), one of each key at a time (its place, given back
 * on the round after its last), the key that started fewest lately first. So another tenant's
 * request, however many keys flood, waits a round or two. (Serving the key that spent least
 * processing time first let keys flooding requests charged nothing hold another's forever: a
 * count of starts grows with every request, whatever it costs, and fades while a key waits.)
 */
class Rounds {
  /** Keys holding their place (or given back, until the next round). */
  readonly #busy = new Set<string>();
  /** Requests waiting to start, by key, in the order keys are served next. */
  readonly #waiting = new Map<string, Waiter[]>();
  /** Requests started in this round. */
  #started = 0;
  #nextRound = false;
  /** Each key's count of requests started lately, fading (halved every STARTS_HALF_LIFE_MS). */
  readonly #starts = new Map<string, { n: number; at: number }>();

  /** Resolves true once the request may start, false when its client went before. */
  start(hash: string, res: ServerResponse): Promise<boolean> {
    return new Promise<boolean>((go) => {
      const line = this.#waiting.get(hash) ?? [];
      line.push({ res, go });
      this.#waiting.set(hash, line);
      // Now, if the round has room and no key before it waits; else when a place comes free.
      this.#serve();
    });
  }

  /** The key's place, given back: free again from the next round. */
  giveBack(hash: string): void {
    setImmediate(() => {
      this.#busy.delete(hash);
      this.#serve();
    });
  }

  /** Counts the next round from zero once this one is over (what it read has been dispatched). */
  #roundOver(): void {
    if (this.#nextRound) return;
    this.#nextRound = true;
    setImmediate(() => {
      this.#nextRound = false;
      this.#started = 0;
      this.#serve();
    });
  }

  /** The key's count of requests started lately, as of `now`. */
  #recent(hash: string, now: number): number {
    const starts = this.#starts.get(hash);
    return starts ? starts.n * 2 ** (-(now - starts.at) / STARTS_HALF_LIFE_MS) : 0;
  }

  /**
   * Starts waiting requests while the round has room: of the free key that started fewest lately
   * (in turn among equals: a key served goes behind the others waiting).
   */
  #serve(): void {
    while (this.#started < PER_ROUND) {
      const now = performance.now();
      let chosen: string | undefined;
      let fewest = Number.POSITIVE_INFINITY;
      for (const hash of this.#waiting.keys()) {
        if (this.#busy.has(hash)) continue;
        const recent = this.#recent(hash, now);
        if (recent < fewest) [chosen, fewest] = [hash, recent];
      }
      if (chosen === undefined) return;
      const line = this.#waiting.get(chosen) as Waiter[];
      const waiter = line.shift() as Waiter;
      this.#waiting.delete(chosen);
      // Its next ones wait behind the other keys'.
      if (line.length > 0) this.#waiting.set(chosen, line);
      if (waiter.res.destroyed) {
        waiter.go(false);
        continue;
      }
      this.#busy.add(chosen);
      this.#started += 1;
      this.#starts.set(chosen, { n: fewest + 1, at: now });
      if (this.#starts.size > 256) this.#forgetFaded(now);
      this.#roundOver();
      waiter.go(true);
    }
  }

  /** Forgets the counts that have faded to nothing (of keys gone quiet). */
  #forgetFaded(now: number): void {
    for (const hash of this.#starts.keys()) {
      if (this.#recent(hash, now) < 0.01 && !this.#waiting.has(hash)) this.#starts.delete(hash);
    }
  }
}

interface Waiter {
  res: ServerResponse;
  go: (started: boolean) => void;
}
