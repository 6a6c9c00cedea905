/**
 * The one way this server talks to PostHog: undici with a keep-alive agent for the process,
 * bounded timeouts, the key in the Authorization header only, and bodies read with a size limit.
 */

import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import type { ProjectId } from "../config.js";
import { type FieldSpan, topLevelFields } from "../json-fields.js";
import { forgetSecret, registerSecret, Secrets } from "../secrets.js";
import type { SearchSteps } from "../text-search.js";
import { retryAfterSeconds } from "./errors.js";
import { CpuBudgetSpent, RateLimitExceeded, RateLimiter, type RateLimits, sleep } from "./rate-limit.js";
import { Agent } from "./undici.js";

export type HttpMethod = "GET" | "POST" | "PATCH";

export type QueryValue = string | number | boolean | null | undefined;

/** A request body already written as JSON (UTF-8 bytes): sent as it is. */
export class JsonBody {
  /** `content`: the document's JSON within `bytes`, if it carries one (what its echo should hold). */
  constructor(
    readonly bytes: Uint8Array,
    readonly content?: Uint8Array,
  ) {}
}

export interface UpstreamRequest {
  method: HttpMethod;
  /** Absolute path on the host, starting with `/api/`. Build it with `projectPath`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** Written as JSON, unless it is a `JsonBody` already. */
  body?: unknown;
  signal?: AbortSignal | undefined;
  /**
   * A successful (2xx) answer is handed back as its bytes, unparsed (`bytes`; `body` undefined and
   * `text` empty): for answers too big to parse whole on the server's thread. Others are parsed.
   */
  raw?: boolean;
  /**
   * For a `raw` request: values likely in the answer, by top-level field (the document held of the
   * notebook read, or just sent): bytes the same there are not read through. A `JsonBody`'s
   * document is expected by default.
   */
  expect?: ReadonlyMap<string, Uint8Array> | undefined;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or `undefined` for an empty or non-JSON body. */
  body: unknown;
  /** Raw text of the body, for summaries of non-JSON answers. */
  text: string;
  /** The body's bytes, for a 2xx answer to a `raw` request. */
  bytes?: Buffer;
  /**
   * For a 2xx answer to a `raw` request: where each top-level field lies in `bytes`, or undefined
   * when the answer is JSON but not an object (then `body` holds it parsed).
   */
  fields?: Map<string, FieldSpan> | undefined;
  /** The request's method: an error answer to a write may leave its outcome unknown. */
  method?: HttpMethod;
}

export type UpstreamFailure = "timeout" | "network" | "aborted" | "malformed" | "too-large" | "rate-limited";

/** A request that produced no usable HTTP answer. Never carries the key. */
export class UpstreamError extends Error {
  override name = "UpstreamError";
  /** The failed request's method, set by `request`: a write that may have arrived must not be blindly repeated. */
  method?: HttpMethod;
  constructor(
    readonly kind: UpstreamFailure,
    message: string,
    /** True when the request provably never reached the server (connection refused, DNS). */
    readonly neverSent = false,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  host: string;
  apiKey: string;
  userAgent: string;
  /** `total`: the whole answer, from sending to its last byte (default: headers + body). */
  timeouts: { connect: number; headers: number; body: number; total?: number };
  /** Most TCP connections to the host at once. */
  connections?: number;
  /** Largest response body accepted, in bytes. */
  maxBodyBytes?: number;
  /** Client-side request budget (default: PostHog's personal-key limits); false disables it. */
  rateLimits?: RateLimits | false;
  /** How long retries may wait in all, in milliseconds (default 30 s). */
  retryBudgetMs?: number;
  logger?: Pick<Logger, "warn" | "debug">;
}

/** Statuses worth another try for a read: throttling and a gateway's passing trouble. */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 4;

/** Exponential backoff with jitter: 250 ms, 500 ms, 1 s… each scaled by a random 50–100 %. */
function backoffMs(retry: number): number {
  return Math.round(Math.min(4_000, 250 * 2 ** retry) * (0.5 + Math.random() / 2));
}

/** `/api/projects/{id}/...segments/` with every segment percent-encoded. */
export function projectPath(projectId: ProjectId, ...segments: string[]): string {
  const parts = ["api", "projects", String(projectId), ...segments].map((s) =>
    s === "@current" ? s : encodeURIComponent(s),
  );
  return `/${parts.join("/")}/`;
}

let clients = 0;

/** A key's redaction, its time charged to the key (redacting a big answer is real work). */
class ChargedSecrets extends Secrets {
  constructor(
    key: string,
    private readonly account: { chargeCpu(ms: number): void } | undefined,
  ) {
    super([key]);
  }

  override redact(text: string, steps?: SearchSteps): string {
    if (!this.account || text.length < 4_096) return super.redact(text, steps);
    const started = performance.now();
    try {
      return super.redact(text, steps);
    } finally {
      this.account.chargeCpu(performance.now() - started);
    }
  }
}

export class PostHogClient {
  readonly host: string;
  readonly #origin: string;
  /** host[:port], as errors name it. */
  readonly #hostName: string;
  readonly #apiKey: string;
  #closed = false;
  readonly #userAgent: string;
  readonly #maxBodyBytes: number;
  readonly #dispatcher: Dispatcher;
  readonly #agent: InstanceType<typeof Agent>;
  readonly #limiter: RateLimiter | undefined;
  readonly #retryBudgetMs: number;
  readonly #logger: ClientOptions["logger"];
  readonly #totalMs: number;
  /** Tells this client (one key) from the others of the process. */
  readonly id = `client-${++clients}`;
  /** This client's key: what its session's output is redacted with. */
  readonly secrets: Secrets;
  /** SHA-256 of the key (hex): what binds state to the key without holding it. */
  readonly keyHash: string;

  constructor(options: ClientOptions) {
    this.host = options.host;
    const { origin, host } = new URL(options.host);
    this.#origin = origin;
    this.#hostName = host;
    this.#limiter = options.rateLimits === false ? undefined : new RateLimiter(options.rateLimits);
    this.#retryBudgetMs = options.retryBudgetMs ?? 30_000;
    this.#logger = options.logger;
    this.#apiKey = options.apiKey;
    this.secrets = new ChargedSecrets(options.apiKey, this.#limiter);
    this.keyHash = createHash("sha256").update(options.apiKey).digest("hex");
    registerSecret(options.apiKey);
    this.#userAgent = options.userAgent;
    this.#maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
    this.#totalMs = options.timeouts.total ?? options.timeouts.headers + options.timeouts.body;
    this.#agent = new Agent({
      connections: options.connections ?? 8,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connectTimeout: options.timeouts.connect,
      headersTimeout: options.timeouts.headers,
      bodyTimeout: options.timeouts.body,
      // A body that outgrows the limit as it streams in ends its connection: undici counts the bytes.
      maxResponseSize: this.#maxBodyBytes,
    });
    this.#dispatcher = this.#agent;
  }

  /**
   * Holds a call back before it does any work: until the key has room for a request and is under
   * its share of processing time (waiting when that is near). Throws an `UpstreamError`
   * ("rate-limited") or `CpuBudgetSpent` when the wait would be too long; nothing is taken.
   */
  async admit(signal?: AbortSignal): Promise<void> {
    if (!this.#limiter) return;
    try {
      await this.#limiter.admit(signal);
    } catch (error) {
      if (error instanceof CpuBudgetSpent) throw error;
      if (error instanceof RateLimitExceeded) {
        throw new UpstreamError("rate-limited", `this server held the request back: ${error.message}`, true);
      }
      throw new UpstreamError("aborted", "the request was cancelled");
    }
  }

  /** Who this key's processing time is charged to (undefined: no limits). */
  get cpuAccount(): RateLimiter | undefined {
    return this.#limiter;
  }

  /** Replaces every occurrence of the key in `text`, for anything that might be shown. */
  redact(text: string): string {
    return this.secrets.redact(text);
  }

  /**
   * Sends one request, retrying what is safe to retry: reads (GET) on 429, 502, 503, 504 and reset
   * connections, with backoff and jitter, honouring Retry-After or the seconds in a 429's detail,
   * within the retry budget; writes only when the request provably never reached the server.
   * (undici's retry interceptor cannot read a 429's body, where PostHog says when to come back.)
   */
  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const remaining = this.#retryBudgetMs - (performance.now() - started);
      try {
        // (Without waiting when there is room: the request then leaves in the caller's own turn.)
        if (this.#limiter && !this.#limiter.tryTake()) await this.#limiter.acquire(req.signal);
      } catch (error) {
        if (error instanceof RateLimitExceeded) {
          throw new UpstreamError(
            "rate-limited",
            `this server held the request back: ${error.message}`,
            true,
          );
        }
        throw new UpstreamError("aborted", "the request was cancelled");
      }
      let response: UpstreamResponse;
      try {
        response = await this.#once(req);
      } catch (error) {
        if (error instanceof UpstreamError) error.method = req.method;
        if (!(error instanceof UpstreamError) || attempt >= MAX_ATTEMPTS) throw error;
        const reset = error.kind === "network" && /reset/.test(error.message);
        const retryable = error.neverSent || (req.method === "GET" && (reset || error.kind === "malformed"));
        const wait = backoffMs(attempt - 1);
        if (!retryable || wait > remaining) throw error;
        this.#logger?.warn(
          { method: req.method, path: req.path, attempt, waitMs: wait, reason: error.kind },
          "retrying",
        );
        await this.#pause(wait, req.signal);
        continue;
      }
      if (req.method !== "GET" || !RETRY_STATUSES.has(response.status) || attempt >= MAX_ATTEMPTS)
        return response;
      const told = response.status === 429 ? retryAfterSeconds(response) : undefined;
      const wait =
        told === undefined ? backoffMs(attempt - 1) : told * 1000 + Math.round(Math.random() * 250);
      if (wait > remaining) return response;
      this.#logger?.warn(
        { method: req.method, path: req.path, attempt, waitMs: wait, status: response.status },
        "retrying",
      );
      await this.#pause(wait, req.signal);
    }
  }

  async #pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(ms, signal);
    } catch {
      throw new UpstreamError("aborted", "the request was cancelled");
    }
  }

  async #once(req: UpstreamRequest): Promise<UpstreamResponse> {
    let path = req.path;
    if (req.query) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(req.query)) {
        if (value !== undefined && value !== null) params.set(name, String(value));
      }
      const search = params.toString();
      if (search) path += `?${search}`;
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: "application/json",
      "user-agent": this.#userAgent,
    };
    let body: string | Uint8Array | undefined;
    if (req.body !== undefined) {
      body = req.body instanceof JsonBody ? req.body.bytes : JSON.stringify(req.body);
      headers["content-type"] = "application/json";
    }
    let response: Answer;
    // The answer as a whole has a deadline: a server dripping a byte at a time beats the body timeout.
    const deadline = AbortSignal.timeout(this.#totalMs);
    const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
    try {
      response = await new Promise<Answer>((resolve, reject) => {
        const answer = new AnswerReader(this.#maxBodyBytes, signal, resolve, reject);
        this.#dispatcher.dispatch({ origin: this.#origin, path, method: req.method, headers, body }, answer);
      });
    } catch (error) {
      if (req.signal?.aborted) throw new UpstreamError("aborted", "the request was cancelled");
      if (deadline.aborted) {
        throw new UpstreamError(
          "timeout",
          `${this.#hostName} did not finish answering within ${this.#totalMs} ms`,
        );
      }
      if (error instanceof TooLarge) throw this.#tooLarge(error.status);
      throw this.#describe(error);
    }
    const contentType = String(response.headers["content-type"] ?? "");
    if (req.raw && response.status >= 200 && response.status < 300) {
      const sent =
        req.body instanceof JsonBody && req.body.content
          ? new Map([["content", req.body.content]])
          : undefined;
      const raw = this.#raw(response.bytes, req.expect ?? sent, contentType, response.status);
      return { status: response.status, headers: response.headers, text: "", method: req.method, ...raw };
    }
    const text = response.bytes.toString("utf8");
    let parsed: unknown;
    if (text.length > 0 && (contentType.includes("json") || /^\s*[[{]/.test(text))) {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (response.status < 400) {
          throw new UpstreamError(
            "malformed",
            `PostHog answered ${response.status} with a body that is not valid JSON (${text.length} bytes, possibly cut short)`,
            false,
            response.status,
          );
        }
      }
    } else if (text.length > 0 && response.status < 300) {
      throw new UpstreamError(
        "malformed",
        `PostHog answered ${response.status} with ${contentType || "an unknown content type"} instead of JSON`,
        false,
        response.status,
      );
    }
    return { status: response.status, headers: response.headers, body: parsed, text, method: req.method };
  }

  /**
   * A 2xx answer to a `raw` request, checked as far as reading its top level: an answer that is
   * not JSON, or is cut short, fails as a parsed one would (a read is retried).
   */
  #raw(
    bytes: Buffer,
    expected: ReadonlyMap<string, Uint8Array> | undefined,
    contentType: string,
    status: number,
  ): { bytes: Buffer; fields: Map<string, FieldSpan> | undefined; body: unknown } {
    if (bytes.length === 0) return { bytes, fields: undefined, body: undefined };
    const start = bytes.subarray(0, 64).toString("latin1");
    if (!contentType.includes("json") && !/^\s*[[{]/.test(start)) {
      throw new UpstreamError(
        "malformed",
        `PostHog answered ${status} with ${contentType || "an unknown content type"} instead of JSON`,
        false,
        status,
      );
    }
    const fields = topLevelFields(bytes, expected);
    if (fields) return { bytes, fields, body: undefined };
    // Not an object: JSON of another shape (small, in practice), or not JSON at all.
    try {
      return { bytes, fields: undefined, body: JSON.parse(bytes.toString("utf8")) };
    } catch {
      throw new UpstreamError(
        "malformed",
        `PostHog answered ${status} with a body that is not valid JSON (${bytes.length} bytes, possibly cut short)`,
        false,
        status,
      );
    }
  }

  #tooLarge(status: number): UpstreamError {
    const mib = this.#maxBodyBytes / 1024 / 1024;
    const limit = mib >= 1 ? `${Math.round(mib)} MB` : `${Math.ceil(this.#maxBodyBytes / 1024)} KB`;
    return new UpstreamError(
      "too-large",
      `PostHog's answer is larger than the ${limit} this server accepts`,
      false,
      status,
    );
  }

  #describe(error: unknown): UpstreamError {
    const host = this.#hostName;
    const err = error as { name?: string; code?: string; message?: string; cause?: { code?: string } };
    const code = err.code ?? err.cause?.code;
    if (err.name === "AbortError" || code === "UND_ERR_ABORTED") {
      return new UpstreamError("aborted", "the request was cancelled");
    }
    if (code === "UND_ERR_CONNECT_TIMEOUT") {
      return new UpstreamError("timeout", `connecting to ${host} timed out`, true);
    }
    if (code === "UND_ERR_HEADERS_TIMEOUT") {
      return new UpstreamError("timeout", `${host} did not start answering in time`);
    }
    if (code === "UND_ERR_BODY_TIMEOUT") {
      return new UpstreamError("timeout", `${host} stopped sending its answer part-way`);
    }
    const neverSent = code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN";
    const what =
      code === "ECONNREFUSED"
        ? "the connection was refused"
        : code === "ENOTFOUND" || code === "EAI_AGAIN"
          ? "the host name could not be resolved"
          : code === "ECONNRESET" || code === "UND_ERR_SOCKET"
            ? "the connection was reset"
            : this.redact(err.message ?? String(error));
    return new UpstreamError("network", `could not reach ${host}: ${what}`, neverSent);
  }

  /**
   * Closes the connections once their requests are answered, or (`abort`) at once, giving up the
   * requests still waiting for PostHog.
   */
  async close(abort = false): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      // Another client of the same key (a key let go and admitted again) keeps it redacted.
      forgetSecret(this.#apiKey);
    }
    await (abort ? this.#agent.destroy() : this.#agent.close());
  }
}

/** An answer read whole: status, headers and the body's bytes. */
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
}

/** An answer larger than the limit: announced so in its headers, or found so as it streamed in. */
class TooLarge extends Error {
  constructor(readonly status: number) {
    super("the answer is larger than the limit");
  }
}

/**
 * Reads one answer through undici's dispatch handler interface: the chunks are collected as they
 * arrive and decoded once at the end, without a body stream in between (what `request()` adds on
 * top, and what this server never needs: every answer is read whole). Cancellation and a size
 * announced over the limit abort the request; timeouts and a body outgrowing the limit are the
 * agent's (`headersTimeout`, `bodyTimeout`, `maxResponseSize`), reported through
 * `onResponseError`.
 */
class AnswerReader implements Dispatcher.DispatchHandler {
  #status = 0;
  #headers: Record<string, string | string[] | undefined> = {};
  #chunks: Buffer[] = [];
  #controller: Dispatcher.DispatchController | undefined;
  readonly #onAbort = () => {
    if (this.#controller) return this.#controller.abort(abortReason(this.signal));
    // Still waiting for a connection: the caller hears at once, and undici drops the request when
    // its turn comes (onRequestStart sees the signal aborted).
    this.#done();
    this.reject(abortReason(this.signal));
  };

  constructor(
    private readonly maxBytes: number,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (answer: Answer) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.signal?.aborted) controller.abort(abortReason(this.signal));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (status < 200) return; // an informational answer; the real one follows
    this.#status = status;
    this.#headers = headers;
    const declared = Number(headers["content-length"] ?? Number.NaN);
    if (declared > this.maxBytes) controller.abort(new TooLarge(status));
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.#done();
    const chunks = this.#chunks;
    this.#chunks = [];
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    this.resolve({ status: this.#status, headers: this.#headers, bytes });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#done();
    const exceeded = (error as { code?: string }).code === "UND_ERR_RES_EXCEEDED_MAX_SIZE";
    this.reject(exceeded ? new TooLarge(this.#status) : error);
  }

  #done(): void {
    this.signal?.removeEventListener("abort", this.#onAbort);
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException("The request was cancelled", "AbortError");
}
