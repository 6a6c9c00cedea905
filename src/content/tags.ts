/**
 * Component tag names used in PostHog's notebook Markdown, per node type.
 *
 * Source of the mapping: PostHog/posthog `NOTEBOOK_NODE_TYPE_TO_MARKDOWN_TAG`
 * (frontend/src/scenes/notebooks/Notebook/markdownNotebookV2.ts and its Python twin
 * products/notebooks/backend/markdown_conversion.py), plus the newer widgets of
 * products/notebooks/notebook-widget-catalog.json. `UnknownNode` is PostHog's own fallback tag
 * for a node type without a tag; `Divider` is the reserved tag PostHog's Markdown parser uses for
 * `---`. `RawNode` / `RawInlineNode` are this project's escape hatch (see markdown-serialize.ts).
 */

export const NODE_TYPE_TO_TAG: Readonly<Record<string, string>> = {
  "ph-query": "Query",
  "ph-python": "Python",
  "ph-duck-sql": "DuckSQL",
  "ph-hogql-sql": "HogQLSQL",
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
  // Newer widgets, from products/notebooks/notebook-widget-catalog.json.
  "ph-error-tracking-issue": "ErrorTrackingIssue",
  "ph-dashboard-widget": "Dashboard",
  "ph-action": "Action",
  "ph-workflow": "Workflow",
};

export const TAG_TO_NODE_TYPE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(NODE_TYPE_TO_TAG).map(([type, tag]) => [tag, type]),
);

/** PostHog node types that are inline atoms inside a paragraph (everything else `ph-*` is a block atom). */
export const INLINE_PH_NODE_TYPES: ReadonlySet<string> = new Set([
  "ph-backlink",
  "ph-replay-timestamp",
  "ph-mention",
]);

export const UNKNOWN_NODE_TAG = "UnknownNode";
export const RAW_BLOCK_TAG = "RawNode";
export const RAW_INLINE_TAG = "RawInlineNode";
export const DIVIDER_TAG = "Divider";
/** Tags PostHog's own downgrade (Markdown → v1) drops because v1 has nowhere to store them. */
export const DROPPED_TAGS: ReadonlySet<string> = new Set(["Comment", "Chat", "Prompt"]);

/** Tag names recognised inline (inside a paragraph line). */
export const INLINE_TAGS: ReadonlySet<string> = new Set([
  ...[...INLINE_PH_NODE_TYPES].flatMap((type) => {
    const tag = NODE_TYPE_TO_TAG[type];
    return tag ? [tag] : [];
  }),
  RAW_INLINE_TAG,
]);

/** Tag names recognised as a block when they open a line. */
export function isBlockTag(name: string): boolean {
  if (name === UNKNOWN_NODE_TAG || name === RAW_BLOCK_TAG || name === DIVIDER_TAG || DROPPED_TAGS.has(name)) {
    return true;
  }
  const type = TAG_TO_NODE_TYPE[name];
  return type !== undefined && !INLINE_PH_NODE_TYPES.has(type);
}
