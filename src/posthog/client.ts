/**
 * The one way this server talks to PostHog: undici with a keep-alive agent for the process,
 * bounded timeouts, the key in the Authorization header only, and bodies read with a size limit.
 */
import { Agent, type Dispatcher, errors as undiciErrors } from "undici";
import type { ProjectId } from "../config.js";

export type HttpMethod = "GET" | "POST" | "PATCH";

export type QueryValue = string | number | boolean | null | undefined;

export interface UpstreamRequest {
  method: HttpMethod;
  /** Absolute path on the host, starting with `/api/`. Build it with `projectPath`. */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  signal?: AbortSignal | undefined;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or `undefined` for an empty or non-JSON body. */
  body: unknown;
  /** Raw text of the body, for summaries of non-JSON answers. */
  text: string;
}

export type UpstreamFailure = "timeout" | "network" | "aborted" | "malformed" | "too-large";

/** A request that produced no usable HTTP answer. Never carries the key. */
export class UpstreamError extends Error {
  override name = "UpstreamError";
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
  timeouts: { connect: number; headers: number; body: number };
  /** Most TCP connections to the host at once. */
  connections?: number;
  /** Largest response body accepted, in bytes. */
  maxBodyBytes?: number;
}

/** `/api/projects/{id}/...segments/` with every segment percent-encoded. */
export function projectPath(projectId: ProjectId, ...segments: string[]): string {
  const parts = ["api", "projects", String(projectId), ...segments].map((s) =>
    s === "@current" ? s : encodeURIComponent(s),
  );
  return `/${parts.join("/")}/`;
}

export class PostHogClient {
  readonly host: string;
  readonly #apiKey: string;
  readonly #userAgent: string;
  readonly #maxBodyBytes: number;
  readonly #dispatcher: Dispatcher;
  readonly #agent: Agent;

  constructor(options: ClientOptions) {
    this.host = options.host;
    this.#apiKey = options.apiKey;
    this.#userAgent = options.userAgent;
    this.#maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
    this.#agent = new Agent({
      connections: options.connections ?? 8,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connectTimeout: options.timeouts.connect,
      headersTimeout: options.timeouts.headers,
      bodyTimeout: options.timeouts.body,
    });
    this.#dispatcher = this.#agent;
  }

  /** The key's last four characters, as PostHog shows them: safe to print. */
  get keyHint(): string {
    return `phx_…${this.#apiKey.slice(-4)}`;
  }

  /** Replaces every occurrence of the key in `text`, for anything that might be shown. */
  redact(text: string): string {
    return this.#apiKey ? text.split(this.#apiKey).join("[redacted]") : text;
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const url = new URL(req.path, this.host);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: "application/json",
      "user-agent": this.#userAgent,
    };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers["content-type"] = "application/json";
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers,
        body,
        signal: req.signal,
      });
    } catch (error) {
      throw req.signal?.aborted
        ? new UpstreamError("aborted", "the request was cancelled")
        : this.#describe(error, url);
    }
    const text = await this.#readBody(response, url, req.signal);
    let parsed: unknown;
    const contentType = String(response.headers["content-type"] ?? "");
    if (text.length > 0 && (contentType.includes("json") || /^\s*[[{]/.test(text))) {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (response.statusCode < 400) {
          throw new UpstreamError(
            "malformed",
            `PostHog answered ${response.statusCode} with a body that is not valid JSON (${text.length} bytes, possibly cut short)`,
            false,
            response.statusCode,
          );
        }
      }
    } else if (text.length > 0 && response.statusCode < 300) {
      throw new UpstreamError(
        "malformed",
        `PostHog answered ${response.statusCode} with ${contentType || "an unknown content type"} instead of JSON`,
        false,
        response.statusCode,
      );
    }
    return { status: response.statusCode, headers: response.headers, body: parsed, text };
  }

  async #readBody(response: Dispatcher.ResponseData, url: URL, signal?: AbortSignal): Promise<string> {
    const declared = Number(response.headers["content-length"] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > this.#maxBodyBytes) {
      response.body.destroy();
      throw this.#tooLarge(response.statusCode);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > this.#maxBodyBytes) {
          response.body.destroy();
          throw this.#tooLarge(response.statusCode);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      if (signal?.aborted) throw new UpstreamError("aborted", "the request was cancelled");
      throw this.#describe(error, url);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  #tooLarge(status: number): UpstreamError {
    const mb = Math.round(this.#maxBodyBytes / 1024 / 1024);
    return new UpstreamError(
      "too-large",
      `PostHog's answer is larger than the ${mb} MB this server accepts`,
      false,
      status,
    );
  }

  #describe(error: unknown, url: URL): UpstreamError {
    const err = error as { name?: string; code?: string; message?: string; cause?: { code?: string } };
    const code = err.code ?? err.cause?.code;
    if (err.name === "AbortError" || error instanceof undiciErrors.RequestAbortedError) {
      return new UpstreamError("aborted", "the request was cancelled");
    }
    if (error instanceof undiciErrors.ConnectTimeoutError || code === "UND_ERR_CONNECT_TIMEOUT") {
      return new UpstreamError("timeout", `connecting to ${url.host} timed out`, true);
    }
    if (error instanceof undiciErrors.HeadersTimeoutError || code === "UND_ERR_HEADERS_TIMEOUT") {
      return new UpstreamError("timeout", `${url.host} did not start answering in time`);
    }
    if (error instanceof undiciErrors.BodyTimeoutError || code === "UND_ERR_BODY_TIMEOUT") {
      return new UpstreamError("timeout", `${url.host} stopped sending its answer part-way`);
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
    return new UpstreamError("network", `could not reach ${url.host}: ${what}`, neverSent);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
