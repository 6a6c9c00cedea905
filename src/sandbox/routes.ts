/**
 * Routing and request handling, in the order PostHog (DRF) applies its checks:
 *
 *   1. route resolution (unknown → 404 "Endpoint not found.", no authentication needed)
 *   2. authentication (401 not_authenticated / authentication_failed)
 *   3. the action's required scopes; an action with none refuses personal API keys (403)
 *   4. the project (`@current` or an integer; anything else or an unknown id → 404 "Project not found.")
 *   5. the key's scoped_teams / scoped_organizations (403)
 *   6. the key's scopes (403 "API key missing required scope …")
 *   7. rate limits (429)
 *   8. the handler: method not allowed (405), object lookup (404), body parsing and validation (400)…
 *
 * Like DRF, the action comes from the route's method map: a method the route does not map has
 * no action, so (step 3) it is refused with the "does not support personal API key access" 403
 * — except PATCH on a list route, which DRF names "patch" (a write), and routes with their own
 * `required_scopes` (per-notebook activity); those pass the checks and then get 405.
 */
import { isRecord } from "../is-record.js";
import {
  checkKeyReach,
  checkScopes,
  type KeyRing,
  makeUser,
  type RateLimiter,
  SANDBOX_ORGANIZATION_ID,
  type StoredKey,
  serializeKey,
} from "./auth.js";
import { ApiError, errors } from "./errors.js";
import { extractRecordingComments, filterNotebooks, orderNotebooks } from "./filters.js";
import {
  type ApiVersion,
  type NotebookService,
  serializeActivityEntry,
  serializeFull,
  serializeMinimal,
  serializeProjectActivityEntry,
  userAccessLevel,
} from "./notebooks.js";
import type { Store, StoredActivity, StoredNotebook } from "./store.js";
import {
  formatIso,
  formatPythonDatetime,
  formatQueryParamsAbsoluteUrl,
  type Micros,
  type MonotonicClock,
  newUuid,
  normalizeUuid,
  parseQsl,
  quotePlus,
  rewriteQuery,
} from "./util.js";
import { parseActivityPaging, positiveInt, validateNotebookWrite } from "./validation.js";

export interface IncomingRequest {
  method: string;
  /** Raw request target: path and query, as received. */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  rawBody: string;
}

export interface OutgoingResponse {
  status: number;
  headers: Record<string, string>;
  /** The body to send (empty for none). */
  body: string;
}

type NotebookSub =
  | "detail"
  | "activity"
  | "access_controls"
  | "global_access_controls"
  | "resource_access_controls";

type Route =
  | { kind: "notebooks"; project: string; sub: "list" | "all_activity" | "recording_comments" }
  | { kind: "notebook"; project: string; shortId: string; sub: NotebookSub }
  | {
      kind: "activity_log";
      project: string;
      sub: "list" | "important_changes" | "bookmark_activity_notification";
    }
  | { kind: "personal_api_keys"; id: string | null };

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** DRF router patterns: lookups are `[^/.]+`, the trailing slash is optional. */
export function matchRoute(path: string): Route | null {
  const seg = "([^/.]+)";
  const base = `^/api/(?:projects|environments)/${seg}`;
  let m = new RegExp(`${base}/notebooks/?$`).exec(path);
  if (m) return { kind: "notebooks", project: decodeSegment(m[1] ?? ""), sub: "list" };
  m = new RegExp(`${base}/notebooks/(activity|recording_comments)/?$`).exec(path);
  if (m) {
    return {
      kind: "notebooks",
      project: decodeSegment(m[1] ?? ""),
      sub: m[2] === "activity" ? "all_activity" : "recording_comments",
    };
  }
  m = new RegExp(`${base}/notebooks/${seg}/?$`).exec(path);
  if (m)
    return {
      kind: "notebook",
      project: decodeSegment(m[1] ?? ""),
      shortId: decodeSegment(m[2] ?? ""),
      sub: "detail",
    };
  m = new RegExp(
    `${base}/notebooks/${seg}/(activity|access_controls|global_access_controls|resource_access_controls)/?$`,
  ).exec(path);
  if (m) {
    return {
      kind: "notebook",
      project: decodeSegment(m[1] ?? ""),
      shortId: decodeSegment(m[2] ?? ""),
      sub: m[3] as NotebookSub,
    };
  }
  m = new RegExp(`${base}/activity_log/?$`).exec(path);
  if (m) return { kind: "activity_log", project: decodeSegment(m[1] ?? ""), sub: "list" };
  m = new RegExp(`${base}/activity_log/(important_changes|bookmark_activity_notification)/?$`).exec(path);
  if (m)
    return { kind: "activity_log", project: decodeSegment(m[1] ?? ""), sub: m[2] as "important_changes" };
  m = /^\/api\/personal_api_keys\/?$/.exec(path);
  if (m) return { kind: "personal_api_keys", id: null };
  m = new RegExp(`^/api/personal_api_keys/${seg}/?$`).exec(path);
  if (m) return { kind: "personal_api_keys", id: decodeSegment(m[1] ?? "") };
  return null;
}

/**
 * The scopes an action needs, or `null` when the action does not support personal API keys
 * (no declared scope). Mirrors APIScopePermission + the views' `required_scopes` and
 * AccessControlViewSetMixin's `dangerously_get_required_scopes`.
 */
export function requiredScopes(route: Route, method: string): string[] | null {
  const m = method.toUpperCase();
  if (route.kind === "personal_api_keys") return null;
  const object = route.kind === "activity_log" ? "activity_log" : "notebook";
  const read = [`${object}:read`];
  const write = [`${object}:write`];
  if (route.kind === "notebook" && route.sub === "activity") return ["activity_log:read"];
  if (route.kind === "notebook" && route.sub !== "detail") {
    // access_controls, global_access_controls, resource_access_controls: GET and PUT only.
    // (HEAD maps to the same action but the mixin only recognises "GET", so HEAD has no scope.)
    if (m === "GET") return ["access_control:read"];
    if (m === "PUT") return ["access_control:write"];
    if (m === "OPTIONS") return read;
    return null;
  }
  if (m === "OPTIONS") return read;
  if (route.kind === "notebook") {
    if (m === "GET" || m === "HEAD") return read;
    if (m === "PUT" || m === "PATCH" || m === "DELETE") return write;
    return null;
  }
  if (route.sub === "list") {
    if (m === "GET" || m === "HEAD") return read;
    if (m === "POST" && route.kind === "notebooks") return write;
    if (m === "PATCH") return write; // DRF's "patch" action on a list route
    return null;
  }
  // notebooks/activity, notebooks/recording_comments, activity_log/important_changes…: no scope.
  return null;
}

interface RequestContext {
  method: string;
  path: string;
  /** The absolute URL as the client sent it (Django's `build_absolute_uri()`). */
  absoluteUrl: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  rawBody: string;
  key: StoredKey;
  teamId: number;
}

export interface AppDeps {
  store: Store;
  keys: KeyRing;
  limiter: RateLimiter;
  notebooks: NotebookService;
  clock: MonotonicClock;
  apiVersion: ApiVersion;
  projects: Map<number, string>;
  currentProjectId: () => number;
  /** Told about unexpected exceptions (answered with PostHog's generic 500). */
  onInternalError?: ((error: unknown) => void) | undefined;
}

const JSON_HEADERS = { "Content-Type": "application/json" };

function json(status: number, body: unknown, headers: Record<string, string> = {}): OutgoingResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function empty(status: number): OutgoingResponse {
  return { status, headers: {}, body: "" };
}

export function errorResponse(e: ApiError): OutgoingResponse {
  if (e.body === null) return { status: e.status, headers: { ...e.headers }, body: "" };
  return json(e.status, e.body, e.headers);
}

/** The request body as DRF's parsers would see it (JSON or form-encoded; others → 415). */
export function parseBody(headers: Record<string, string>, rawBody: string): unknown {
  if (rawBody.length === 0) return {};
  const contentType = headers["content-type"];
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (mediaType === "application/json") {
    try {
      return JSON.parse(rawBody);
    } catch (e) {
      throw errors.parseError(`JSON parse error - ${(e as Error).message}`);
    }
  }
  if (mediaType === "application/x-www-form-urlencoded") {
    const out: Record<string, string> = {};
    for (const [k, v] of parseQsl(rawBody)) out[k] = v;
    return out;
  }
  throw errors.unsupportedMediaType(contentType ?? "");
}

export class App {
  constructor(private readonly deps: AppDeps) {}

  private get unsupportedMessage(): string {
    return this.deps.apiVersion === "legacy"
      ? "This action does not support Personal API Key access"
      : "This action does not support personal API key access";
  }

  handle(req: IncomingRequest): OutgoingResponse {
    try {
      return this.dispatch(req);
    } catch (e) {
      if (e instanceof ApiError) return errorResponse(e);
      try {
        this.deps.onInternalError?.(e);
      } catch {
        // ignore a failing observer
      }
      return errorResponse(errors.serverError());
    }
  }

  private dispatch(req: IncomingRequest): OutgoingResponse {
    const method = req.method.toUpperCase();
    const qIndex = req.url.indexOf("?");
    const path = qIndex === -1 ? req.url : req.url.slice(0, qIndex);
    const queryString = qIndex === -1 ? "" : req.url.slice(qIndex + 1);
    const route = matchRoute(decodePathForMatching(path));
    if (!route) throw errors.endpointNotFound();

    const key = this.deps.keys.authenticate(req.headers.authorization);
    const query: Record<string, string> = {};
    for (const [k, v] of parseQsl(queryString)) query[k] = v;
    const host = req.headers.host ?? "127.0.0.1";
    const absoluteUrl = `http://${host}${req.url}`;

    if (route.kind === "personal_api_keys") return this.personalApiKeys(route, method, key);

    const scopes = requiredScopes(route, method);
    if (scopes === null) throw errors.permissionDenied(this.unsupportedMessage);
    const teamId = this.resolveProject(route.project);
    checkKeyReach(key, teamId, SANDBOX_ORGANIZATION_ID);
    checkScopes(key, scopes);
    this.deps.limiter.check(key.value);

    const ctx: RequestContext = {
      method,
      path,
      absoluteUrl,
      query,
      headers: req.headers,
      rawBody: req.rawBody,
      key,
      teamId,
    };
    if (method === "OPTIONS") return this.options(route);
    switch (route.kind) {
      case "notebooks":
        if (route.sub !== "list") throw errors.permissionDenied(this.unsupportedMessage); // unreachable: no scope
        if (method === "GET" || method === "HEAD") return this.list(ctx);
        if (method === "POST") return this.create(ctx);
        throw errors.methodNotAllowed(method);
      case "notebook":
        return this.notebookRoute(ctx, route.shortId, route.sub);
      case "activity_log":
        if (method === "GET" || method === "HEAD") return this.projectActivityLog(ctx);
        throw errors.methodNotAllowed(method);
    }
  }

  /**
   * `project_id`: an integer or `@current`. PostHog answers a non-integer, and an integer with
   * no project, with 404 "Project not found." (Project.DoesNotExist → NotFound in the routing
   * mixin, raised while APIScopePermission resolves the organization — so after the
   * "unsupported action" check and before scoped_teams and scopes).
   */
  private resolveProject(raw: string): number {
    const id =
      raw === "@current"
        ? this.deps.currentProjectId()
        : /^\s*[+-]?\d+\s*$/.test(raw)
          ? Number(raw.trim())
          : null;
    if (id === null || !this.deps.projects.has(id)) throw errors.projectNotFound();
    return id;
  }

  private options(route: Route): OutgoingResponse {
    const name = route.kind === "activity_log" ? "Activity Log" : "Notebook";
    return json(200, {
      name: route.kind === "notebook" ? `${name} Instance` : `${name} List`,
      description: "",
      renders: ["application/json"],
      parses: ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    });
  }

  // -------------------------------------------------------------------------------------------
  // /api/personal_api_keys/
  // -------------------------------------------------------------------------------------------

  private personalApiKeys(route: { id: string | null }, method: string, key: StoredKey): OutgoingResponse {
    const retrieve = route.id !== null && (method === "GET" || method === "HEAD");
    // PersonalApiKeySelfAccessPermission: a personal API key may only retrieve (itself).
    if (!retrieve) throw errors.permissionDenied("This action does not support Personal API Key access");
    this.deps.limiter.check(key.value);
    if (this.deps.apiVersion === "legacy" && route.id === "@current") throw errors.notFound();
    let target: StoredKey | undefined;
    if (route.id === "@current") target = key;
    else {
      const found = this.deps.keys.byId(route.id ?? "");
      if (found && found.userId === key.userId) target = found;
    }
    if (!target) throw errors.notFound();
    if (target !== key) throw errors.permissionDenied("This action does not support Personal API Key access");
    return json(200, serializeKey(target));
  }

  // -------------------------------------------------------------------------------------------
  // Notebooks
  // -------------------------------------------------------------------------------------------

  /**
   * get_object(): the project's notebooks, without deleted ones except for updates (so a
   * PATCH can restore), honouring DjangoFilterBackend's `?short_id=` and the `order` check.
   */
  private getObject(ctx: RequestContext, shortId: string, includeDeleted: boolean): StoredNotebook {
    if (ctx.query.order) orderNotebooks([], ctx.query.order);
    const n = this.deps.store.find(ctx.teamId, shortId);
    if (!n || (n.deleted && !includeDeleted)) throw errors.notFound();
    if (ctx.query.short_id !== undefined && ctx.query.short_id !== "" && ctx.query.short_id !== n.short_id) {
      throw errors.notFound();
    }
    return n;
  }

  private list(ctx: RequestContext): OutgoingResponse {
    const { store, clock } = this.deps;
    const caller = ctx.key.userId;
    let notebooks = store.all(ctx.teamId).filter((n) => !n.deleted);
    const shortIdFilter = ctx.query.short_id;
    if (shortIdFilter !== undefined && shortIdFilter !== "")
      notebooks = notebooks.filter((n) => n.short_id === shortIdFilter);
    notebooks = filterNotebooks(notebooks, ctx.query, {
      callerUserId: caller,
      nowUs: clock.ms() * 1000,
      userUuid: (id) => makeUser(id).uuid,
    });
    const ordered = orderNotebooks(notebooks, ctx.query.order);

    // DRF LimitOffsetPagination (PAGE_SIZE 100, no max_limit).
    const limit = positiveInt(ctx.query.limit, true) ?? 100;
    const offset = positiveInt(ctx.query.offset, false) ?? 0;
    const count = ordered.length;
    const page = count === 0 || offset > count ? [] : ordered.slice(offset, offset + limit);
    const next =
      offset + limit >= count ? null : rewriteQuery(ctx.absoluteUrl, { limit, offset: offset + limit });
    let previous: string | null = null;
    if (offset > 0) {
      previous =
        offset - limit <= 0
          ? rewriteQuery(ctx.absoluteUrl, { limit }, ["offset"])
          : rewriteQuery(ctx.absoluteUrl, { limit, offset: offset - limit });
    }
    return json(200, { count, next, previous, results: page.map((n) => serializeMinimal(n, caller)) });
  }

  private create(ctx: RequestContext): OutgoingResponse {
    const body = parseBody(ctx.headers, ctx.rawBody);
    const data = validateNotebookWrite(body, {
      create: true,
      acceptShortId: this.deps.apiVersion === "latest",
    });
    const n = this.deps.notebooks.create(ctx.teamId, ctx.key.userId, data);
    return json(201, serializeFull(n, ctx.key.userId, this.deps.apiVersion));
  }

  private notebookRoute(ctx: RequestContext, shortId: string, sub: NotebookSub): OutgoingResponse {
    const { method } = ctx;
    switch (sub) {
      case "detail":
        if (method === "GET" || method === "HEAD") return this.retrieve(ctx, shortId);
        if (method === "PATCH" || method === "PUT") return this.update(ctx, shortId);
        // ForbidDestroyModel: hard delete is never allowed; an empty 405 without a lookup.
        return empty(405);
      case "activity":
        if (method === "GET" || method === "HEAD") return this.notebookActivity(ctx, shortId);
        throw errors.methodNotAllowed(method);
      case "access_controls":
        if (method === "PUT") return this.putAccessControls(ctx, shortId);
        return this.getAccessControls(ctx, shortId);
      case "global_access_controls":
      case "resource_access_controls":
        // Raised before the object lookup, for GET and PUT alike.
        throw errors.validation(
          "invalid_input",
          "Resource-level access controls can only be configured for projects.",
        );
    }
  }

  private retrieve(ctx: RequestContext, shortId: string): OutgoingResponse {
    const n = this.getObject(ctx, shortId, false);
    // PostHog compares the raw header to str(version): `"3"` (quoted) does not match 3.
    if (ctx.headers["if-none-match"] !== undefined && ctx.headers["if-none-match"] === String(n.version)) {
      return empty(304);
    }
    return json(200, serializeFull(n, ctx.key.userId, this.deps.apiVersion));
  }

  private update(ctx: RequestContext, shortId: string): OutgoingResponse {
    const n = this.getObject(ctx, shortId, true);
    const body = parseBody(ctx.headers, ctx.rawBody);
    const data = validateNotebookWrite(body, { create: false, acceptShortId: false });
    // From here to the write there is no await: concurrent PATCHes are serialized by the event loop.
    const updated = this.deps.notebooks.update(n, ctx.key.userId, data);
    return json(200, serializeFull(updated, ctx.key.userId, this.deps.apiVersion));
  }

  // -------------------------------------------------------------------------------------------
  // Activity
  // -------------------------------------------------------------------------------------------

  private notebookActivity(ctx: RequestContext, shortId: string): OutgoingResponse {
    const n = this.getObject(ctx, shortId, false);
    const { limit, page } = parseActivityPaging(ctx.query);
    const entries = this.deps.store.activity
      .filter(
        (a) =>
          a.team_id === ctx.teamId &&
          a.scope === "Notebook" &&
          (a.item_id === n.short_id || a.item_id === n.id),
      )
      .sort(newestFirst);
    const total = entries.length;
    const numPages = total === 0 ? 1 : Math.ceil(total / limit);
    // Django's Paginator raises EmptyPage past the last page; PostHog lets it become a 500.
    if (page > numPages) throw errors.serverError();
    const results = entries.slice((page - 1) * limit, page * limit);
    return json(200, {
      results: results.map(serializeActivityEntry),
      next: page < numPages ? formatQueryParamsAbsoluteUrl(ctx.absoluteUrl, page + 1, limit, "page") : null,
      previous: page > 1 ? formatQueryParamsAbsoluteUrl(ctx.absoluteUrl, page - 1, limit, "page") : null,
      total_count: total,
    });
  }

  /**
   * `GET /api/projects/{id}/activity_log/`: filters `user` (uuid or id), `scope`, `scopes`
   * (comma-separated), `item_id`; `ordering=created_at` for oldest first. Without `page`, DRF
   * CursorPagination (100 a page, `page_size` up to 1000) → `{next, previous, results}`; with
   * `page`, PageNumberPagination → `{count, next, previous, results}`.
   */
  private projectActivityLog(ctx: RequestContext): OutgoingResponse {
    const q = ctx.query;
    let entries = this.deps.store.activity.filter((a) => a.team_id === ctx.teamId);
    if (q.user) {
      const wantedUuid = normalizeUuid(q.user);
      entries = entries.filter(
        (a) =>
          a.user_id !== null &&
          (String(a.user_id) === q.user ||
            (wantedUuid !== null && normalizeUuid(makeUser(a.user_id).uuid) === wantedUuid)),
      );
    }
    if (q.scope) entries = entries.filter((a) => a.scope === q.scope);
    if (q.scopes) {
      const scopes = q.scopes.split(",");
      entries = entries.filter((a) => scopes.includes(a.scope));
    }
    if (q.item_id) entries = entries.filter((a) => a.item_id === q.item_id);
    const ascending = q.ordering === "created_at";
    const pageSize = positiveInt(q.page_size, true, 1000) ?? 100;
    if (q.page) return this.activityPageNumber(ctx, entries, ascending, pageSize);
    return this.activityCursor(ctx, entries, ascending, pageSize);
  }

  private activityPageNumber(
    ctx: RequestContext,
    entries: StoredActivity[],
    ascending: boolean,
    pageSize: number,
  ): OutgoingResponse {
    const sorted = [...entries].sort(ascending ? oldestFirst : newestFirst);
    const count = sorted.length;
    const numPages = count === 0 ? 1 : Math.ceil(count / pageSize);
    const raw = ctx.query.page ?? "1";
    const page = raw === "last" ? numPages : /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw.trim()) : Number.NaN;
    if (!Number.isInteger(page) || page < 1 || page > numPages) throw errors.notFound("Invalid page.");
    const results = sorted.slice((page - 1) * pageSize, page * pageSize);
    const next = page < numPages ? rewriteQuery(ctx.absoluteUrl, { page: page + 1 }) : null;
    const previous =
      page > 1
        ? page - 1 === 1
          ? rewriteQuery(ctx.absoluteUrl, {}, ["page"])
          : rewriteQuery(ctx.absoluteUrl, { page: page - 1 })
        : null;
    return json(200, { count, next, previous, results: results.map(serializeProjectActivityEntry) });
  }

  /** DRF's CursorPagination, step for step (positions are `str(created_at)`). */
  private activityCursor(
    ctx: RequestContext,
    entries: StoredActivity[],
    ascending: boolean,
    pageSize: number,
  ): OutgoingResponse {
    const cursor = decodeCursor(ctx.query.cursor);
    const offset = cursor?.offset ?? 0;
    const reverse = cursor?.reverse ?? false;
    const currentPosition = cursor?.position ?? null;
    const effectiveAscending = ascending !== reverse;
    let queryset = [...entries].sort(effectiveAscending ? oldestFirst : newestFirst);
    if (currentPosition !== null) {
      const at = parsePythonDatetime(currentPosition);
      if (at === null) throw errors.serverError();
      const lessThan = reverse !== !ascending;
      queryset = queryset.filter((a) => (lessThan ? a.created_at < at : a.created_at > at));
    }
    const results = queryset.slice(offset, offset + pageSize + 1);
    let page = results.slice(0, pageSize);
    const hasFollowing = results.length > page.length;
    const followingPosition = hasFollowing ? position(results[results.length - 1] as StoredActivity) : null;
    let hasNext: boolean;
    let hasPrevious: boolean;
    let nextPosition: string | null = null;
    let previousPosition: string | null = null;
    if (reverse) {
      page = page.reverse();
      hasNext = currentPosition !== null || offset > 0;
      hasPrevious = hasFollowing;
      if (hasNext) nextPosition = currentPosition;
      if (hasPrevious) previousPosition = followingPosition;
    } else {
      hasNext = hasFollowing;
      hasPrevious = currentPosition !== null || offset > 0;
      if (hasNext) nextPosition = followingPosition;
      if (hasPrevious) previousPosition = currentPosition;
    }
    const state: CursorState = {
      page,
      pageSize,
      cursor,
      hasNext,
      hasPrevious,
      nextPosition,
      previousPosition,
    };
    let next = nextLink(state, ctx.absoluteUrl);
    if (next === null && ctx.query.follow === "true" && ascending) {
      // TailFollowingCursorPagination: keep a forward cursor alive at the tail.
      if (page.length === 0) next = cursor ? encodeCursor(ctx.absoluteUrl, cursor) : null;
      else
        next = encodeCursor(ctx.absoluteUrl, {
          offset: 0,
          reverse: false,
          position: position(page[page.length - 1] as StoredActivity),
        });
    }
    return json(200, {
      next,
      previous: previousLink(state, ctx.absoluteUrl),
      results: page.map(serializeProjectActivityEntry),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Access controls
  // -------------------------------------------------------------------------------------------

  private getAccessControls(ctx: RequestContext, shortId: string): OutgoingResponse {
    const n = this.getObject(ctx, shortId, false);
    const level = userAccessLevel(n, ctx.key.userId);
    const body: Record<string, unknown> = {
      access_controls: this.deps.store.accessControls
        .filter((c) => c.team_id === ctx.teamId && c.resource === "notebook" && c.resource_id === n.id)
        .map(serializeAccessControl),
      available_access_levels: ["none", "viewer", "editor", "manager"],
      default_access_level: "editor",
      user_access_level: level,
      user_can_edit_access_levels: level === "manager",
    };
    if (this.deps.apiVersion === "latest") {
      body.minimum_access_level = "none";
      body.maximum_access_level = "manager";
    }
    return json(200, body);
  }

  /**
   * PUT access_controls: `{access_level, organization_member?, role?}` upserted for this
   * notebook; `access_level: null` deletes (204). Members and roles are not modelled: any
   * UUID-shaped id is accepted.
   */
  private putAccessControls(ctx: RequestContext, shortId: string): OutgoingResponse {
    const n = this.getObject(ctx, shortId, false);
    const body = parseBody(ctx.headers, ctx.rawBody);
    if (!isRecord(body))
      throw errors.validation("invalid_input", "Invalid data. Expected a dictionary, but got list.");
    if (!Object.hasOwn(body, "access_level"))
      throw errors.validation("required", "This field is required.", "access_level");
    const accessLevel = body.access_level;
    const levels = ["none", "viewer", "editor", "manager"];
    if (accessLevel !== null && (typeof accessLevel !== "string" || !levels.includes(accessLevel))) {
      throw errors.validation(
        "invalid_input",
        `Invalid access level. Must be one of: ${levels.join(", ")}`,
        "access_level",
      );
    }
    const member = body.organization_member ?? null;
    const role = body.role ?? null;
    if (member !== null && (typeof member !== "string" || normalizeUuid(member) === null)) {
      throw errors.validation(
        "invalid_input",
        "Invalid organization member id. Use the 'id' field from the /api/organizations/<organization_id>/members/ endpoint.",
        "organization_member",
      );
    }
    if (role !== null && (typeof role !== "string" || normalizeUuid(role) === null)) {
      throw errors.validation("invalid_input", "Must be a valid UUID.", "role");
    }
    if (member !== null && role !== null) {
      throw errors.validation(
        "invalid_input",
        "You can not scope an access control to both a member and a role.",
      );
    }
    if (userAccessLevel(n, ctx.key.userId) !== "manager") {
      throw errors.permissionDenied("Must be manager to modify notebook permissions.");
    }
    const controls = this.deps.store.accessControls;
    const index = controls.findIndex(
      (c) =>
        c.team_id === ctx.teamId &&
        c.resource === "notebook" &&
        c.resource_id === n.id &&
        c.organization_member === member &&
        c.role === role,
    );
    if (accessLevel === null) {
      if (index !== -1) controls.splice(index, 1);
      this.deps.store.changed();
      return empty(204);
    }
    const now = this.deps.clock.next();
    const existing = index === -1 ? undefined : controls[index];
    const entry = existing ?? {
      id: newUuid(),
      team_id: ctx.teamId,
      resource: "notebook",
      resource_id: n.id,
      organization_member: member as string | null,
      role: role as string | null,
      access_level: accessLevel as string,
      created_by: ctx.key.userId,
      created_at: now,
      updated_at: now,
    };
    entry.access_level = accessLevel as string;
    entry.updated_at = now;
    if (!existing) controls.push(entry);
    this.deps.store.changed();
    return json(200, serializeAccessControl(entry));
  }

  /** `GET notebooks/recording_comments/` computed directly (the HTTP route refuses personal API keys, as PostHog does). */
  recordingComments(teamId: number, recordingId: string): ReturnType<typeof extractRecordingComments> {
    const notebooks = orderNotebooks(
      this.deps.store.all(teamId).filter((n) => !n.deleted),
      undefined,
    );
    return extractRecordingComments(notebooks, recordingId);
  }
}

function serializeAccessControl(c: {
  access_level: string;
  resource: string;
  resource_id: string;
  organization_member: string | null;
  role: string | null;
  created_by: number | null;
  created_at: Micros;
  updated_at: Micros;
}): Record<string, unknown> {
  return {
    access_level: c.access_level,
    resource: c.resource,
    resource_id: c.resource_id,
    organization_member: c.organization_member,
    role: c.role,
    created_by: c.created_by,
    created_at: formatIso(c.created_at),
    updated_at: formatIso(c.updated_at),
  };
}

function newestFirst(a: StoredActivity, b: StoredActivity): number {
  return b.created_at - a.created_at || b.seq - a.seq;
}

function oldestFirst(a: StoredActivity, b: StoredActivity): number {
  return a.created_at - b.created_at || a.seq - b.seq;
}

/** Match routes on the decoded path (Django resolves `path_info`, which is percent-decoded). */
function decodePathForMatching(path: string): string {
  return path
    .split("/")
    .map((s) => (s.includes("%2F") || s.includes("%2f") ? s : decodeSegment(s)))
    .join("/");
}

// ---------------------------------------------------------------------------------------------
// DRF cursor helpers
// ---------------------------------------------------------------------------------------------

interface Cursor {
  offset: number;
  reverse: boolean;
  position: string | null;
}

interface CursorState {
  page: StoredActivity[];
  pageSize: number;
  cursor: Cursor | null;
  hasNext: boolean;
  hasPrevious: boolean;
  nextPosition: string | null;
  previousPosition: string | null;
}

function position(a: StoredActivity): string {
  return formatPythonDatetime(a.created_at);
}

function parsePythonDatetime(s: string): Micros | null {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2}):?(\d{2})|Z)?$/.exec(
      s.trim(),
    );
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (Number.isNaN(ms)) return null;
  let us = ms * 1000 + Number((m[7] ?? "").padEnd(6, "0") || "0");
  if (m[8]) {
    const sign = m[8] === "-" ? -1 : 1;
    us -= sign * (Number(m[9]) * 3600 + Number(m[10]) * 60) * 1_000_000;
  }
  return us;
}

/** DRF `decode_cursor`: base64 of `o=&r=&p=`; anything malformed → 404 "Invalid cursor". */
function decodeCursor(encoded: string | undefined): Cursor | null {
  if (encoded === undefined) return null;
  const invalid = () => errors.notFound("Invalid cursor");
  const cleaned = encoded.replace(/[^A-Za-z0-9+/=]/g, "");
  if (cleaned.length % 4 !== 0) throw invalid();
  const bytes = Buffer.from(cleaned, "base64");
  if (bytes.some((b) => b > 0x7f)) throw invalid();
  const tokens: Record<string, string> = {};
  for (const [k, v] of parseQsl(bytes.toString("ascii"))) if (!(k in tokens)) tokens[k] = v;
  const o = tokens.o ?? "0";
  if (!/^\s*[+-]?\d+\s*$/.test(o) || Number(o) < 0) throw invalid();
  const r = tokens.r ?? "0";
  if (!/^\s*[+-]?\d+\s*$/.test(r)) throw invalid();
  return { offset: Math.min(Number(o), 1000), reverse: Number(r) !== 0, position: tokens.p ?? null };
}

function encodeCursor(baseUrl: string, cursor: Cursor): string {
  const parts: string[] = [];
  if (cursor.offset !== 0) parts.push(`o=${cursor.offset}`);
  if (cursor.reverse) parts.push("r=1");
  if (cursor.position !== null) parts.push(`p=${quotePlus(cursor.position)}`);
  const encoded = Buffer.from(parts.join("&"), "ascii").toString("base64");
  return rewriteQuery(baseUrl, { cursor: encoded });
}

function nextLink(s: CursorState, baseUrl: string): string | null {
  if (!s.hasNext) return null;
  let compare: string | null =
    s.page.length > 0 && s.cursor && s.cursor.reverse && s.cursor.offset !== 0
      ? position(s.page[s.page.length - 1] as StoredActivity)
      : s.nextPosition;
  let offset = 0;
  let unique = false;
  let pos: string | null = null;
  for (const item of [...s.page].reverse()) {
    pos = position(item);
    if (pos !== compare) {
      unique = true;
      break;
    }
    compare = pos;
    offset += 1;
  }
  if (s.page.length > 0 && !unique) {
    if (!s.hasPrevious) {
      offset = s.pageSize;
      pos = null;
    } else if (s.cursor?.reverse) {
      offset = 0;
      pos = s.previousPosition;
    } else {
      offset = (s.cursor?.offset ?? 0) + s.pageSize;
      pos = s.previousPosition;
    }
  }
  if (s.page.length === 0) pos = s.nextPosition;
  return encodeCursor(baseUrl, { offset, reverse: false, position: pos });
}

function previousLink(s: CursorState, baseUrl: string): string | null {
  if (!s.hasPrevious) return null;
  let compare: string | null =
    s.page.length > 0 && s.cursor && !s.cursor.reverse && s.cursor.offset !== 0
      ? position(s.page[0] as StoredActivity)
      : s.previousPosition;
  let offset = 0;
  let unique = false;
  let pos: string | null = null;
  for (const item of s.page) {
    pos = position(item);
    if (pos !== compare) {
      unique = true;
      break;
    }
    compare = pos;
    offset += 1;
  }
  if (s.page.length > 0 && !unique) {
    if (!s.hasNext) {
      offset = s.pageSize;
      pos = null;
    } else if (s.cursor?.reverse) {
      offset = (s.cursor?.offset ?? 0) + s.pageSize;
      pos = s.nextPosition;
    } else {
      offset = 0;
      pos = s.nextPosition;
    }
  }
  if (s.page.length === 0) pos = s.previousPosition;
  return encodeCursor(baseUrl, { offset, reverse: true, position: pos });
}
