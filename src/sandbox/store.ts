/**
 * The sandbox's state (notebooks, activity log, access controls) and its persistence.
 *
 * Persistence: with a state file, the whole state is loaded at start and written after every
 * mutation. Writes are atomic (`<file>.tmp-<pid>-<n>` then `rename`) and serialized: at most
 * one write runs at a time, and mutations that arrive while it runs are folded into one more
 * write afterwards, so every mutation reaches the disk and writes never interleave.
 * Keys are configuration, not state: they come from the options on every start.
 */
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
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

export class Store {
  private readonly notebooks = new Map<string, StoredNotebook>();
  readonly activity: StoredActivity[] = [];
  readonly accessControls: StoredAccessControl[] = [];
  private seq = 0;

  // persistence
  private saveCounter = 0;
  private saving: Promise<void> | null = null;
  private dirty = false;
  private lastError: unknown = null;

  constructor(
    private readonly clock: MonotonicClock,
    private readonly stateFile: string | undefined,
  ) {}

  // -------------------------------------------------------------------------------------------
  // Loading and saving
  // -------------------------------------------------------------------------------------------

  /** Load the state file. Returns false when there is no file yet (a fresh state). */
  async load(): Promise<boolean> {
    if (!this.stateFile) return false;
    let raw: string;
    try {
      raw = await readFile(this.stateFile, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
    const state = JSON.parse(raw) as PersistedState;
    if (state.format !== "posthog-notebooks-sandbox" || state.version !== 1) {
      throw new Error(`${this.stateFile} is not a notebooks sandbox state file`);
    }
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
    } finally {
      this.saving = null;
    }
  }

  private async writeAtomically(data: string): Promise<void> {
    const file = this.stateFile as string;
    const tmp = `${file}.tmp-${process.pid}-${++this.saveCounter}`;
    try {
      await writeFile(tmp, data, "utf8");
      await rename(tmp, file);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
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

function keyOf(teamId: number, shortId: string): string {
  return `${teamId}/${shortId}`;
}
