/**
 * A local, faithful stand-in for PostHog's Notebooks REST API, for tests and offline use.
 *
 * Sandbox only: the keys it accepts (SANDBOX_DEFAULT_KEY by default) mean nothing to a real
 * PostHog, and it binds to 127.0.0.1 unless told otherwise.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { KeyRing, RateLimiter, SANDBOX_DEFAULT_KEY } from "./auth.js";
import { throttledEnvelope } from "./errors.js";
import { defaultFaultBody, FaultQueue, type ResponseFault } from "./faults.js";
import type { RecordingComment } from "./filters.js";
import { NotebookService, serializeFull } from "./notebooks.js";
import { App, type OutgoingResponse } from "./routes.js";
import { seedNotebooks as realisticSeeds } from "./seed.js";
import { Store } from "./store.js";
import type { Fault, NotebookInit, RecordedRequest, SandboxKeyInit, SandboxOptions } from "./types.js";
import { isoToMicros, type Micros, MonotonicClock, queryDict } from "./util.js";

export { relativeDateParse } from "../dates.js";
export { SANDBOX_DEFAULT_KEY, SANDBOX_ORGANIZATION_ID } from "./auth.js";
export {
  depluralize,
  extractRecordingComments,
  lexemes,
  matchesContains,
  matchesSearch,
  parseContains,
  type RecordingComment,
  stem,
} from "./filters.js";
export { SEED_INSIGHT_SHORT_ID, SEED_RECORDING_ID } from "./seed.js";
export { SandboxStateError } from "./store.js";
export type {
  Fault,
  NotebookInit,
  RecordedRequest,
  SandboxKeyInit,
  SandboxOptions,
  SandboxProject,
  SandboxUser,
} from "./types.js";

export interface Sandbox {
  /** "http://127.0.0.1:PORT" (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** The first key's value. */
  readonly defaultKey: string;
  /** Every request, in arrival order (faulted ones included, with the status sent; 0 = dropped socket). */
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  /** Queue/activate a fault; faults apply to every route. */
  fault(f: Fault): void;
  clearFaults(): void;
  addKey(k: SandboxKeyInit): void;
  /** Revoke: later requests with it → 401 authentication_failed. */
  removeKey(value: string): void;
  setScopes(value: string, scopes: string[]): void;
  /** TCP connections accepted so far. */
  connections(): number;
  /** TCP connections open now. */
  openConnections(): number;
  /** Bulk-create `n` simple notebooks ("Notebook 1" oldest … "Notebook n" newest), without activity entries. */
  seedNotebooks(n: number, projectId?: number): Promise<void> | void;
  /** Insert a notebook directly (any owner, timestamps, content); returns it in the API's `Notebook` shape. */
  insertNotebook(init: NotebookInit): Record<string, unknown>;
  /** A notebook in the API's `Notebook` shape (deleted ones included), or undefined. */
  getNotebook(shortId: string, projectId?: number): Record<string, unknown> | undefined;
  /** What `notebooks/recording_comments/` would return (the route itself refuses personal API keys). */
  recordingComments(recordingId: string, projectId?: number): RecordingComment[];
  /** Wait until all state changes are persisted (no-op in memory). */
  flush(): Promise<void>;
  /** Close the server and every socket, and flush persistence. */
  close(): Promise<void>;
}

const DEFAULT_PROJECTS = [
  { id: 1, name: "Default project" },
  { id: 2, name: "Second project" },
];

const MAX_BODY_BYTES = 20 * 1024 * 1024; // Django's DATA_UPLOAD_MAX_MEMORY_SIZE in PostHog

function toMicros(v: string | number | Date | undefined): Micros | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Date) return v.getTime() * 1000;
  if (typeof v === "number") return Math.round(v * 1000);
  const us = isoToMicros(v);
  if (us === null) throw new Error(`Not a date: ${v}`);
  return us;
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const host = opts.host ?? "127.0.0.1";
  const apiVersion = opts.apiVersion ?? "latest";
  const clock = new MonotonicClock(opts.now ?? Date.now);
  const store = new Store(clock, opts.stateFile, opts.onSaveError);
  const loaded = await store.load();

  const keys = new KeyRing(clock);
  const keyInits = opts.keys ?? [{ value: SANDBOX_DEFAULT_KEY, scopes: ["*"] }];
  for (const k of keyInits) keys.add(k);
  const defaultKey = keyInits[0]?.value ?? "";

  const projects = new Map<number, string>();
  for (const p of opts.projects ?? DEFAULT_PROJECTS) projects.set(p.id, p.name ?? `Project ${p.id}`);
  const currentProjectId = opts.currentProjectId ?? 1;
  if (!projects.has(currentProjectId)) projects.set(currentProjectId, `Project ${currentProjectId}`);

  const limiter = new RateLimiter(
    opts.rateLimit === undefined ? { burstPerMinute: 480, sustainedPerHour: 4800 } : opts.rateLimit,
    () => clock.ms() / 1000,
  );
  const notebooks = new NotebookService(store, clock, apiVersion);
  const app = new App({
    store,
    keys,
    limiter,
    notebooks,
    clock,
    apiVersion,
    projects,
    currentProjectId: () => currentProjectId,
    onInternalError: opts.onInternalError,
  });
  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let connectionCount = 0;
  let openCount = 0;
  let closed = false;

  if (opts.seed && !loaded) {
    const nowMs = clock.ms();
    for (const s of realisticSeeds()) {
      notebooks.insert(
        {
          teamId: currentProjectId,
          short_id: s.short_id,
          title: s.title,
          content: s.content,
          text_content: s.text_content,
          createdAt: (nowMs - s.createdHoursAgo * 3_600_000) * 1000,
          lastModifiedAt: (nowMs - s.modifiedHoursAgo * 3_600_000) * 1000,
          logActivity: true,
        },
        false,
      );
    }
    store.changed();
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const record = (r: RecordedRequest) => {
    requests.push(r);
    const max = opts.maxRecordedRequests;
    if (max !== undefined && requests.length > max) requests.splice(0, requests.length - max);
  };

  const finish = (r: RecordedRequest, status: number) => {
    r.status = status;
    try {
      opts.onRequest?.(r);
    } catch {
      // A failing observer must not break the response.
    }
  };

  function writeFull(res: ServerResponse, out: OutgoingResponse): void {
    const headers: Record<string, string | number> = { ...out.headers };
    if (!(out.status === 304 || out.status === 204)) headers["Content-Length"] = Buffer.byteLength(out.body);
    res.writeHead(out.status, headers);
    res.end(out.status === 304 || out.status === 204 ? undefined : out.body);
  }

  function faultResponse(f: ResponseFault & { kind: "status" | "malformed" }): OutgoingResponse {
    if (f.kind === "malformed") {
      return {
        status: 200,
        headers: { "Content-Type": f.contentType ?? "text/html; charset=utf-8" },
        body:
          f.body ??
          "<html><head><title>PostHog</title></head><body><h1>Something went wrong</h1></body></html>",
      };
    }
    const headers: Record<string, string> = {};
    if (f.retryAfter !== undefined) headers["Retry-After"] = String(f.retryAfter);
    if (f.body !== undefined) {
      let contentType = "text/plain; charset=utf-8";
      try {
        JSON.parse(f.body);
        contentType = "application/json";
      } catch {
        /* not JSON */
      }
      return { status: f.status, headers: { ...headers, "Content-Type": contentType }, body: f.body };
    }
    if (f.status === 429) {
      return {
        status: 429,
        headers: { ...headers, "Content-Type": "application/json" },
        body: JSON.stringify(throttledEnvelope(f.retryAfter ?? 1)),
      };
    }
    const d = defaultFaultBody(f.status);
    return { status: f.status, headers: { ...headers, "Content-Type": d.contentType }, body: d.body };
  }

  async function respond(
    req: IncomingMessage,
    res: ServerResponse,
    rec: RecordedRequest,
    tooLarge: boolean,
  ): Promise<void> {
    const plan = faults.take();
    if (plan.delayMs > 0) await sleep(plan.delayMs);
    if (closed) return;
    const f = plan.response;
    const handle = (): OutgoingResponse =>
      tooLarge
        ? {
            status: 400,
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({
              type: "invalid_request",
              code: "parse_error",
              detail: "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.",
              attr: null,
            }),
          }
        : app.handle({
            method: req.method ?? "GET",
            url: req.url ?? "/",
            headers: rec.headers,
            rawBody: rec.rawBody,
          });

    if (f === null) {
      const out = handle();
      writeFull(res, out);
      finish(rec, out.status);
      return;
    }
    switch (f.kind) {
      case "status":
      case "malformed": {
        const out = faultResponse(f);
        writeFull(res, out);
        finish(rec, out.status);
        return;
      }
      case "reset":
        req.socket.destroy();
        finish(rec, 0);
        return;
      case "truncated": {
        const out = handle();
        const half = Buffer.from(out.body).subarray(0, Math.floor(Buffer.byteLength(out.body) / 2));
        res.writeHead(out.status, { ...out.headers, "Content-Length": half.length });
        res.end(half);
        finish(rec, out.status);
        return;
      }
      case "reset-mid-body": {
        const out = handle();
        const body = Buffer.from(out.body);
        res.writeHead(out.status, { ...out.headers, "Content-Length": body.length });
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => req.socket.destroy());
        finish(rec, out.status);
        return;
      }
      case "chunked": {
        const out = handle();
        const body = Buffer.from(out.body);
        res.writeHead(out.status, out.headers);
        const cut = Math.floor(body.length / 2);
        res.write(body.subarray(0, cut));
        res.end(body.subarray(cut));
        finish(rec, out.status);
        return;
      }
      case "slow-body": {
        const out = handle();
        const body = Buffer.from(out.body);
        res.writeHead(out.status, { ...out.headers, "Content-Length": body.length });
        const cut = Math.floor(body.length / 2);
        res.write(body.subarray(0, cut));
        await sleep(f.ms);
        if (!closed) res.end(body.subarray(cut));
        finish(rec, out.status);
        return;
      }
    }
  }

  const server = createServer((req, res) => {
    const at = clock.ms();
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("error", () => undefined);
    req.on("end", () => {
      const rawBody = tooLarge ? "" : Buffer.concat(chunks).toString("utf8");
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      let body: unknown;
      if (rawBody.length > 0) {
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = rawBody;
        }
      }
      const rec: RecordedRequest = {
        method: req.method ?? "GET",
        path: q === -1 ? url : url.slice(0, q),
        query: queryDict(q === -1 ? "" : url.slice(q + 1)),
        headers: headerRecord(req),
        body,
        rawBody,
        status: 0,
        at,
      };
      record(rec);
      respond(req, res, rec, tooLarge).catch(() => {
        if (!res.headersSent) {
          res.writeHead(500, { "Content-Type": "application/json" });
          res.end(
            JSON.stringify({
              type: "server_error",
              code: "error",
              detail: "A server error occurred.",
              attr: null,
            }),
          );
        } else res.destroy();
        finish(rec, 500);
      });
    });
  });
  server.on("connection", (socket: Socket) => {
    connectionCount += 1;
    openCount += 1;
    socket.once("close", () => {
      openCount -= 1;
    });
  });
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  const projectOrCurrent = (projectId?: number) => projectId ?? currentProjectId;

  const sandbox: Sandbox = {
    url: `http://${urlHost}:${port}`,
    port,
    defaultKey,
    get requests() {
      return requests;
    },
    clearRequests() {
      requests.length = 0;
    },
    fault(f) {
      faults.add(f);
    },
    clearFaults() {
      faults.clear();
    },
    addKey(k) {
      keys.add(k);
    },
    removeKey(value) {
      keys.remove(value);
    },
    setScopes(value, scopes) {
      keys.setScopes(value, scopes);
    },
    connections() {
      return connectionCount;
    },
    openConnections() {
      return openCount;
    },
    seedNotebooks(n, projectId) {
      const teamId = projectOrCurrent(projectId);
      if (!projects.has(teamId)) throw new Error(`No project ${teamId} in this sandbox`);
      const base = clock.next();
      for (let i = 0; i < n; i++) {
        const title = `Notebook ${i + 1}`;
        const t = base + i;
        notebooks.insert(
          {
            teamId,
            title,
            content: {
              type: "doc",
              content: [{ type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: title }] }],
            },
            text_content: title,
            createdAt: t,
            lastModifiedAt: t,
          },
          false,
        );
      }
      clock.observe(base + n);
      store.changed();
    },
    insertNotebook(init) {
      const teamId = projectOrCurrent(init.projectId);
      if (!projects.has(teamId)) throw new Error(`No project ${teamId} in this sandbox`);
      const createdAt = toMicros(init.createdAt);
      const n = notebooks.insert({
        teamId,
        ...(init.id !== undefined ? { id: init.id } : {}),
        ...(init.short_id !== undefined ? { short_id: init.short_id } : {}),
        title: init.title ?? null,
        content: init.content,
        text_content: init.text_content ?? null,
        version: init.version ?? 0,
        deleted: init.deleted ?? false,
        ...(init.createdBy !== undefined ? { createdBy: init.createdBy } : {}),
        ...(init.lastModifiedBy !== undefined ? { lastModifiedBy: init.lastModifiedBy } : {}),
        ...(createdAt !== undefined ? { createdAt } : {}),
        ...(init.lastModifiedAt !== undefined
          ? { lastModifiedAt: toMicros(init.lastModifiedAt) as Micros }
          : {}),
        logActivity: init.logActivity ?? false,
      });
      return serializeFull(n, 1, apiVersion);
    },
    getNotebook(shortId, projectId) {
      const n = store.find(projectOrCurrent(projectId), shortId);
      return n ? serializeFull(n, 1, apiVersion) : undefined;
    },
    recordingComments(recordingId, projectId) {
      return app.recordingComments(projectOrCurrent(projectId), recordingId);
    },
    flush() {
      return store.flush();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closing;
      await store.flush();
    },
  };
  return sandbox;
}
