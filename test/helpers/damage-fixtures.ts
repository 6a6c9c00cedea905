/** The documents of the reproductions, shared by the tests that use them. */

const cell = (words: string) => ({
  type: "tableCell",
  attrs: { colspan: 1, rowspan: 1, colwidth: null },
  content: [{ type: "paragraph", content: [{ type: "text", text: words }] }],
});

/** A paragraph with a bold-italic run between plain text, and a one-row table of plain cells. */
export const HEADERLESS_REPORT = {
  type: "doc",
  content: [
    { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "Report" }] },
    {
      type: "paragraph",
      content: [
        { type: "text", text: "plain alpha1 " },
        { type: "text", text: "funnel beta2", marks: [{ type: "bold" }, { type: "italic" }] },
        { type: "text", text: " and gamma3." },
      ],
    },
    { type: "table", content: [{ type: "tableRow", content: [cell("delta4"), cell("epsilon5")] }] },
  ],
};

/** A paragraph opening with a replay timestamp, as in the sandbox's sample notebook. */
export const TIMESTAMPED_LINE = {
  type: "doc",
  content: [
    { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "Replay" }] },
    {
      type: "paragraph",
      content: [
        {
          type: "ph-replay-timestamp",
          attrs: { playbackTime: 83000, sessionRecordingId: "r1", sourceNodeId: "n1" },
        },
        { type: "text", text: "the second tap is swallowed." },
      ],
    },
  ],
};
