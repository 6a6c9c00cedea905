/**
 * Long HTTP request bodies, read in a worker thread of their own (server/request-body.ts): each job
 * is a body's bytes, decoded and parsed here as every transport reads a message, and the answer the
 * message (or why it is not taken), with how long it took. Bodies have their own workers, so that
 * one is never read behind another tenant's conversion.
 */
import { answerJobs } from "../worker-jobs.js";
import { readMessage } from "./read-message.js";

answerJobs((_name, args) =>
  readMessage(new TextDecoder("utf-8", { ignoreBOM: true }).decode(args[0] as Uint8Array)),
);
