/**
 * What one key's requests may take of an HTTP server besides their tools' own work (which the
 * tools charge to the key themselves):
 *
 * - **At most IN_FLIGHT requests of a key at once** (listen streams and GET streams aside): a read
 *   of a big notebook holds its notebook and answer while it runs (about 9 MB for one of 4 MB), and
 *   one key's hundred reads at once held a gigabyte; past it, 429 saying so.
 * - **Protocol requests charged to the key**: those that call nothing upstream (initialize, ping,
 *   tools/list, server/discover, notifications...) spend only this server's thread, building a
 *   server and an answer for each; their time, from the body read to the answer sent (at most
 *   MAX_CHARGE_MS a message), counts against the key's share of processing time. One key looping
 *   batches of tools/list kept the server's thread busy and was never counted. A key over its
 *   share has such requests refused (429, saying when to try again).
 */
import type { ServerResponse } from "node:http";
import { refuse } from "./http-refusal.js";
import type { BodyAccount } from "./request-body.js";

/** Requests of one key in flight at once, at most. */
export const IN_FLIGHT = 16;
/** What one protocol message is charged at most (the rest of its time was waiting). */
const MAX_CHARGE_MS = 50;

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

function isLocal(message: unknown): boolean {
  const method = (message as { method?: unknown } | null)?.method;
  return typeof method === "string" && (LOCAL_METHODS.has(method) || method.startsWith("notifications/"));
}

function idOf(body: unknown): string | number | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

export class KeyRequests {
  /** Requests in flight, by key hash. */
  readonly #inFlight = new Map<string, number>();
  #total = 0;

  /** Requests in flight now, of every key (streams aside). */
  get inFlight(): number {
    return this.#total;
  }

  /**
   * Counts a POST of the key `hash` in flight before its body is read (a refusal then costs no
   * reading), or refuses it (answered). Returns how to stop counting it (a stream, once known), or
   * undefined when refused.
   */
  enter(hash: string, res: ServerResponse): (() => void) | undefined {
    const now = this.#inFlight.get(hash) ?? 0;
    if (now >= IN_FLIGHT) {
      refuse(
        res,
        429,
        -32000,
        `This key has ${IN_FLIGHT} requests in flight on this server, the most one key may have at once: wait for some of them to be answered, then send more.`,
        { "retry-after": "1" },
      );
      return undefined;
    }
    this.#inFlight.set(hash, now + 1);
    this.#total += 1;
    let counted = true;
    const leave = () => {
      if (!counted) return;
      counted = false;
      this.#total -= 1;
      const left = (this.#inFlight.get(hash) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(hash, left);
      else this.#inFlight.delete(hash);
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
    const messages = messagesOf(body);
    if (!account || messages.length === 0 || !messages.every(isLocal)) return true;
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
      account.chargeCpu(Math.min(performance.now() - started, MAX_CHARGE_MS * messages.length));
    });
    return true;
  }
}
