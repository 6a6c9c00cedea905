/**
 * The content conversions in a worker thread, for big notebooks: converting a 5 MB notebook
 * takes a second, and on the server's own thread every other call would wait for it. Each answer
 * says how long its job ran (milliseconds of the worker's time); a write's request body comes
 * back as bytes handed over whole (transferred, not copied).
 */
import { parentPort } from "node:worker_threads";
import * as content from "./index.js";
import { makeWrite, shownMarkdown } from "./write-job.js";

export const CONVERSIONS = {
  documentFromMarkdown: content.documentFromMarkdown,
  makeWrite,
  shownMarkdown,
} as const;

export type Conversions = typeof CONVERSIONS;

/** The buffer of a write's body, to hand over rather than copy. */
function transferable(value: unknown): ArrayBuffer[] {
  const body = (value as { body?: unknown } | null)?.body;
  return body instanceof Uint8Array &&
    body.buffer instanceof ArrayBuffer &&
    body.byteLength === body.buffer.byteLength
    ? [body.buffer]
    : [];
}

parentPort?.on("message", (message: { id: number; name: keyof Conversions; args: unknown[] }) => {
  const started = performance.now();
  try {
    const run = CONVERSIONS[message.name] as (...args: unknown[]) => unknown;
    const value = run(...message.args);
    parentPort?.postMessage(
      { id: message.id, ok: true, value, ms: performance.now() - started },
      transferable(value),
    );
  } catch (error) {
    parentPort?.postMessage({
      id: message.id,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
      ms: performance.now() - started,
    });
  }
});
