/**
 * The notebook view (MCP App) as a client sees it: only clients that render MCP Apps are told about
 * it (for the others tools/list, resources/list and results are byte for byte what a server without
 * it answers); the view's app-only tools read a notebook with what a write changed, and save through
 * notebooks-edit's write path.
 */

import { readdirSync, readFileSync } from "node:fs";
import type { ClientCapabilities } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockChanges } from "../../src/app-view/changes.js";
import { type Sandbox, startSandbox } from "../../src/sandbox/index.js";
import { changedPassage } from "../../src/view/passage.js";
import { type Harness, startHarness, structured, textOf } from "../helpers/harness.js";

const UI: ClientCapabilities = {
  extensions: { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } },
};
const VIEW_URI = "ui://posthog-notebooks/notebook.html";

interface ViewDoc {
  short_id: string;
  version: number;
  format: string;
  doc: { content: { type: string }[] };
  markdown: string;
  blocks: ([number, number] | null)[] | null;
  changes?: { from_version: number; changed: number[]; removed: number };
}

describe("blockChanges", () => {
  it("names the new and changed blocks, and counts the removed ones", () => {
    expect(blockChanges(["a", "b", "c"], ["a", "B", "c"])).toEqual({ changed: [1], removed: 0 });
    expect(blockChanges(["a", "b", "c"], ["a", "c"])).toEqual({ changed: [], removed: 1 });
    expect(blockChanges([], ["a", "b"])).toEqual({ changed: [0, 1], removed: 0 });
    expect(blockChanges(["a", "b", "c", "d"], ["a", "c", "b", "d"])).toEqual({ changed: [], removed: 0 });
  });
});

describe("the edit pane's passage", () => {
  it("is the changed lines, widened until they occur once", () => {
    expect(changedPassage("a\nb\nc", "a\nB\nc")).toEqual({ old: "b", new: "B" });
    expect(changedPassage("x\n\nx\ny", "x\n\nx!\ny")).toEqual({ old: "\nx\ny", new: "\nx!\ny" });
    expect(changedPassage("- a\n- a", "- a\n- a\n- b")).toEqual({ old: "- a\n- a", new: "- a\n- a\n- b" });
    expect(changedPassage("same", "same")).toBeNull();
  });
});

describe("the view's source", () => {
  it("never parses text as HTML", () => {
    const dir = new URL("../../src/view/", import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const source = readFileSync(new URL(file, dir), "utf8");
      expect(source, file).not.toMatch(
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/,
      );
    }
  });
});

describe("the notebook view", () => {
  let sandbox: Sandbox;
  let plain: Harness;
  let off: Harness;
  let ui: Harness;
  let uiOff: Harness;

  beforeAll(async () => {
    sandbox = await startSandbox({ rateLimit: false, seed: true });
    [plain, off, ui, uiOff] = await Promise.all([
      startHarness({ upstream: sandbox }),
      startHarness({ upstream: sandbox, config: { ui: false } }),
      startHarness({ upstream: sandbox, capabilities: UI }),
      startHarness({ upstream: sandbox, capabilities: UI, config: { ui: false } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([plain, off, ui, uiOff].map((h) => h?.close()));
    await sandbox?.close();
  });

  it("changes nothing for a client without the extension: tools/list, resources/list and templates as with --no-ui", async () => {
    expect(JSON.stringify(await plain.client.listTools())).toBe(JSON.stringify(await off.client.listTools()));
    expect(JSON.stringify(await plain.client.listResources())).toBe(
      JSON.stringify(await off.client.listResources()),
    );
    expect(JSON.stringify(await uiOff.client.listTools())).toBe(JSON.stringify(await off.client.listTools()));
    expect(JSON.stringify(await plain.client.listResourceTemplates())).toBe(
      JSON.stringify(await off.client.listResourceTemplates()),
    );
  });

  it("changes no result, for any client", async () => {
    const calls: [string, Record<string, unknown>][] = [
      ["notebooks-retrieve", { short_id: "wkMetric" }],
      ["notebooks-retrieve", { short_id: "mdRelNts", format: "both" }],
      ["notebooks-list", {}],
      ["notebooks-retrieve", { short_id: "nothere1" }],
    ];
    for (const [name, args] of calls) {
      const without = JSON.stringify(await off.call(name, args));
      expect(JSON.stringify(await plain.call(name, args))).toBe(without);
      expect(JSON.stringify(await ui.call(name, args))).toBe(without);
    }
  });

  it("links the four notebook tools to the view and lists its app-only tools for a client that renders apps", async () => {
    const { tools } = await ui.client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    for (const name of [
      "notebooks-retrieve",
      "notebooks-create",
      "notebooks-edit",
      "notebooks-partial-update",
    ]) {
      expect(byName.get(name)?._meta).toEqual({ ui: { resourceUri: VIEW_URI }, "ui/resourceUri": VIEW_URI });
    }
    expect(byName.get("notebooks-list")?._meta).toBeUndefined();
    for (const name of ["notebook-view-read", "notebook-view-save"]) {
      expect(byName.get(name)?._meta).toEqual({ ui: { resourceUri: VIEW_URI, visibility: ["app"] } });
    }
    // Without the app tools, the rest is what every other client is shown.
    const { tools: others } = await plain.client.listTools();
    expect(tools.filter((t) => !t.name.startsWith("notebook-view-")).map((t) => t.name)).toEqual(
      others.map((t) => t.name),
    );
  });

  it("serves the view as a self-contained MCP App page that asks for no other origin", async () => {
    const { resources } = await ui.client.listResources();
    expect(resources[0]).toMatchObject({ uri: VIEW_URI, mimeType: "text/html;profile=mcp-app" });
    const read = await ui.client.readResource({ uri: VIEW_URI });
    const content = read.contents[0] as { mimeType: string; text: string; _meta?: unknown };
    expect(content.mimeType).toBe("text/html;profile=mcp-app");
    expect(content._meta).toEqual({ ui: { csp: {}, prefersBorder: true } });
    expect(content.text).toMatch(/^<!doctype html>/);
    // One inline script and one inline style; nothing loaded from anywhere (the browser test watches the requests).
    const tags = [...content.text.matchAll(/<(script|link|img|iframe|style)\b[^>]*>/gi)].map((m) => m[0]);
    expect(tags).toEqual(["<style>", '<script type="module">']);
  });

  it("reads a notebook for the view: blocks, their Markdown, and where each is", async () => {
    const view = structured<ViewDoc>(await ui.call("notebook-view-read", { short_id: "chk9Drop" }));
    const retrieved = textOf(await ui.call("notebooks-retrieve", { short_id: "chk9Drop" }));
    expect(retrieved).toContain(view.markdown);
    expect(view.doc.content.map((n) => n.type)).toContain("ph-recording");
    const blocks = view.blocks ?? [];
    expect(blocks).toHaveLength(view.doc.content.length);
    const [start, end] = blocks[0] ?? [0, 0];
    expect(view.markdown.slice(start, end)).toBe("# Checkout drop-off investigation");
  });

  it("reads a v2 (Markdown) notebook as blocks to render, the whole Markdown to edit", async () => {
    const view = structured<ViewDoc>(await ui.call("notebook-view-read", { short_id: "mdRelNts" }));
    expect(view.format).toBe("v2");
    expect(view.blocks).toBeNull();
    expect(view.doc.content.map((n) => n.type)).toEqual(["heading", "bulletList", "codeBlock"]);
  });

  it("saves a correction through notebooks-edit's path and then shows the block it changed", async () => {
    const before = structured<ViewDoc>(await ui.call("notebook-view-read", { short_id: "onbNotes" }));
    const saved = await ui.call("notebook-view-save", {
      short_id: "onbNotes",
      old_markdown: "Three customers walked us",
      new_markdown: "Four customers walked us",
      version: before.version,
    });
    const written = structured<{ version: number }>(saved);
    expect(written.version).toBe(before.version + 1);
    expect(JSON.stringify(sandbox.getNotebook("onbNotes")?.content)).toContain("Four customers walked us");
    const after = structured<ViewDoc>(
      await ui.call("notebook-view-read", { short_id: "onbNotes", version: written.version, changes: true }),
    );
    expect(after.changes).toEqual({ from_version: before.version, changed: [1], removed: 0 });
  });

  it("saves a correction to a v2 (Markdown) notebook", async () => {
    const view = structured<ViewDoc>(await ui.call("notebook-view-read", { short_id: "mdRelNts" }));
    const saved = await ui.call("notebook-view-save", {
      short_id: "mdRelNts",
      old_markdown: "- Faster checkout on Safari",
      new_markdown: "- Faster checkout on Safari and Firefox",
      version: view.version,
    });
    expect(saved.isError, textOf(saved)).toBeFalsy();
    expect(JSON.stringify(sandbox.getNotebook("mdRelNts")?.content)).toContain("Safari and Firefox");
  });

  it("refuses a save the edit path refuses, with its reason", async () => {
    const result = await ui.call("notebook-view-save", {
      short_id: "onbNotes",
      old_markdown: "a passage that is not there",
      new_markdown: "x",
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("old_markdown does not occur in notebook onbNotes");
  });

  it("is off with --no-ui, even for a client that renders apps", async () => {
    const { tools } = await uiOff.client.listTools();
    expect(tools.some((t) => t._meta !== undefined)).toBe(false);
    await expect(uiOff.client.readResource({ uri: VIEW_URI })).rejects.toThrow();
  });
});
