/**
 * Shared helpers for the sandbox integration tests: raw HTTP calls against a running sandbox and
 * the start/close lifecycle of the sandboxes a test file uses.
 */
import { afterEach, expect } from "vitest";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../src/sandbox/index.js";

export interface SandboxReply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body; `undefined` when it is empty or not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: responses are free-form JSON, asserted field by field
  json: any;
}

export interface CallOptions {
  /** The key sent as `Authorization: Bearer …`; default: the sandbox's key; `null`: no header. */
  key?: string | null;
  /** Sent as JSON, with `Content-Type: application/json` unless `headers` names another. */
  body?: unknown;
  /** Sent as is (when `body` is not given). */
  raw?: string;
  /** Extra headers; they win over the Authorization header built from `key`. */
  headers?: Record<string, string>;
}

/** One request to the sandbox: `pathOrUrl` is a path below `sb.url` or an absolute URL. */
export async function callSandbox(
  sb: Sandbox,
  method: string,
  pathOrUrl: string,
  opts: CallOptions = {},
): Promise<SandboxReply> {
  const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${sb.url}${pathOrUrl}`;
  const headers: Record<string, string> = {};
  if (opts.key !== null) headers.Authorization = `Bearer ${opts.key ?? sb.defaultKey}`;
  Object.assign(headers, opts.headers);
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] ??= "application/json";
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface SandboxSuiteOptions {
  /** Options every `start()` begins with (a function is read at each start). */
  defaults?: SandboxOptions | (() => SandboxOptions);
  /** Collect the sandbox's internal errors and expect none after each test; default true. */
  checkInternalErrors?: boolean;
}

export interface SandboxSuite {
  /** Starts a sandbox that is closed after the current test. */
  start(opts?: SandboxOptions): Promise<Sandbox>;
}

/**
 * Registers an `afterEach` that closes every sandbox started through the returned `start` and
 * (by default) expects no internal errors. Call it at the top level of a test file.
 */
export function sandboxSuite(options: SandboxSuiteOptions = {}): SandboxSuite {
  const { defaults = {}, checkInternalErrors = true } = options;
  const running: Sandbox[] = [];
  const internalErrors: unknown[] = [];
  afterEach(async () => {
    for (const sb of running.splice(0)) await sb.close();
    if (checkInternalErrors) expect(internalErrors.splice(0)).toEqual([]);
  });
  return {
    async start(opts: SandboxOptions = {}) {
      const sb = await startSandbox({
        ...(checkInternalErrors ? { onInternalError: (e: unknown) => internalErrors.push(e) } : {}),
        ...(typeof defaults === "function" ? defaults() : defaults),
        ...opts,
      });
      running.push(sb);
      return sb;
    },
  };
}
