/**
 * What leaves for a client, with its key redacted.
 *
 * `redactingTransport`: any transport, sending nothing that holds a key: for transports this server
 * does not write itself (the SDK's for 2025 HTTP sessions, an in-memory pair in tests, one an
 * embedder hands to `App.connect`). The stdio transport redacts in its own code.
 *
 * The transport is used as it is (the server sets its callbacks as it would without this); only
 * what goes out through `send` passes the key's redaction first.
 *
 * `redactedResponse`: what the SDK's `createMcpHandler` answers over HTTP, redacted as it leaves.
 */
import type { JSONRPCMessage, Transport, TransportSendOptions } from "@modelcontextprotocol/server";
import type { Secrets } from "../secrets.js";

export function redactingTransport(inner: Transport, secrets: Secrets): Transport {
  const send = (message: JSONRPCMessage, options?: TransportSendOptions) =>
    inner.send(secrets.redactDeep(message), options);
  return new Proxy(inner, {
    get(target, property) {
      if (property === "send") return send;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * An HTTP response as it leaves, with `secrets` redacted from its text: JSON whole, an event
 * stream event by event (the SDK writes each event in one piece).
 */
export async function redactedResponse(response: Response, secrets: Secrets): Promise<Response> {
  if (!response.body) return response;
  const type = response.headers.get("content-type") ?? "";
  const init = { status: response.status, statusText: response.statusText, headers: response.headers };
  if (type.includes("text/event-stream")) {
    const body = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(
        new TransformStream<string, string>({
          transform: (chunk, controller) => controller.enqueue(secrets.redact(chunk)),
        }),
      )
      .pipeThrough(new TextEncoderStream());
    return new Response(body, init);
  }
  return new Response(secrets.redact(await response.text()), init);
}
