/**
 * The upstream payloads this server relies on, as zod schemas. PostHog adds fields between versions:
 * what is not described here is never an error, and never read (the tools pick the fields they
 * show). Most answers are checked by predicates compiled from these (src/validation.ts), which hand
 * the payload on as it came; zod itself parses the rest, keeping the described fields of the
 * notebook payloads and everything in the loose ones.
 */
import { z } from "zod";

export const UserSchema = z.object({
  uuid: z.string().nullish(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  email: z.string().nullish(),
});
export type User = z.infer<typeof UserSchema>;

export const NotebookMinimalSchema = z.object({
  short_id: z.string(),
  title: z.string().nullish(),
  deleted: z.boolean().nullish(),
  created_at: z.string().nullish(),
  created_by: UserSchema.nullish(),
  last_modified_at: z.string().nullish(),
  last_modified_by: UserSchema.nullish(),
  user_access_level: z.string().nullish(),
});
export type NotebookMinimal = z.infer<typeof NotebookMinimalSchema>;

/** A whole notebook (one read or written): the fields the tools show and the document. */
export const NotebookSchema = NotebookMinimalSchema.pick({
  short_id: true,
  title: true,
  deleted: true,
  last_modified_at: true,
  last_modified_by: true,
}).extend({
  content: z.unknown().optional(),
  text_content: z.string().nullish(),
  version: z.number().int(),
});
export type Notebook = z.infer<typeof NotebookSchema>;

export const NotebookPageSchema = z.object({
  count: z.number().int(),
  next: z.string().nullish(),
  previous: z.string().nullish(),
  results: z.array(NotebookMinimalSchema),
});
export type NotebookPage = z.infer<typeof NotebookPageSchema>;

export const ActivityChangeSchema = z.looseObject({
  type: z.string().nullish(),
  action: z.string().nullish(),
  field: z.string().nullish(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});

export const ActivityEntrySchema = z.looseObject({
  id: z.union([z.string(), z.number()]).nullish(),
  user: z
    .looseObject({
      first_name: z.string().nullish(),
      last_name: z.string().nullish(),
      email: z.string().nullish(),
    })
    .nullish(),
  activity: z.string(),
  scope: z.string().nullish(),
  item_id: z.string().nullish(),
  detail: z
    .looseObject({
      changes: z.array(ActivityChangeSchema).nullish(),
      name: z.string().nullish(),
      short_id: z.string().nullish(),
    })
    .nullish(),
  created_at: z.string().nullish(),
});
export type ActivityEntry = z.infer<typeof ActivityEntrySchema>;

/** Per-notebook activity and `notebooks/activity/`: page/limit paging with a total. */
export const ActivityPageSchema = z.looseObject({
  results: z.array(ActivityEntrySchema),
  next: z.string().nullish(),
  previous: z.string().nullish(),
  total_count: z.number().int().nullish(),
});

/** The project activity log: cursor paging, no total. */
export const ActivityLogPageSchema = z.looseObject({
  results: z.array(ActivityEntrySchema),
  next: z.string().nullish(),
  previous: z.string().nullish(),
});

export const RecordingCommentSchema = z.looseObject({
  timeInRecording: z.union([z.string(), z.number()]).nullish(),
  comment: z.string().nullish(),
  notebookShortId: z.string(),
  notebookTitle: z.string().nullish(),
  id: z.string().nullish(),
});
export type RecordingComment = z.infer<typeof RecordingCommentSchema>;

export const RecordingCommentsSchema = z.looseObject({ results: z.array(RecordingCommentSchema) });

export const AccessControlsSchema = z.looseObject({
  access_controls: z.array(z.looseObject({})).nullish(),
  available_access_levels: z.array(z.string()).nullish(),
  default_access_level: z.string().nullish(),
  user_access_level: z.string().nullish(),
  user_can_edit_access_levels: z.boolean().nullish(),
});
