/**
 * The key's grants for this session: read once at start from `GET /api/personal_api_keys/@current/`,
 * read again when PostHog says the key or a scope was refused, and re-tried now and then while they
 * are unknown. Listeners hear when what the key may do changes.
 */
import type { Logger } from "pino";
import type { PostHogClient } from "./client.js";
import { UpstreamError } from "./client.js";
import { upstreamDetail } from "./errors.js";
import { describeGrants, type Grants, grantsFromPayload } from "./scopes.js";

const RETRY_UNKNOWN_MS = 60_000;
const RETRY_REJECTED_MS = 10_000;

export class KeyGrants {
  #current: Grants = { status: "unknown", reason: "not read yet" };
  #inflight: Promise<Grants> | undefined;
  #lastRead = 0;
  #listeners = new Set<(grants: Grants, previous: Grants) => void>();

  /**
   * `oneOfMany`: the key is one of many a shared server is sent (HTTP), not the one it was
   * configured with: PostHog refusing it is the sender's mistake, logged as such, not an error of
   * the server's.
   */
  constructor(
    private readonly client: PostHogClient,
    private readonly logger: Logger,
    private readonly oneOfMany = false,
  ) {}

  get current(): Grants {
    return this.#current;
  }

  /** Returns the way to stop listening (a session that ends stops). */
  onChange(listener: (grants: Grants, previous: Grants) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** When the grants were last read (epoch ms; 0 before the first read). */
  get readAt(): number {
    return this.#lastRead;
  }

  #first: Promise<Grants> | undefined;

  /**
   * Resolves once the first read has finished (or after `timeoutMs`), so that the first tools/list
   * already reflects the key. Starts the read if nobody has.
   */
  async settled(timeoutMs = 5_000): Promise<Grants> {
    this.#first ??= this.refresh();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Grants>((resolve) => {
      timer = setTimeout(() => resolve(this.#current), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.#first, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads the grants now (concurrent callers share one request). Never throws. */
  refresh(): Promise<Grants> {
    this.#inflight ??= this.#read().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /**
   * The grants, re-read first if they are unknown or rejected and were last read a while ago: at
   * once when nothing has to be read (the usual case, so that a tool call's request leaves without
   * waiting a turn), or a promise of them.
   */
  fresh(): Grants | Promise<Grants> {
    if (!this.#first) return this.settled();
    if (this.#inflight) return this.#inflight;
    const age = Date.now() - this.#lastRead;
    const status = this.#current.status;
    if (
      (status === "unknown" && age > RETRY_UNKNOWN_MS) ||
      (status === "rejected" && age > RETRY_REJECTED_MS)
    ) {
      return this.refresh();
    }
    return this.#current;
  }

  async #read(): Promise<Grants> {
    let next: Grants;
    try {
      const response = await this.client.request({ method: "GET", path: "/api/personal_api_keys/@current/" });
      if (response.status === 200) {
        try {
          next = grantsFromPayload(response.body);
        } catch {
          next = { status: "unknown", reason: "PostHog's description of the key had an unexpected shape" };
        }
      } else if (response.status === 401) {
        // PostHog's sentence may repeat the key (a proxy's may): redacted before it is kept, logged or
        // sent, even after the key has left the process's log redaction (a late answer).
        const detail = upstreamDetail(response.body);
        next = {
          status: "rejected",
          reason: detail ? this.client.secrets.redact(detail) : "401 Unauthorized",
        };
      } else if (response.status === 404) {
        next = {
          status: "unknown",
          reason: "this PostHog does not describe keys (404): an older self-hosted version",
        };
      } else {
        next = {
          status: "unknown",
          reason: `PostHog answered ${response.status} when asked for the key's scopes`,
        };
      }
    } catch (error) {
      const reason = error instanceof UpstreamError ? error.message : "the request failed";
      next = { status: "unknown", reason };
    }
    this.#lastRead = Date.now();
    const previous = this.#current;
    this.#current = next;
    if (next.status === "known") this.logger.info({ grants: describeGrants(next) }, "read the key's grants");
    else if (next.status === "rejected" && this.oneOfMany) {
      this.logger.info({ reason: next.reason }, "PostHog rejected a request's personal API key; refused");
    } else if (next.status === "rejected") {
      this.logger.error(
        { reason: next.reason },
        "PostHog rejected the personal API key; every tool will say so until a valid key is configured",
      );
    } else if (this.oneOfMany) {
      this.logger.warn({ reason: next.reason }, "PostHog could not confirm a request's key just now");
    } else {
      this.logger.warn(
        { reason: next.reason },
        "could not read the key's scopes; listing every tool and relying on PostHog's own checks",
      );
    }
    for (const listener of this.#listeners) listener(next, previous);
    return next;
  }
}
