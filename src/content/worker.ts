/**
 * The content conversions in a worker thread, for big notebooks: converting a 5 MB notebook
 * takes a second, and on the server's own thread every other call would wait for it. Each answer
 * says how long its job ran (milliseconds of the worker's time); a write's request body comes
 * back as bytes handed over whole (transferred, not copied).
 */
import { answerJobs } from "../worker-jobs.js";
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

answerJobs(
  (name, args) => (CONVERSIONS[name as keyof Conversions] as (...args: unknown[]) => unknown)(...args),
  transferable,
);
