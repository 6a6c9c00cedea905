/**
 * The table of operations: one entry per PostHog notebook operation, each in its own file. Tools,
 * their JSON Schemas, scope checks, read-only filtering and the README's tool table all come from it.
 */
import { accessControls } from "./access-controls.js";
import { activity } from "./activity.js";
import { allActivity } from "./all-activity.js";
import { create } from "./create.js";
import { destroy } from "./destroy.js";
import { edit } from "./edit.js";
import { globalAccessControls } from "./global-access-controls.js";
import { list } from "./list.js";
import { partialUpdate } from "./partial-update.js";
import { recordingComments } from "./recording-comments.js";
import { retrieve } from "./retrieve.js";
import type { Operation } from "./types.js";

export const OPERATIONS: readonly Operation[] = [
  list,
  create,
  retrieve,
  partialUpdate,
  edit,
  destroy,
  activity,
  allActivity,
  recordingComments,
  accessControls,
  globalAccessControls,
];

export function findOperation(name: string): Operation | undefined {
  return OPERATIONS.find((op) => op.name === name);
}
