/**
 * Notebook operations with PostHog's semantics: creation defaults, the version/conflict rule,
 * activity-log entries with field changes, and the serializers' output shapes.
 */
import { makeUser, SANDBOX_ORGANIZATION_ID } from "./auth.js";
import { errors } from "./errors.js";
import type { ActivityChange, Store, StoredActivity, StoredNotebook } from "./store.js";
import type { SandboxUser } from "./types.js";
import { formatIso, type Micros, type MonotonicClock, newUuid } from "./util.js";
import type { NotebookWrite } from "./validation.js";

export type ApiVersion = "latest" | "legacy";

export function userAccessLevel(n: StoredNotebook, callerUserId: number): string {
  // The creator gets "manager"; other members get the notebook default, "editor".
  return n.created_by === callerUserId ? "manager" : "editor";
}

function userOrNull(id: number | null): SandboxUser | null {
  return id === null ? null : makeUser(id);
}

/** NotebookMinimalSerializer (list items). */
export function serializeMinimal(n: StoredNotebook, callerUserId: number): Record<string, unknown> {
  return {
    id: n.id,
    short_id: n.short_id,
    title: n.title,
    deleted: n.deleted,
    created_at: formatIso(n.created_at),
    created_by: userOrNull(n.created_by),
    last_modified_at: formatIso(n.last_modified_at),
    last_modified_by: userOrNull(n.last_modified_by),
    user_access_level: userAccessLevel(n, callerUserId),
  };
}

/** NotebookSerializer (create, retrieve, update). */
export function serializeFull(
  n: StoredNotebook,
  callerUserId: number,
  apiVersion: ApiVersion,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: n.id,
    short_id: n.short_id,
    title: n.title,
    content: n.content,
    text_content: n.text_content,
    version: n.version,
    deleted: n.deleted,
    created_at: formatIso(n.created_at),
    created_by: userOrNull(n.created_by),
    last_modified_at: formatIso(n.last_modified_at),
    last_modified_by: userOrNull(n.last_modified_by),
    user_access_level: userAccessLevel(n, callerUserId),
  };
  if (apiVersion === "latest") out.parent_resource = null;
  return out;
}

/** The per-notebook activity endpoint's entry shape (`ActivityLogSerializer` in activity_logging/serializers.py). */
export function serializeActivityEntry(a: StoredActivity): Record<string, unknown> {
  const user = a.user_id === null ? null : makeUser(a.user_id);
  return {
    id: a.id,
    user: user
      ? { first_name: user.first_name, email: user.email }
      : { first_name: "System", email: null, is_system: true },
    activity: a.activity,
    scope: a.scope,
    item_id: a.item_id,
    detail: {
      id: null,
      changes: a.detail.changes,
      merge: a.detail.merge,
      trigger: a.detail.trigger,
      name: a.detail.name,
      short_id: a.detail.short_id,
      type: a.detail.type,
    },
    created_at: formatIso(a.created_at),
  };
}

/** The project activity log's entry shape (`ActivityLogSerializer` in api/activity_log.py, fields "__all__"). */
export function serializeProjectActivityEntry(a: StoredActivity): Record<string, unknown> {
  return {
    id: a.id,
    user: a.user_id === null ? null : makeUser(a.user_id),
    unread: false,
    team_id: a.team_id,
    organization_id: a.organization_id,
    was_impersonated: false,
    is_system: a.user_id === null,
    activity: a.activity,
    item_id: a.item_id,
    scope: a.scope,
    detail: a.detail,
    created_at: formatIso(a.created_at),
  };
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

const TRACKED_FIELDS = ["title", "content", "text_content", "deleted", "version"] as const;

/** PostHog's `changes_between`: created (was null), deleted (now null) or changed. */
export function changesBetween(before: StoredNotebook, after: StoredNotebook): ActivityChange[] {
  const changes: ActivityChange[] = [];
  for (const field of TRACKED_FIELDS) {
    const left = before[field] ?? null;
    const right = after[field] ?? null;
    if (left === null && right !== null)
      changes.push({ type: "Notebook", action: "created", field, before: null, after: right });
    else if (right === null && left !== null)
      changes.push({ type: "Notebook", action: "deleted", field, before: left, after: null });
    else if (!deepEqual(left, right))
      changes.push({ type: "Notebook", action: "changed", field, before: left, after: right });
  }
  return changes;
}

/** Python truthiness of a JSON value (older PostHog checks `if validated_data.get("content")`). */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

export class NotebookService {
  constructor(
    private readonly store: Store,
    private readonly clock: MonotonicClock,
    private readonly apiVersion: ApiVersion,
  ) {}

  private log(
    activity: string,
    n: StoredNotebook,
    userId: number | null,
    changes: ActivityChange[] | null,
    at?: Micros,
  ): void {
    this.store.logActivity({
      team_id: n.team_id,
      organization_id: SANDBOX_ORGANIZATION_ID,
      user_id: userId,
      activity,
      item_id: n.short_id,
      scope: "Notebook",
      detail: { changes, merge: null, trigger: null, name: n.title, short_id: n.short_id, type: null },
      ...(at !== undefined ? { created_at: at } : {}),
    });
  }

  /**
   * POST: defaults version 0, deleted false, title/content/text_content null. Newer PostHog
   * takes a client `short_id`: a duplicate returns the existing notebook (201, as the create
   * path returns it), or 409 when that one is deleted.
   */
  create(teamId: number, userId: number, data: NotebookWrite): StoredNotebook {
    if (this.apiVersion === "latest" && data.short_id) {
      const existing = this.store.find(teamId, data.short_id);
      if (existing) {
        if (existing.deleted) throw errors.conflict("A deleted notebook with this short_id already exists.");
        return existing;
      }
    }
    const now = this.clock.next();
    const n = this.store.insert({
      id: newUuid(),
      short_id: (this.apiVersion === "latest" && data.short_id) || this.store.newShortId(teamId),
      team_id: teamId,
      title: data.title ?? null,
      content: data.content === undefined ? null : data.content,
      text_content: data.text_content ?? null,
      version: data.version ?? 0,
      deleted: data.deleted ?? false,
      created_at: now,
      created_by: userId,
      last_modified_at: now,
      last_modified_by: userId,
    });
    this.log("created", n, userId, null);
    this.store.changed();
    return n;
  }

  /**
   * PATCH/PUT. Synchronous from check to write, so concurrent requests cannot both pass the
   * version check (PostHog uses SELECT … FOR UPDATE for the same effect).
   */
  update(n: StoredNotebook, userId: number, data: NotebookWrite): StoredNotebook {
    const keys = Object.keys(data).filter((k) => k !== "short_id");
    // PostHog: with no writable field in the payload `updated_notebook` is never assigned and
    // the view fails with an UnboundLocalError, i.e. a 500.
    if (keys.length === 0) throw errors.serverError();
    const before: StoredNotebook = { ...n };
    const versionChecked =
      this.apiVersion === "latest" ? Object.hasOwn(data, "content") : truthy(data.content);
    let newVersion = data.version;
    if (versionChecked) {
      if (data.version !== n.version) throw errors.conflict("Someone else edited the Notebook");
      newVersion = n.version + 1;
    }
    n.last_modified_at = this.clock.next();
    n.last_modified_by = userId;
    if (Object.hasOwn(data, "title")) n.title = data.title ?? null;
    if (Object.hasOwn(data, "content")) n.content = data.content === undefined ? null : data.content;
    if (Object.hasOwn(data, "text_content")) n.text_content = data.text_content ?? null;
    if (newVersion !== undefined) n.version = newVersion;
    if (data.deleted !== undefined) n.deleted = data.deleted;

    const changes = changesBetween(before, n);
    if (changes.length > 0) {
      let activity = "updated";
      const deletedChange = changes.find((c) => c.field === "deleted");
      if (deletedChange && this.apiVersion === "latest") {
        activity = deletedChange.after === false ? "restored" : "deleted";
      }
      this.log(activity, n, userId, changes);
    }
    this.store.changed();
    return n;
  }

  /** Insert directly (test helper / seeding), bypassing HTTP. */
  insert(
    init: {
      teamId: number;
      id?: string;
      short_id?: string;
      title?: string | null;
      content?: unknown;
      text_content?: string | null;
      version?: number;
      deleted?: boolean;
      createdBy?: number | null;
      lastModifiedBy?: number | null;
      createdAt?: Micros;
      lastModifiedAt?: Micros;
      logActivity?: boolean;
    },
    persist = true,
  ): StoredNotebook {
    const shortId = init.short_id ?? this.store.newShortId(init.teamId);
    if (this.store.find(init.teamId, shortId))
      throw new Error(`short_id ${shortId} already exists in project ${init.teamId}`);
    const createdAt = init.createdAt ?? this.clock.next();
    const createdBy = init.createdBy === undefined ? 1 : init.createdBy;
    const n = this.store.insert({
      id: init.id ?? newUuid(),
      short_id: shortId,
      team_id: init.teamId,
      title: init.title ?? null,
      content: init.content === undefined ? null : init.content,
      text_content: init.text_content ?? null,
      version: init.version ?? 0,
      deleted: init.deleted ?? false,
      created_at: createdAt,
      created_by: createdBy,
      last_modified_at: init.lastModifiedAt ?? createdAt,
      last_modified_by: init.lastModifiedBy === undefined ? createdBy : init.lastModifiedBy,
    });
    if (init.logActivity) this.log("created", n, createdBy, null, createdAt);
    if (persist) this.store.changed();
    return n;
  }
}
