/**
 * The content conversions in a worker thread, for big notebooks: converting a 5 MB notebook
 * takes a second, and on the server's own thread every other call would wait for it.
 */
import { parentPort } from "node:worker_threads";
import * as content from "./index.js";

export const CONVERSIONS = {
  documentToMarkdown: content.documentToMarkdown,
  rewriteDocument: content.rewriteDocument,
  appendToDocument: content.appendToDocument,
  documentFromMarkdown: content.documentFromMarkdown,
  deriveTextContent: content.deriveTextContent,
  checkMarkdown: content.checkMarkdown,
  sanitize: content.sanitize,
  documentTitle: content.documentTitle,
  withTitle: content.withTitle,
} as const;

export type Conversions = typeof CONVERSIONS;

parentPort?.on("message", (message: { id: number; name: keyof Conversions; args: unknown[] }) => {
  try {
    const run = CONVERSIONS[message.name] as (...args: unknown[]) => unknown;
    parentPort?.postMessage({ id: message.id, ok: true, value: run(...message.args) });
  } catch (error) {
    parentPort?.postMessage({
      id: message.id,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
    });
  }
});
