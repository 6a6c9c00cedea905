/**
 * Any transport, sending nothing that holds a key: for transports this server does not write itself
 * (an in-memory pair in tests, or one an embedder hands to `App.connect`). The stdio transport and
 * the HTTP entries redact in their own code.
 */
import type {
  JSONRPCMessage,
  MessageExtraInfo,
  Transport,
  TransportSendOptions,
} from "@modelcontextprotocol/server";
import type { Secrets } from "../secrets.js";

export class RedactingTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  constructor(
    private readonly inner: Transport,
    private readonly secrets: Secrets,
  ) {}

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  start(): Promise<void> {
    // This wrapper owns `inner`, as a server owns the transport it connects to.
    this.inner.onmessage = (message, extra) => this.onmessage?.(message, extra);
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => this.onerror?.(error);
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(this.secrets.redactDeep(message), options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
