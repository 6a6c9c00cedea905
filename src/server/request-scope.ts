/**
 * The HTTP request a call arrived in, as the call's work sees it (Node's AsyncLocalStorage carries
 * it from the HTTP handler, through the SDK, to the tool dispatcher): its client's going away
 * aborts the call's work, and the work holds its key's place in flight until it ends. A client
 * that closed each request of a 3.5 MB read after 150 ms freed its place at once while the read
 * went on: 16 connections looping so took the process to 2.5 GB.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface RequestScope {
  /** Aborted once the request's client is gone before its answer was written. */
  gone: AbortSignal;
  /** Holds the request's place in flight (its client gone or not) until the function returned. */
  hold(): () => void;
  /**
   * The call now waits for its client's answer (a form): its place in flight is given back until its
   * work holds it again; or, when it may not wait so (its key has too many calls waiting, or the
   * memory kept for them is full), the sentence saying why.
   */
  awaitClient(): string | undefined;
}

const current = new AsyncLocalStorage<RequestScope>();

/** Runs `work` (the rest of an HTTP request's handling) within `scope`. */
export function withinRequest<T>(scope: RequestScope, work: () => T): T {
  return current.run(scope, work);
}

/** `signal`, aborted as well once the HTTP request the call arrived in has lost its client. */
export function requestSignal(signal: AbortSignal): AbortSignal {
  const scope = current.getStore();
  return scope ? AbortSignal.any([signal, scope.gone]) : signal;
}

/** Holds the place in flight of the HTTP request the call arrived in, if any, until released. */
export function holdRequest(): () => void {
  return current.getStore()?.hold() ?? (() => {});
}

/**
 * The call of the current HTTP request now waits for its client's answer (on a 2025 connection, a
 * form the SDK asks with `elicitation/create`): the answer arrives as another request of its key,
 * which must not wait behind it. Undefined when it may (always over stdio), else why not.
 */
export function awaitClient(): string | undefined {
  return current.getStore()?.awaitClient();
}
