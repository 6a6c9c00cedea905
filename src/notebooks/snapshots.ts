/**
 * The notebooks read or written last, as PostHog answered: content and version. They spare the
 * requests an agent's next step would otherwise repeat: the later parts of a long notebook come
 * from the version its first part was cut from (so the parts fit together), and an append or edit
 * right after a read is one request, written against the version just read (a 409 means someone
 * wrote in between: the write then reads again and re-applies the change).
 *
 * One store for the whole process, bounded in bytes (128 MB by default; no one notebook over 8 MB),
 * least recently used out first; each upstream client (one per key) sees only its own entries, through a
 * `NotebookSnapshots` view. However many sessions a server holds, what they keep shares the bound.
 * Each also keeps the content of the version it replaced (counted in the bound), so that the
 * notebook view can show what a write changed.
 */
import type { ProjectId } from "../config.js";
import type { Notebook } from "../posthog/schemas.js";

export interface Snapshot {
  /**
   * As PostHog answered. For a notebook kept as bytes (`raw`), its `content` and `text_content`
   * are parsed from them at each read of the field: pass `raw` to a conversion instead.
   */
  notebook: Notebook;
  /** The document's JSON as PostHog sent it (UTF-8), when it was kept unparsed. */
  raw?: Uint8Array;
  /** The notebook's Markdown, once something asked for it (counted in the store's bytes then). */
  markdown?: string;
  /** Its document's format, once its Markdown was made. */
  format?: "v1" | "v2" | "empty" | "other";
  /** Characters of the document's JSON (about), to place conversions. */
  size: number;
  /**
   * The version held before this one (the one a write was made against), with its content: what
   * the notebook view compares with to show what changed.
   */
  previous?: { version: number; content: unknown; size: number };
}

/** Bytes the process keeps of stored versions, at most. */
export const SNAPSHOT_BYTES = 128 * 1024 * 1024;
/** Bytes of one notebook as held, at most, for it to be kept (about a megabyte of Markdown in a v1 document). */
export const ONE_NOTEBOOK_BYTES = 8 * 1024 * 1024;

interface Entry {
  snapshot: Snapshot;
  bytes: number;
  /** Of `bytes`, what the previous version's content takes. */
  previousBytes: number | undefined;
}

/** The process's store: every view's entries, in least-recently-used order (a Map keeps it). */
export class SnapshotStore {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(readonly maxBytes = SNAPSHOT_BYTES) {}

  /** Bytes of one notebook, at most, for it to be kept. */
  get #most(): number {
    return Math.min(this.maxBytes / 4, ONE_NOTEBOOK_BYTES);
  }

  /** Bytes held now (strings counted at two bytes a character). */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): Snapshot | undefined {
    const found = this.#entries.get(key);
    if (!found) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, found);
    return found.snapshot;
  }

  /**
   * Holds a notebook. With `raw`, its document and text are kept as the bytes of their JSON (no
   * tree of objects on the server's thread) and parsed only when a field is read.
   */
  remember(key: string, notebook: Notebook, raw?: RawNotebook): Snapshot {
    const held = this.#entries.get(key);
    this.forget(key);
    if (raw) lazyFields(notebook, raw);
    const measured = raw
      ? { chars: raw.content?.length ?? 4, bytes: raw.content?.length ?? 0 }
      : measure(notebook.content ?? null);
    const textChars = raw ? (raw.text?.length ?? 0) : (notebook.text_content?.length ?? 0);
    const size = measured.chars + textChars;
    // The same version read again, its document byte for byte the same (one native comparison):
    // its Markdown, if made, is still its Markdown.
    const same =
      held?.snapshot.notebook.version === notebook.version &&
      held.snapshot.raw !== undefined &&
      raw?.content != null &&
      Buffer.from(
        held.snapshot.raw.buffer,
        held.snapshot.raw.byteOffset,
        held.snapshot.raw.byteLength,
      ).equals(raw.content)
        ? held.snapshot
        : undefined;
    let markdown: string | undefined = same?.markdown;
    // The version this one replaces (or the one it kept, for a re-read of the same version).
    const previous =
      held && held.snapshot.notebook.version !== notebook.version
        ? previousOf(held.snapshot.notebook, held.snapshot.size, held.bytes)
        : held?.previousBytes !== undefined && held.snapshot.previous
          ? { previous: held.snapshot.previous, bytes: held.previousBytes }
          : undefined;
    // (Bytes kept as bytes count one each; characters of a string, two.)
    const bytes =
      measured.bytes +
      (raw ? textChars : 2 * textChars) +
      1024 +
      (previous?.bytes ?? 0) +
      2 * (markdown?.length ?? 0);
    const entry: Entry = {
      snapshot: undefined as unknown as Snapshot,
      bytes,
      previousBytes: previous?.bytes,
    };
    const store = this;
    entry.snapshot = {
      notebook,
      size,
      ...(raw?.content ? { raw: raw.content } : {}),
      ...(previous ? { previous: previous.previous } : {}),
      get markdown() {
        return markdown;
      },
      format: same?.format,
      set markdown(value: string | undefined) {
        const grown = 2 * ((value?.length ?? 0) - (markdown?.length ?? 0));
        markdown = value;
        store.#grow(key, entry, grown);
      },
    };
    // One notebook bigger than a quarter of the store (or than 8 MB) is not kept: it would push
    // out everything, and hold the process's memory up long after it was written.
    if (entry.bytes > this.#most) return entry.snapshot;
    this.#entries.set(key, entry);
    this.#bytes += entry.bytes;
    this.#trim();
    return entry.snapshot;
  }

  forget(key: string): void {
    const old = this.#entries.get(key);
    if (!old) return;
    this.#entries.delete(key);
    this.#bytes -= old.bytes;
  }

  #grow(key: string, entry: Entry, bytes: number): void {
    entry.bytes += bytes;
    if (this.#entries.get(key) !== entry) return;
    this.#bytes += bytes;
    if (entry.bytes > this.#most) this.forget(key);
    this.#trim();
  }

  #trim(): void {
    for (const [key, old] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(key);
      this.#bytes -= old.bytes;
    }
  }
}

/** A notebook's document and text as the bytes of their JSON values (null: absent or null). */
export interface RawNotebook {
  content: Uint8Array | null;
  text: Uint8Array | null;
}

function parsedFrom(bytes: Uint8Array | null): unknown {
  return bytes === null ? null : JSON.parse(new TextDecoder().decode(bytes));
}

/** `content` and `text_content` of `notebook` read from `raw` at each access (never held parsed). */
function lazyFields(notebook: Notebook, raw: RawNotebook): void {
  Object.defineProperty(notebook, "content", {
    get: () => parsedFrom(raw.content),
    enumerable: true,
    configurable: true,
  });
  Object.defineProperty(notebook, "text_content", {
    get: () => parsedFrom(raw.text) as string | null,
    enumerable: true,
    configurable: true,
  });
}

/** The version a new one replaces, its content read only when asked for. */
function previousOf(
  notebook: Notebook,
  size: number,
  bytes: number,
): { previous: NonNullable<Snapshot["previous"]>; bytes: number } {
  return {
    previous: {
      version: notebook.version,
      get content() {
        return notebook.content ?? null;
      },
      size,
    },
    bytes,
  };
}

/** The process's one store. */
export const sharedSnapshots = new SnapshotStore();

let views = 0;
const scopes = new WeakMap<object, string>();

/** One tenant's view of a store (its entries only): what a session remembers notebooks in. */
export class NotebookSnapshots {
  readonly #scope: string;

  /**
   * `owner`: whose entries these are (the upstream client: one per key, so sessions of one key
   * share what they read, and no other key sees it). Without one, a view of its own.
   */
  constructor(
    owner?: object,
    private readonly store: SnapshotStore = sharedSnapshots,
  ) {
    const existing = owner ? scopes.get(owner) : undefined;
    this.#scope = existing ?? `${++views}`;
    if (owner && !existing) scopes.set(owner, this.#scope);
  }

  /** The snapshot of a notebook, if one is held (it becomes the most recent). */
  get(projectId: ProjectId, shortId: string): Snapshot | undefined {
    return this.store.get(this.#key(projectId, shortId));
  }

  /**
   * Holds what PostHog answered for a notebook (a read or a write), replacing what was held; `raw`:
   * its document and text kept as bytes (see `SnapshotStore.remember`).
   */
  remember(projectId: ProjectId, notebook: Notebook, raw?: RawNotebook): Snapshot {
    return this.store.remember(this.#key(projectId, notebook.short_id), notebook, raw);
  }

  forget(projectId: ProjectId, shortId: string): void {
    this.store.forget(this.#key(projectId, shortId));
  }

  #key(projectId: ProjectId, shortId: string): string {
    return `${this.#scope}\u0000${projectId}\u0000${shortId}`;
  }
}

/** About how many characters `value` holds as JSON (see `measure`). */
export function charsOf(value: unknown): number {
  return measure(value).chars;
}

/**
 * About how many characters `value` holds as JSON, and how many bytes of heap it takes (strings at
 * two bytes a character, each object and array with V8's overhead), counted without writing it
 * out (no copy of a big document only to measure it).
 */
export function measure(value: unknown): { chars: number; bytes: number } {
  let chars = 0;
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "string") {
      chars += item.length + 2;
      bytes += 2 * item.length + 20;
    } else if (item === null || typeof item !== "object") {
      chars += 8;
      bytes += 8;
    } else if (Array.isArray(item)) {
      chars += 2 + item.length;
      bytes += 32 + 8 * item.length;
      for (const child of item) stack.push(child);
    } else {
      const entries = Object.entries(item);
      for (const [name, child] of entries) {
        chars += name.length + 4;
        stack.push(child);
      }
      chars += 2;
      bytes += 56 + 16 * entries.length;
    }
  }
  return { chars, bytes };
}
