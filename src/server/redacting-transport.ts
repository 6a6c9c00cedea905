/**
 * Any transport, sending nothing that holds a key: for transports this server does not write itself
 * (an in-memory pair in tests, or one an embedder hands to `App.connect`). The stdio transport and
 * the HTTP entries redact in their own code.
 *
 * The transport is used as it is (the server sets its callbacks as it would without this); only
 * what goes out through `send` passes the key's redaction first.
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
