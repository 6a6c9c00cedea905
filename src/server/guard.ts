/**
 * What every transport's messages pass through, whichever transport it is (stdio or Streamable
 * HTTP): no key this process holds leaves in any message, and the task field of a request is
 * dropped, since this server does not declare tasks and MCP 2025-11-25 says such a server processes
 * the request normally, ignoring it (the SDK would refuse it instead).
 */
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage, MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js";
import type { Secrets } from "../secrets.js";

export class GuardedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  /** Requests received and not yet answered, by id. */
  readonly #pending = new Set<string | number>();
  #drained: (() => void) | undefined;

  /** `secrets`: the keys this transport's messages are redacted of (its session's own). */
  constructor(
    readonly inner: Transport,
    private readonly secrets: Secrets,
  ) {
    const closed = inner.onclose;
    inner.onclose = () => {
      closed?.();
      this.onclose?.();
    };
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message, extra) => {
      if ("method" in message && "id" in message) this.#pending.add(message.id);
      this.onmessage?.(withoutTask(message), extra);
    };
  }

  /** Resolves once every request received so far has been answered (or after `ms`). */
  idle(ms: number): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    await this.inner.send(this.secrets.redactDeep(message), options);
    const answered = "result" in message || "error" in message ? message.id : undefined;
    if (answered !== undefined && this.#pending.delete(answered) && this.#pending.size === 0)
      this.#drained?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function withoutTask(message: JSONRPCMessage): JSONRPCMessage {
  if (!("method" in message) || !("id" in message)) return message;
  const params = message.params as Record<string, unknown> | undefined;
  if (!params || !("task" in params)) return message;
  const { task: _ignored, ...rest } = params;
  return { ...message, params: rest };
}
