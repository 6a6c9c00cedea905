/**
 * Long HTTP request bodies, read in a worker thread of their own (server/request-body.ts): each job
 * is a body's bytes, decoded and parsed here as every transport reads a message, and the answer the
 * message (or why it is not taken), with how long it took. Bodies have their own workers, so that
 * one is never read behind another tenant's conversion.
 */
import { parentPort } from "node:worker_threads";
import { readMessage } from "./read-message.js";

parentPort?.on("message", (message: { id: number; args: [Uint8Array] }) => {
  const started = performance.now();
  try {
    const value = readMessage(new TextDecoder("utf-8", { ignoreBOM: true }).decode(message.args[0]));
    parentPort?.postMessage({ id: message.id, ok: true, value, ms: performance.now() - started });
  } catch (error) {
    parentPort?.postMessage({
      id: message.id,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
      ms: performance.now() - started,
    });
  }
});
