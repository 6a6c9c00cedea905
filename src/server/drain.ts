/**
 * Shutting down without cutting anyone off (SIGTERM): once draining, new requests are told to come
 * back and `/healthz` answers 503, while the requests in flight are answered, up to a time limit.
 * A stream that stays open for as long as its client listens (a 2025 session's GET, a 2026
 * `subscriptions/listen`) is not a request in flight: it is ended after the others.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { VERSION } from "../version.js";

export class Drain {
  #draining = false;
  readonly #inflight = new Set<ServerResponse>();
  #settled: (() => void) | undefined;

  get draining(): boolean {
    return this.#draining;
  }

  /** Counts a request as in flight until its answer is sent (a GET is a stream: not counted). */
  count(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === "GET") return;
    this.#inflight.add(res);
    res.once("close", () => this.streaming(res));
  }

  /** `res` turned out to be a stream: it no longer holds the drain. */
  streaming(res: ServerResponse): void {
    if (this.#inflight.delete(res) && this.#inflight.size === 0) this.#settled?.();
  }

  /** Starts draining; resolves once no request is in flight, or after `waitMs`. */
  async start(waitMs: number): Promise<void> {
    this.#draining = true;
    if (this.#inflight.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      this.#settled = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * `GET /healthz`, for load balancers: 200, or 503 while draining. How many sessions and keys are
 * held is for this machine's eyes only (`local`).
 */
export function answerHealthz(
  res: ServerResponse,
  draining: boolean,
  /** What only this machine is told: counts of what the server holds now. */
  local: Record<string, number> | undefined,
): void {
  res.writeHead(draining ? 503 : 200, { "content-type": "application/json" });
  res.end(JSON.stringify({ status: draining ? "draining" : "ok", version: VERSION, ...local }));
}
