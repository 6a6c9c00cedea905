/**
 * Component tags of PostHog's notebook Markdown, per node type: PostHog's
 * `NOTEBOOK_NODE_TYPE_TO_MARKDOWN_TAG` (frontend/src/scenes/notebooks/Notebook/markdownNotebookV2.ts).
 * A node type without a tag is written `<UnknownNode nodeType="…" …/>`, which reads back as that node.
 */

export const NODE_TYPE_TO_TAG: Readonly<Record<string, string>> = {
  "ph-query": "Query",
  "ph-python": "Python",
  "ph-python-v2": "PythonV2",
  "ph-duck-sql": "DuckSQL",
  "ph-hogql-sql": "HogQLSQL",
  "ph-sql-v2": "SQLV2",
  "ph-recording": "Recording",
  "ph-recording-playlist": "RecordingPlaylist",
  "ph-feature-flag": "FeatureFlag",
  "ph-feature-flag-code-example": "FeatureFlagCodeExample",
  "ph-experiment": "Experiment",
  "ph-early-access-feature": "EarlyAccessFeature",
  "ph-survey": "Survey",
  "ph-person": "Person",
  "ph-group": "Group",
  "ph-cohort": "Cohort",
  "ph-backlink": "Backlink",
  "ph-replay-timestamp": "ReplayTimestamp",
  "ph-image": "Image",
  "ph-person-feed": "PersonFeed",
  "ph-person-properties": "PersonProperties",
  "ph-group-properties": "GroupProperties",
  "ph-map": "Map",
  "ph-embed": "Embed",
  "ph-latex": "Latex",
  "ph-task-create": "TaskCreate",
  "ph-llm-trace": "LLMTrace",
  "ph-issues": "Issues",
  "ph-usage-metrics": "UsageMetrics",
  "ph-zendesk-tickets": "ZendeskTickets",
  "ph-related-groups": "RelatedGroups",
  "ph-customer-journey": "CustomerJourney",
  "ph-support-tickets": "SupportTickets",
};

export const TAG_TO_NODE_TYPE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(NODE_TYPE_TO_TAG).map(([type, tag]) => [tag, type]),
);

export const UNKNOWN_NODE_TAG = "UnknownNode";
export const COMMENT_TAG = "Comment";
export const DIVIDER_TAG = "Divider";
export const IMAGE_TAG = "Image";
/** Tags PostHog's Markdown → v1 conversion drops: v1 has nowhere to keep them. */
export const DROPPED_TAGS: ReadonlySet<string> = new Set(["Prompt"]);

/**
 * PostHog nodes that sit inside a paragraph. PostHog's own converter drops them from the Markdown
 * (it reads component tags only on a line of their own); this server writes and reads them as
 * tags inside the line, so that a paragraph with a replay timestamp survives an edit.
 */
export const INLINE_NODE_TYPES: ReadonlySet<string> = new Set(["ph-replay-timestamp", "ph-backlink"]);
export const INLINE_TAGS: ReadonlySet<string> = new Set(
  [...INLINE_NODE_TYPES].map((type) => NODE_TYPE_TO_TAG[type] as string),
);

/** The props a component cannot do without, to say so when a write leaves them out. */
export const REQUIRED_PROPS: Readonly<Record<string, readonly string[][]>> = {
  Query: [["query"]],
  Recording: [["id"]],
  FeatureFlag: [["id"]],
  FeatureFlagCodeExample: [["id"]],
  Experiment: [["id"]],
  EarlyAccessFeature: [["id"]],
  Survey: [["id"]],
  Cohort: [["id"]],
  Person: [["id", "distinctId"]],
  Group: [["id"]],
  Image: [["src"]],
  Embed: [["src"]],
  Latex: [["content"]],
  ReplayTimestamp: [["sessionRecordingId"]],
  Backlink: [["href"]],
};

/** Every tag a write understands. */
export const KNOWN_TAGS: ReadonlySet<string> = new Set([
  ...Object.values(NODE_TYPE_TO_TAG),
  UNKNOWN_NODE_TAG,
  COMMENT_TAG,
  DIVIDER_TAG,
  ...DROPPED_TAGS,
]);
