/**
 * Injected faults. `fault()` queues; each request consumes:
 *  - every active delay fault (`latency`, `slow-headers`: the request waits, then is handled
 *    normally; their delays add up), and
 *  - the first queued response fault, in the order they were queued.
 *
 * Whether the request is still handled (and so changes state) depends on the kind:
 *  - `status`, `malformed`, `reset`: never handled — the request never "reached" PostHog.
 *  - `slow-body`, `truncated`, `reset-mid-body`: handled first, then the real response is
 *    delivered badly — so a write can succeed while the client sees a failure.
 *  - `chunked`: handled, and the real response sent without Content-Length, in chunks (as
 *    PostHog's answers arrive through proxies that compress them): a client learns a body's size
 *    only as it reads it.
 *
 * `truncated` sends consistent headers (Content-Length of the half body it sends), so the HTTP
 * exchange completes and the client gets half a JSON document; `reset-mid-body` announces the
 * full length, sends half, then destroys the socket (a network error mid-body).
 */
import type { Fault } from "./types.js";

type Active = Fault & { remaining: number };

export type ResponseFault = Exclude<Fault, { kind: "latency" } | { kind: "slow-headers" }>;

export interface FaultPlan {
  delayMs: number;
  response: ResponseFault | null;
}

export class FaultQueue {
  private active: Active[] = [];

  add(f: Fault): void {
    const isDelay = f.kind === "latency" || f.kind === "slow-headers";
    const remaining = f.count ?? (isDelay ? Number.POSITIVE_INFINITY : 1);
    if (remaining > 0) this.active.push({ ...f, remaining });
  }

  clear(): void {
    this.active = [];
  }

  /** Consume what applies to one request. */
  take(): FaultPlan {
    let delayMs = 0;
    let response: ResponseFault | null = null;
    for (const f of this.active) {
      if (f.kind === "latency" || f.kind === "slow-headers") {
        delayMs += f.ms;
        f.remaining -= 1;
      } else if (response === null) {
        const { remaining: _remaining, ...plain } = f;
        response = plain as ResponseFault;
        f.remaining -= 1;
      }
    }
    this.active = this.active.filter((f) => f.remaining > 0);
    return { delayMs, response };
  }
}

export function defaultFaultBody(status: number): { body: string; contentType: string } {
  if (status >= 502 && status <= 504) {
    const reason =
      status === 502 ? "Bad Gateway" : status === 503 ? "Service Unavailable" : "Gateway Timeout";
    return {
      body: `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n</body>\r\n</html>\r\n`,
      contentType: "text/html",
    };
  }
  if (status >= 500) {
    return {
      body: JSON.stringify({
        type: "server_error",
        code: "error",
        detail: "A server error occurred.",
        attr: null,
      }),
      contentType: "application/json",
    };
  }
  return {
    body: JSON.stringify({
      type: "server_error",
      code: "error",
      detail: `Sandbox fault: HTTP ${status}.`,
      attr: null,
    }),
    contentType: "application/json",
  };
}
