/**
 * The sandbox's state (notebooks, activity log, access controls) and its persistence.
 *
 * Persistence: with a state file, the whole state is loaded at start and written after every
 * mutation. Writes are atomic and serialized: at most one write runs at a time, and mutations
 * that arrive while it runs are folded into one more write afterwards, so every mutation reaches
 * the disk and writes never interleave.
 *
 * Each write goes to a new temporary file beside the state file, named with 128 random bits and
 * created exclusively (O_CREAT|O_EXCL, which never follows a symlink planted at that name) with
 * mode 0600, then renamed over the state file: the state is readable by its owner only, and
 * nothing planted in the directory can redirect a write. At start, before anything is served, the
 * state file must be a state file (or absent) and its directory must take such a temporary file,
 * or `load` fails with a `SandboxStateError` that says what to do.
 * Keys are configuration, not state: they come from the options on every start.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { Micros, MonotonicClock } from "./util.js";
import { newUuid, randomAlnum } from "./util.js";

export interface StoredNotebook {
  /** Insertion order, used to break ordering ties deterministically. */
  seq: number;
  id: string;
  short_id: string;
  team_id: number;
  title: string | null;
  content: unknown;
  text_content: string | null;
  version: number;
  deleted: boolean;
  created_at: Micros;
  created_by: number | null;
  last_modified_at: Micros;
  last_modified_by: number | null;
}

export interface ActivityChange {
  type: "Notebook";
  action: "changed" | "created" | "deleted";
  field: string;
  before: unknown;
  after: unknown;
}

export interface ActivityDetail {
  changes: ActivityChange[] | null;
  merge: null;
  trigger: null;
  name: string | null;
  short_id: string;
  type: null;
}

export interface StoredActivity {
  seq: number;
  id: string;
  team_id: number;
  organization_id: string;
  user_id: number | null;
  activity: string;
  item_id: string;
  scope: string;
  detail: ActivityDetail;
  created_at: Micros;
}

export interface StoredAccessControl {
  id: string;
  team_id: number;
  resource: string;
  resource_id: string;
  organization_member: string | null;
  role: string | null;
  access_level: string;
  created_by: number | null;
  created_at: Micros;
  updated_at: Micros;
}

interface PersistedState {
  format: "posthog-notebooks-sandbox";
  version: 1;
  seq: number;
  notebooks: StoredNotebook[];
  activity: StoredActivity[];
  accessControls: StoredAccessControl[];
}

/** The state file cannot be used: not a state file, or not readable or writable where it is. */
export class SandboxStateError extends Error {
  override name = "SandboxStateError";
}

/** Called when a save fails after start; the next mutation tries again. */
export type SaveErrorListener = (error: Error) => void;

export class Store {
  private readonly notebooks = new Map<string, StoredNotebook>();
  readonly activity: StoredActivity[] = [];
  readonly accessControls: StoredAccessControl[] = [];
  private seq = 0;

  // persistence
  private saving: Promise<void> | null = null;
  private dirty = false;
  private lastError: unknown = null;

  constructor(
    private readonly clock: MonotonicClock,
    private readonly stateFile: string | undefined,
    private readonly onSaveError?: SaveErrorListener,
  ) {}

  // -------------------------------------------------------------------------------------------
  // Loading and saving
  // -------------------------------------------------------------------------------------------

  /**
   * Load the state file, and check that the state can be saved there. Returns false when there
   * is no file yet (a fresh state). Throws `SandboxStateError` when the file is not a state file or
   * cannot be read, or when its directory cannot take the temporary file each save writes.
   */
  async load(): Promise<boolean> {
    if (!this.stateFile) return false;
    const file = this.stateFile;
    let raw: string | undefined;
    try {
      raw = await readFile(file, "utf8");
    } catch (e) {
      if (errorCode(e) !== "ENOENT") throw new SandboxStateError(unreadable(file, e));
    }
    // Never quoted: a state file may be anything, and what is in it is none of the terminal's business.
    const state = raw === undefined ? undefined : parseState(raw);
    if (raw !== undefined && !state) {
      throw new SandboxStateError(
        `${file} is not a notebooks sandbox state file: delete it to start afresh, or choose another path for the state file.`,
      );
    }
    try {
      const probe = await this.createTemporary();
      await probe.handle.close();
      await unlink(probe.path);
    } catch (e) {
      throw new SandboxStateError(unwritable(file, e));
    }
    if (!state) return false;
    this.seq = state.seq;
    for (const n of state.notebooks) {
      this.notebooks.set(keyOf(n.team_id, n.short_id), n);
      this.clock.observe(Math.max(n.created_at, n.last_modified_at));
    }
    for (const a of state.activity) {
      this.activity.push(a);
      this.clock.observe(a.created_at);
    }
    for (const c of state.accessControls) this.accessControls.push(c);
    return true;
  }

  private snapshot(): string {
    const state: PersistedState = {
      format: "posthog-notebooks-sandbox",
      version: 1,
      seq: this.seq,
      notebooks: [...this.notebooks.values()].sort((a, b) => a.seq - b.seq),
      activity: this.activity,
      accessControls: this.accessControls,
    };
    return JSON.stringify(state);
  }

  /** Record that the state changed; a save follows (serialized with any running one). */
  changed(): void {
    if (!this.stateFile) return;
    this.dirty = true;
    if (!this.saving) this.saving = this.saveLoop();
  }

  private async saveLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        await this.writeAtomically(this.snapshot());
      }
    } catch (e) {
      this.lastError = e;
      try {
        this.onSaveError?.(e instanceof Error ? e : new Error(String(e)));
      } catch {
        // A failing listener must not turn a failed save into an unhandled rejection.
      }
    } finally {
      this.saving = null;
    }
  }

  /**
   * A new file beside the state file, for this process alone: a random name, created exclusively
   * (an existing file or symlink at that name fails the call instead of being followed), mode 0600.
   */
  private async createTemporary(): Promise<{ path: string; handle: FileHandle }> {
    const path = `${this.stateFile as string}.tmp-${randomBytes(16).toString("hex")}`;
    return { path, handle: await open(path, "wx", 0o600) };
  }

  private async writeAtomically(data: string): Promise<void> {
    const { path, handle } = await this.createTemporary();
    try {
      try {
        await handle.writeFile(data, "utf8");
      } finally {
        await handle.close();
      }
      await rename(path, this.stateFile as string);
    } catch (e) {
      await unlink(path).catch(() => undefined);
      throw e;
    }
  }

  /** Wait until every mutation so far is on disk; rethrows a failed write. */
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
    if (this.dirty && this.stateFile) {
      this.saving = this.saveLoop();
      await this.saving;
    }
    if (this.lastError) {
      const e = this.lastError;
      this.lastError = null;
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Notebooks
  // -------------------------------------------------------------------------------------------

  nextSeq(): number {
    return ++this.seq;
  }

  find(teamId: number, shortId: string): StoredNotebook | undefined {
    return this.notebooks.get(keyOf(teamId, shortId));
  }

  all(teamId: number): StoredNotebook[] {
    const out: StoredNotebook[] = [];
    for (const n of this.notebooks.values()) if (n.team_id === teamId) out.push(n);
    return out;
  }

  /** A fresh 8-character short id, unique within the project. */
  newShortId(teamId: number): string {
    for (;;) {
      const candidate = randomAlnum(8);
      if (!this.find(teamId, candidate)) return candidate;
    }
  }

  insert(n: Omit<StoredNotebook, "seq">): StoredNotebook {
    const stored: StoredNotebook = { ...n, seq: this.nextSeq() };
    this.notebooks.set(keyOf(n.team_id, n.short_id), stored);
    return stored;
  }

  // -------------------------------------------------------------------------------------------
  // Activity
  // -------------------------------------------------------------------------------------------

  logActivity(
    entry: Omit<StoredActivity, "seq" | "id" | "created_at"> & { created_at?: Micros },
  ): StoredActivity {
    const stored: StoredActivity = {
      ...entry,
      seq: this.nextSeq(),
      id: newUuid(),
      created_at: entry.created_at ?? this.clock.next(),
    };
    this.activity.push(stored);
    return stored;
  }
}

/** The state in `raw`, if it is one this sandbox wrote; undefined for anything else. */
function parseState(raw: string): PersistedState | undefined {
  let state: unknown;
  try {
    state = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof state !== "object" || state === null) return undefined;
  const s = state as Partial<PersistedState>;
  const ok =
    s.format === "posthog-notebooks-sandbox" &&
    s.version === 1 &&
    typeof s.seq === "number" &&
    Array.isArray(s.notebooks) &&
    Array.isArray(s.activity) &&
    Array.isArray(s.accessControls);
  return ok ? (s as PersistedState) : undefined;
}

function errorCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function unreadable(file: string, e: unknown): string {
  switch (errorCode(e)) {
    case "EISDIR":
      return `${file} is a directory, not a sandbox state file: give the path of a file in it instead, e.g. ${file.replace(/\/+$/, "")}/state.json.`;
    case "EACCES":
    case "EPERM":
      return `Cannot read the sandbox state file ${file} (permission denied): give this user access to it, or choose another path for the state file.`;
    case "ENOTDIR":
      return `Cannot use ${file} as the sandbox state file: a part of its directory path is a file, not a directory; choose another path for the state file.`;
    default:
      return `Cannot read the sandbox state file ${file} (${errorCode(e) ?? "unknown error"}): check the path, or choose another path for the state file.`;
  }
}

function unwritable(file: string, e: unknown): string {
  const dir = dirname(file);
  const start = `Cannot save the sandbox state to ${file}`;
  switch (errorCode(e)) {
    case "ENOENT":
      return `${start}: the directory ${dir} does not exist; create it, or choose another path for the state file.`;
    case "ENOTDIR":
      return `${start}: a part of ${dir} is a file, not a directory; choose another path for the state file.`;
    case "EACCES":
    case "EPERM":
      return `${start}: this user may not create files in ${dir}; choose a directory you can write to, or fix its permissions.`;
    case "EROFS":
      return `${start}: ${dir} is on a read-only file system; choose another path for the state file.`;
    default:
      return `${start} (${errorCode(e) ?? "unknown error"} when creating a file in ${dir}): choose another path for the state file.`;
  }
}

function keyOf(teamId: number, shortId: string): string {
  return `${teamId}/${shortId}`;
}
