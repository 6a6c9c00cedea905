/**
 * The notebooks this session read or wrote last, as PostHog answered: content and version. They
 * spare the requests an agent's next step would otherwise repeat: the later parts of a long
 * notebook come from the version its first part was cut from (so the parts fit together), and an
 * append or edit right after a read is one request, written against the version just read (a 409
 * means someone wrote in between: the write then reads again and re-applies the change). Each
 * also keeps the content of the version it replaced, so that the notebook view can show what a
 * write changed.
 */
import type { ProjectId } from "../config.js";
import type { Notebook } from "../posthog/schemas.js";

export interface Snapshot {
  notebook: Notebook;
  /** The notebook's Markdown, once something asked for it. */
  markdown?: string;
  /** Characters of the document's JSON, to bound what is held. */
  size: number;
  /**
   * The version this session held before this one (the one a write was made against), with its
   * content: what the notebook view compares with to show what changed.
   */
  previous?: { version: number; content: unknown; size: number };
}

/** Characters a snapshot holds, its previous version's content included. */
function heldSize(snapshot: Snapshot): number {
  return snapshot.size + (snapshot.previous?.size ?? 0);
}

const MAX_ENTRIES = 16;
/** About 32 MB of strings: enough for a few very long notebooks, little against an agent's session. */
const MAX_CHARS = 16_000_000;

export class NotebookSnapshots {
  readonly #entries = new Map<string, Snapshot>();
  #chars = 0;

  constructor(
    private readonly maxEntries = MAX_ENTRIES,
    private readonly maxChars = MAX_CHARS,
  ) {}

  /** The snapshot of a notebook, if one is held (it becomes the most recent). */
  get(projectId: ProjectId, shortId: string): Snapshot | undefined {
    const key = keyOf(projectId, shortId);
    const found = this.#entries.get(key);
    if (found) {
      this.#entries.delete(key);
      this.#entries.set(key, found);
    }
    return found;
  }

  /** Holds what PostHog answered for a notebook (a read or a write), replacing what was held. */
  remember(projectId: ProjectId, notebook: Notebook): Snapshot {
    const held = this.#entries.get(keyOf(projectId, notebook.short_id));
    this.forget(projectId, notebook.short_id);
    const size = JSON.stringify(notebook.content ?? null).length + (notebook.text_content?.length ?? 0);
    const snapshot: Snapshot = { notebook, size };
    if (held && held.notebook.version !== notebook.version) {
      snapshot.previous = {
        version: held.notebook.version,
        content: held.notebook.content ?? null,
        size: held.size,
      };
    } else if (held?.previous) {
      snapshot.previous = held.previous;
    }
    if (heldSize(snapshot) > this.maxChars) delete snapshot.previous;
    if (size > this.maxChars) return snapshot;
    this.#entries.set(keyOf(projectId, notebook.short_id), snapshot);
    this.#chars += heldSize(snapshot);
    for (const [key, old] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && this.#chars <= this.maxChars) break;
      this.#entries.delete(key);
      this.#chars -= heldSize(old);
    }
    return snapshot;
  }

  forget(projectId: ProjectId, shortId: string): void {
    const key = keyOf(projectId, shortId);
    const old = this.#entries.get(key);
    if (!old) return;
    this.#entries.delete(key);
    this.#chars -= heldSize(old);
  }
}

function keyOf(projectId: ProjectId, shortId: string): string {
  return `${projectId}/${shortId}`;
}
