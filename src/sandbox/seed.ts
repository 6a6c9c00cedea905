/**
 * Realistic seed notebooks for the CLI (and `seed: true`), with `text_content` derived the way
 * PostHog's web editor derives it (the content module's walk).
 */
import { deriveTextContent } from "../content/text-content.js";

type Node = Record<string, unknown>;

const text = (t: string, marks?: Node[]): Node =>
  marks ? { type: "text", text: t, marks } : { type: "text", text: t };
const paragraph = (...content: Node[]): Node => ({ type: "paragraph", content });
const heading = (level: number, t: string): Node => ({
  type: "heading",
  attrs: { level },
  content: [text(t)],
});
const listItem = (t: string): Node => ({ type: "listItem", content: [paragraph(text(t))] });

export const SEED_RECORDING_ID = "0192f1d4-7c1e-7a55-b1d3-5e6f7a8b9c0d";
export const SEED_INSIGHT_SHORT_ID = "aB3dE5fG";

export interface SeedNotebook {
  short_id: string;
  title: string;
  content: Node;
  text_content: string;
  /** How long ago it was created / last modified, in hours. */
  createdHoursAgo: number;
  modifiedHoursAgo: number;
}

function seed(
  short_id: string,
  title: string,
  content: Node,
  createdHoursAgo: number,
  modifiedHoursAgo: number,
): SeedNotebook {
  return {
    short_id,
    title,
    content,
    // Stored as PostHog stores what the web editor sends: DRF's CharField strips surrounding whitespace.
    text_content: deriveTextContent(content).trim(),
    createdHoursAgo,
    modifiedHoursAgo,
  };
}

export function seedNotebooks(): SeedNotebook[] {
  return [
    seed(
      "chk9Drop",
      "Checkout drop-off investigation",
      {
        type: "doc",
        content: [
          heading(1, "Checkout drop-off investigation"),
          paragraph(
            text("Conversion from cart to payment fell "),
            text("12%", [{ type: "bold" }]),
            text(" after the 3.4 release. Notes from the investigation below."),
          ),
          heading(2, "Findings"),
          {
            type: "bulletList",
            content: [
              listItem("Drop-off is concentrated on Safari 17 and iOS."),
              listItem("The payment form re-renders when the address autocompletes."),
            ],
          },
          { type: "ph-recording", attrs: { id: SEED_RECORDING_ID, noInspector: false, nodeId: "rec-1" } },
          paragraph(
            {
              type: "ph-replay-timestamp",
              attrs: { playbackTime: 83000, sessionRecordingId: SEED_RECORDING_ID, sourceNodeId: "rec-1" },
            },
            text("User taps Pay twice; the second tap is swallowed."),
          ),
          heading(2, "Query"),
          {
            type: "codeBlock",
            attrs: { language: "sql" },
            content: [text("select count() from events where event = 'checkout_started'")],
          },
          {
            type: "ph-query",
            attrs: {
              query: { kind: "SavedInsightNode", shortId: SEED_INSIGHT_SHORT_ID },
              title: "Checkout funnel",
              nodeId: "query-1",
            },
          },
        ],
      },
      72,
      2,
    ),
    seed(
      "wkMetric",
      "Weekly product metrics",
      {
        type: "doc",
        content: [
          heading(1, "Weekly product metrics"),
          paragraph(
            text("Numbers for the Monday review. "),
            text("Targets", [{ type: "italic" }]),
            text(" are in the planning doc."),
          ),
          {
            type: "orderedList",
            attrs: { start: 1 },
            content: [
              listItem("Weekly active users"),
              listItem("New signups"),
              listItem("Retained after 7 days"),
            ],
          },
          {
            type: "ph-query",
            attrs: {
              query: {
                kind: "DataTableNode",
                source: {
                  kind: "HogQLQuery",
                  query:
                    "select toStartOfWeek(timestamp) as week, count(distinct person_id) from events group by week order by week",
                },
              },
              nodeId: "query-2",
            },
          },
          {
            type: "blockquote",
            content: [paragraph(text("Signups are seasonal: compare with the same week last year."))],
          },
          { type: "horizontalRule" },
          paragraph(
            text("Dashboard: "),
            text("Growth", [
              { type: "link", attrs: { href: "https://us.posthog.com/dashboard/1", target: "_blank" } },
            ]),
          ),
        ],
      },
      240,
      30,
    ),
    seed(
      "onbNotes",
      "Onboarding interview notes",
      {
        type: "doc",
        content: [
          heading(1, "Onboarding interview notes"),
          paragraph(text("Three customers walked us through their first week with the product.")),
          {
            type: "ph-person",
            attrs: { id: "0191b2c3-d4e5-7f60-8a9b-0c1d2e3f4a5b", distinctId: "customer-42", title: "Ada" },
          },
          heading(2, "Themes"),
          {
            type: "bulletList",
            content: [
              listItem("Setting up the snippet took longer than expected."),
              listItem("Everyone wanted an example dashboard."),
            ],
          },
          paragraph(text("Follow up with "), text("product", [{ type: "code" }]), text(" next sprint.")),
        ],
      },
      500,
      120,
    ),
    seed(
      "mdRelNts",
      "Release notes draft",
      {
        type: "doc",
        content: [
          {
            type: "ph-markdown-notebook",
            attrs: {
              nodeId: "markdown-notebook-v2",
              markdown:
                "# Release notes draft\n\n- Faster checkout on Safari\n- New weekly metrics dashboard\n\n```sql\nselect 1\n```",
            },
          },
        ],
      },
      48,
      6,
    ),
  ];
}
