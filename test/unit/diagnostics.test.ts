/**
 * Writes say what they could not understand, by line, and what was stored instead: tags PostHog
 * does not know, props that are not JSON, required props left out, links it cannot keep, tags
 * inside a line, tags never closed, blocks v1 has no place for. Never silently.
 */
import { describe, expect, it } from "vitest";
import { checkMarkdown, documentFromMarkdown } from "../../src/content/index.js";

const notes = (markdown: string) => documentFromMarkdown(markdown).diagnostics;

describe("what a write could not understand", () => {
  it("names a tag PostHog does not know, suggests the one meant, and keeps its text", () => {
    const made = documentFromMarkdown(
      '# T\n\n<Querry query={{"kind":"SavedInsightNode","shortId":"abc"}} />',
    );
    expect(made.diagnostics).toEqual([
      { line: 3, message: "<Querry> is not a PostHog component (did you mean <Query>?): stored as text" },
    ]);
    expect(made.content.content[1]).toEqual({
      type: "paragraph",
      content: [{ type: "text", text: '<Querry query={{"kind":"SavedInsightNode","shortId":"abc"}} />' }],
    });
  });

  it("names a prop that is not JSON, and what was stored for it", () => {
    expect(notes("<Query query={{kind: X}} />")).toEqual([
      { line: 1, message: 'the query prop of <Query> is not JSON: stored as the text "{{kind: X}}"' },
    ]);
  });

  it("names a component tag inside a sentence, which is text in PostHog's Markdown", () => {
    expect(notes('Para one.\n\nThe funnel <Query query={{"kind":"X"}} /> dropped.')).toEqual([
      {
        line: 3,
        message:
          "<Query> inside a line of text is not read as a component: stored as text; put a component tag on a line of its own",
      },
    ]);
  });

  it("names a required prop left out", () => {
    expect(notes("<Recording />")).toEqual([
      { line: 1, message: '<Recording> without "id": stored without it, so PostHog has nothing to show' },
    ]);
    expect(notes('<Person distinctId="u1" />')).toEqual([]);
  });

  it("names every link it dropped, with its line", () => {
    expect(
      notes("# Links\n\n[x](javascript:alert(1)) and [y](mailto:a@b.c)\n\n[ok](https://posthog.com)"),
    ).toEqual([
      {
        line: 3,
        message:
          'a link to "javascript:alert(1)", which is not http(s): stored as its text, without the link',
      },
      {
        line: 3,
        message: 'a link to "mailto:a@b.c", which is not http(s): stored as its text, without the link',
      },
    ]);
    expect(notes('# E\n\n<Embed src="javascript:alert(1)" />')).toEqual([
      { line: 3, message: 'the src of <Embed> is a script or file address ("javascript:alert(1)"): dropped' },
    ]);
  });

  it("names tags never closed, code never closed, props it could not read, and blocks v1 cannot keep", () => {
    expect(notes('<Query query={{"kind":"X"}}\n\nnext')).toEqual([
      {
        line: 1,
        message: 'a <Query> tag that is never closed with "/>" before a blank line: stored as text',
      },
    ]);
    expect(notes("```js\ncode")).toEqual([
      { line: 1, message: "a code block that is never closed: it runs to the end" },
    ]);
    expect(notes('<Query a={"\nx/>')).toEqual([
      {
        line: 1,
        message: "could not read all the props of <Query> (Unclosed expression prop value): stored with none",
      },
      { line: 1, message: '<Query> without "query": stored without it, so PostHog has nothing to show' },
    ]);
    expect(notes('<Prompt text="hi" />')).toEqual([
      { line: 1, message: "<Prompt> is not kept in a v1 notebook: dropped" },
    ]);
    expect(notes('<mention id="abc">@x</mention>')).toEqual([
      { line: 1, message: 'a mention with id "abc", which is not a member\'s number: stored as its text' },
    ]);
  });

  it("says nothing about Markdown it understood", () => {
    const markdown = [
      "# Report",
      "",
      'See <ReplayTimestamp playbackTime={1000} sessionRecordingId="r1" /> and `<Query />` in code.',
      "",
      '<Query query={{"kind":"SavedInsightNode","shortId":"abc"}} />',
      "",
      "- [x] done",
      "",
      "| a | b |",
      "| --- | --- |",
      "| 1 | 2 |",
    ].join("\n");
    expect(notes(markdown)).toEqual([]);
  });

  it("checks v2 Markdown with PostHog's own grammar, where a tag inside a line is text", () => {
    expect(
      checkMarkdown('x\n\nSee <ReplayTimestamp playbackTime={1} sessionRecordingId="r" /> here').diagnostics,
    ).toEqual([
      {
        line: 3,
        message:
          "<ReplayTimestamp> inside a line of text is not read as a component: stored as text; put a component tag on a line of its own",
      },
    ]);
  });
});

describe("where dropped script addresses are reported", () => {
  it("each at its own line, in a write with thousands of them (each line found once, not searched for from the start)", () => {
    const embeds = Array.from({ length: 3_000 }, () => '<Embed src="javascript:alert(2)" />');
    const made = documentFromMarkdown(`# T\n\n${embeds.join("\n\n")}`);
    const dropped = made.diagnostics.filter((d) => d.message.includes("script or file address"));
    expect(dropped).toHaveLength(3_000);
    // Line 3, 5, 7…: the same address written 3,000 times is reported where each one is.
    expect(dropped.map((d) => d.line)).toEqual(embeds.map((_, i) => 3 + 2 * i));
  });

  it("in a v2 notebook's Markdown too", () => {
    const lines = Array.from({ length: 2_000 }, (_, i) =>
      i % 2 ? `[x](javascript:alert(${i}))` : `safe ${i}`,
    );
    const checked = checkMarkdown(lines.join("\n\n"));
    expect(checked.markdown).not.toMatch(/javascript:/);
    expect(checked.markdown.split("\n\n")).toEqual(lines.map((line, i) => (i % 2 ? "x" : line)));
    expect(checked.diagnostics.map((d) => d.line)).toEqual(
      lines.flatMap((_, i) => (i % 2 ? [1 + 2 * i] : [])),
    );
  });
});

describe("where links that are not http(s) are reported", () => {
  it("each at its line, in a paragraph of 20,000 lines holding one each (line breaks passed once)", () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `[x](ftp://h/${i}) and [y](ftp://k/${i})`);
    const made = documentFromMarkdown(lines.join("\n"));
    const links = made.diagnostics.filter((d) => d.message.startsWith("a link to "));
    expect(links).toHaveLength(40_000);
    expect(links.map((d) => d.line)).toEqual(lines.flatMap((_, i) => [i + 1, i + 1]));
  });
});
