/**
 * PostHog's recording-comment extraction: in a notebook, each top-level paragraph of exactly two
 * children whose first child is a replay timestamp on the recording (with a playback time) is a
 * comment, the second child's text. `id` is what PostHog computes: the SHA-256 of
 * "{short_id}-{title}-{text}-{playback_time}" with Python's formatting (`None` for null).
 */
import { createHash } from "node:crypto";
import { childNodes, isRecord } from "./nodes.js";

export interface RecordingComment {
  timeInRecording: unknown;
  comment: unknown;
  notebookShortId: string;
  notebookTitle: string | null;
  id: string;
}

export interface CommentSource {
  short_id: string;
  title?: string | null | undefined;
  content?: unknown;
}

function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  if (isRecord(value)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}

/** Python's `str()` of a JSON value. */
function pythonStr(value: unknown): string {
  return typeof value === "string" ? value : pythonRepr(value);
}

export function commentsInNotebook(notebook: CommentSource, recordingId: string): RecordingComment[] {
  const comments: RecordingComment[] = [];
  for (const node of childNodes(notebook.content)) {
    if (node.type !== "paragraph" || !Array.isArray(node.content) || node.content.length !== 2) continue;
    const [stamp, second] = node.content as unknown[];
    const attrs = isRecord(stamp) && isRecord(stamp.attrs) ? stamp.attrs : {};
    const playbackTime = attrs.playbackTime ?? null;
    if ((attrs.sessionRecordingId ?? null) !== recordingId || playbackTime === null) continue;
    const text = isRecord(second) ? (second.text ?? null) : null;
    const title = notebook.title ?? null;
    comments.push({
      timeInRecording: playbackTime,
      comment: text,
      notebookShortId: notebook.short_id,
      notebookTitle: title,
      id: createHash("sha256")
        .update(`${notebook.short_id}-${pythonStr(title)}-${pythonStr(text)}-${pythonStr(playbackTime)}`)
        .digest("hex"),
    });
  }
  return comments;
}
