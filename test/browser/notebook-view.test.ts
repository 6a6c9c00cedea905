/**
 * The notebook view in a real browser: headless Chromium (from npm, see test/helpers/browser.ts)
 * loads a minimal MCP Apps host page (host.ts, the ext-apps reference host's pattern: AppBridge
 * over postMessage), which loads the view's HTML as the server serves it and gives it a tool's
 * input and result; the view's tool calls go to this server, in process, against the sandbox.
 * Checked: the sample notebooks render as approved (screenshots, small tolerance), every PostHog
 * component is a card, people's text stays text, the edit pane saves through the write path and the
 * sandbox holds the change, a refused write is shown with its reason, and no request leaves the page.
 */
import { fileURLToPath } from "node:url";
import type { ClientCapabilities, Tool } from "@modelcontextprotocol/sdk/types.js";
import { build } from "esbuild";
import type { Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Sandbox, SEED_RECORDING_ID, startSandbox } from "../../src/sandbox/index.js";
import { type Browser, compareWithApproved, launchBrowser } from "../helpers/browser.js";
import { type Harness, startHarness } from "../helpers/harness.js";

/** A write path broken on purpose (as in write-guard.test.ts), for a write the guard refuses. */
const sabotage = vi.hoisted(() => ({ lossy: false }));
vi.mock("../../src/content/merge.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/content/merge.js")>();
  type N = Parameters<typeof real.mergeList>[0][number];
  const strip = (nodes: N[]): N[] =>
    nodes.map((node) => {
      const { marks: _marks, ...rest } = node;
      return node.content ? { ...rest, content: strip(node.content) } : rest;
    });
  return {
    ...real,
    mergeList: (stored: N[], base: N[], next: N[]) =>
      sabotage.lossy ? strip(next) : real.mergeList(stored, base, next),
  };
});

/** What host.ts gives the page (see there). */
interface Host {
  startView(start: Record<string, unknown>): Promise<void>;
  hostLog: { calls: string[]; context: string[]; links: string[] };
}

const UI: ClientCapabilities = {
  extensions: { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } },
};
const VIEW_URI = "ui://posthog-notebooks/notebook.html";
const approved = (name: string) => fileURLToPath(new URL(`approved/${name}.png`, import.meta.url));
/** Share of pixels a screenshot may differ from the approved one by (font rasterizing aside). */
const TOLERANCE = 0.002;

describe("the notebook view in Chromium", () => {
  let sandbox: Sandbox;
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let html: string;
  let tools: Map<string, Tool>;
  const requests: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({ rateLimit: false, seed: true });
    h = await startHarness({ upstream: sandbox, capabilities: UI });
    const read = await h.client.readResource({ uri: VIEW_URI });
    html = (read.contents[0] as { text: string }).text;
    expect(html, "the view is built (npm run build)").toContain("posthog-notebook-view");
    tools = new Map((await h.client.listTools()).tools.map((tool) => [tool.name, tool]));
    const host = await build({
      entryPoints: [fileURLToPath(new URL("host.ts", import.meta.url))],
      bundle: true,
      format: "iife",
      platform: "browser",
      write: false,
      logLevel: "warning",
    });
    browser = await launchBrowser();
    // Nothing may leave the page: every request is recorded and refused.
    await browser.context.route("**/*", (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    page = await browser.context.newPage();
    await page.exposeFunction(
      "mcpCallTool",
      (params: { name: string; arguments?: Record<string, unknown> }) => h.client.callTool(params),
    );
    await page.setContent(
      `<!doctype html><html><head><style>body{margin:0;background:#fff}</style></head><body><script>${host.outputFiles[0]?.text}</script></body></html>`,
    );
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await sandbox?.close();
  });

  /** Calls a tool as the agent would, then shows its result in the view; the view's frame once rendered. */
  async function show(name: string, args: Record<string, unknown>, height?: number): Promise<Frame> {
    const result = await h.call(name, args);
    const tool = tools.get(name);
    expect(tool?._meta, `${name} links to the view`).toMatchObject({ ui: { resourceUri: VIEW_URI } });
    await page.evaluate((start) => (globalThis as unknown as Host).startView(start), {
      html,
      tool: tool as unknown as { name: string },
      args,
      result: result as Record<string, unknown>,
      ...(height ? { height } : {}),
    });
    const frame = (await (await page.$("#view"))?.contentFrame()) as Frame;
    await frame.waitForSelector("#root[data-rendered]");
    return frame;
  }

  async function screenshot(name: string): Promise<void> {
    // The pointer off the view: no hover state in the picture.
    await page.mouse.move(790, 590);
    const png = await (await page.$("#view"))?.screenshot({ animations: "disabled", caret: "hide" });
    const diff = await compareWithApproved(png as Buffer, approved(name));
    expect(diff, `${name}.png: same size as approved`).not.toBeNull();
    expect(diff, `${name}.png: share of pixels differing from the approved image`).toBeLessThanOrEqual(
      TOLERANCE,
    );
  }

  it.each([
    ["chk9Drop", "Checkout drop-off investigation"],
    ["wkMetric", "Weekly product metrics"],
    ["onbNotes", "Onboarding interview notes"],
    ["mdRelNts", "Release notes draft"],
  ])("renders sample notebook %s as approved", async (shortId, title) => {
    const frame = await show("notebooks-retrieve", { short_id: shortId }, 900);
    expect(await frame.locator("article h1").first().textContent()).toBe(title);
    await screenshot(`notebook-${shortId}`);
  });

  it("shows each PostHog component as a card: insights with a link to PostHog, a recording with its timestamps", async () => {
    let frame = await show("notebooks-retrieve", { short_id: "chk9Drop" });
    const insight = frame.locator('.card[data-type="ph-query"]');
    expect(await insight.locator(".title").textContent()).toBe("Checkout funnel");
    expect(await insight.locator("a.open").getAttribute("href")).toBe(`${sandbox.url}/insights/aB3dE5fG`);
    const recording = frame.locator('.card[data-type="ph-recording"]');
    expect(await recording.locator(".meta").textContent()).toBe(`Session ${SEED_RECORDING_ID}`);
    expect(await recording.locator(".chip.time").allTextContents()).toEqual(["▶ 1:23"]);
    // Links open through the host.
    await insight.locator("a.open").click();
    // The view asks the host by message: wait for it to arrive, not for a time.
    await page.waitForFunction(() => (globalThis as unknown as Host).hostLog.links.length > 0);
    expect(await page.evaluate(() => (globalThis as unknown as Host).hostLog.links.at(-1))).toBe(
      `${sandbox.url}/insights/aB3dE5fG`,
    );

    sandbox.insertNotebook({
      short_id: "allKinds",
      title: "Every component",
      content: {
        type: "doc",
        content: [
          { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "Every component" }] },
          {
            type: "ph-query",
            attrs: { query: { kind: "SavedInsightNode", shortId: "ins12345" }, title: "Signups" },
          },
          {
            type: "ph-query",
            attrs: { query: { kind: "DataTableNode", source: { kind: "HogQLQuery", query: "select 1" } } },
          },
          { type: "ph-recording", attrs: { id: "rec-1", timestampMs: 5000 } },
          { type: "ph-person", attrs: { id: "p-1", distinctId: "ada@example.com" } },
          { type: "ph-feature-flag", attrs: { id: 7, title: "new-checkout" } },
          { type: "ph-survey", attrs: { id: "s-9", title: "NPS" } },
          { type: "ph-experiment", attrs: { id: 3 } },
          { type: "ph-cohort", attrs: { id: 4, title: "Power users" } },
          { type: "ph-something-new", attrs: { id: "x" } },
        ],
      },
    });
    frame = await show("notebooks-retrieve", { short_id: "allKinds" });
    const cards = await frame.locator(".card").evaluateAll((all) =>
      all.map((card) => [
        card.getAttribute("data-type"),
        card.querySelector(".title")?.textContent,
        card
          .querySelector("a.open")
          ?.getAttribute("href")
          ?.replace(/^.*\/project\/[^/]+|^http:\/\/[^/]+/, ""),
      ]),
    );
    expect(cards).toEqual([
      ["ph-query", "Signups", "/insights/ins12345"],
      ["ph-query", "HogQL", undefined],
      ["ph-recording", "Recording", "/replay/rec-1"],
      ["ph-person", "ada@example.com", "/person/ada%40example.com"],
      ["ph-feature-flag", "new-checkout", "/feature_flags/7"],
      ["ph-survey", "NPS", "/surveys/s-9"],
      ["ph-experiment", "Experiment", "/experiments/3"],
      ["ph-cohort", "Power users", "/cohorts/4"],
      ["ph-something-new", "something new", undefined],
    ]);
    expect(await frame.locator('.card[data-type="ph-recording"] .chip').allTextContents()).toEqual([
      "▶ 0:05",
    ]);
    await screenshot("components");
  });

  it("renders what people wrote as text, links only to the web, and asks no other origin for anything", async () => {
    sandbox.insertNotebook({
      short_id: "tricky01",
      title: "Tricky",
      content: {
        type: "doc",
        content: [
          { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "Tricky" }] },
          {
            type: "paragraph",
            content: [
              { type: "text", text: '<img src="https://example.com/x.png" onerror="alert(1)">' },
              {
                type: "text",
                text: "bad link",
                marks: [{ type: "link", attrs: { href: "javascript:alert(1)" } }],
              },
              {
                type: "text",
                text: " good",
                marks: [{ type: "link", attrs: { href: "https://posthog.com" } }],
              },
            ],
          },
          {
            type: "taskList",
            content: [
              {
                type: "taskItem",
                attrs: { checked: true },
                content: [{ type: "paragraph", content: [{ type: "text", text: "done" }] }],
              },
              {
                type: "taskItem",
                attrs: { checked: false },
                content: [{ type: "paragraph", content: [{ type: "text", text: "todo" }] }],
              },
            ],
          },
          { type: "ph-image", attrs: { src: "https://example.com/chart.png" } },
        ],
      },
    });
    const frame = await show("notebooks-retrieve", { short_id: "tricky01" });
    expect(await frame.locator("img").count()).toBe(0);
    expect(await frame.locator("p").first().textContent()).toContain('<img src="https://example.com/x.png"');
    expect(
      await frame.locator("article a").evaluateAll((links) => links.map((a) => a.getAttribute("href"))),
    ).toEqual(["https://posthog.com/"]);
    expect(await frame.locator("li.task input:checked").count()).toBe(1);
    expect(requests).toEqual([]);
  });

  it("renders a 100 KB notebook whole", async () => {
    const content: unknown[] = [
      { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "Long notebook" }] },
    ];
    for (let i = 0; JSON.stringify(content).length < 100_000; i++) {
      content.push(
        { type: "heading", attrs: { level: 2 }, content: [{ type: "text", text: `Section ${i}` }] },
        {
          type: "paragraph",
          content: [
            { type: "text", text: `Paragraph ${i} with ` },
            { type: "text", text: "bold", marks: [{ type: "bold" }] },
            { type: "text", text: " and a sentence long enough to wrap across the width of the view." },
          ],
        },
        {
          type: "bulletList",
          content: [
            {
              type: "listItem",
              content: [{ type: "paragraph", content: [{ type: "text", text: `item ${i}` }] }],
            },
          ],
        },
        {
          type: "ph-query",
          attrs: { query: { kind: "SavedInsightNode", shortId: `ins${i}` }, title: `Insight ${i}` },
        },
      );
    }
    sandbox.insertNotebook({
      short_id: "long0001",
      title: "Long notebook",
      content: { type: "doc", content },
    });
    const frame = await show("notebooks-retrieve", { short_id: "long0001" });
    expect(await frame.locator("article > section.block").count()).toBe(content.length);
    // How long building the DOM took, for docs/app.md (measured, not asserted: the machine is shared).
    process.stderr.write(
      `notebook view: a 100 KB notebook (${content.length} blocks) rendered in ${await frame.getAttribute("#root", "data-rendered")} ms\n`,
    );
  });

  it("highlights what a write changed, and saves a person's correction through the write path", async () => {
    const frame = await show("notebooks-edit", {
      short_id: "wkMetric",
      old_markdown: "Numbers for the Monday review.",
      new_markdown: "Numbers for the Tuesday review.",
    });
    expect(await frame.locator(".block.changed > :first-child").allTextContents()).toEqual([
      "Numbers for the Tuesday review. Targets are in the planning doc.",
    ]);
    expect(await frame.textContent(".badge.changed")).toMatch(/^1 block changed since version \d+$/);

    // The person corrects the quote.
    const quote = frame.locator(".block", { has: frame.locator("blockquote") });
    await quote.hover();
    await quote.locator("button.edit").click();
    const area = frame.locator(".editor textarea");
    expect(await area.inputValue()).toBe("> Signups are seasonal: compare with the same week last year.");
    await area.fill("> Signups are seasonal: compare with the same week two years ago.");
    await frame.locator(".editor button.primary").click();
    await frame.waitForSelector(".status:has-text('Saved')");
    expect(JSON.stringify(sandbox.getNotebook("wkMetric")?.content)).toContain(
      "the same week two years ago.",
    );
    expect(await frame.locator(".block.changed > :first-child").allTextContents()).toEqual([
      "Signups are seasonal: compare with the same week two years ago.",
    ]);
    await page.waitForFunction(() =>
      /The person corrected notebook wkMetric/.test(
        String((globalThis as unknown as Host).hostLog.context.at(-1)),
      ),
    );
    await screenshot("edited-wkMetric");
  });

  it("shows a refused write with its reason, and the notebook stays as it was", async () => {
    const frame = await show("notebooks-retrieve", { short_id: "chk9Drop" });
    const stored = JSON.stringify(sandbox.getNotebook("chk9Drop")?.content);
    const paragraph = frame.locator(".block", { hasText: "Conversion from cart to payment" });
    await paragraph.hover();
    await paragraph.locator("button.edit").click();
    const area = frame.locator(".editor textarea");
    await area.fill((await area.inputValue()).replace("fell", "dropped"));
    sabotage.lossy = true;
    try {
      await frame.locator(".editor button.primary").click();
      const refusal = frame.locator(".editor .status.error");
      await refusal.waitFor();
      expect(await refusal.textContent()).toMatch(/^Not saved: This write would lose bold formatting/);
    } finally {
      sabotage.lossy = false;
    }
    expect(JSON.stringify(sandbox.getNotebook("chk9Drop")?.content)).toBe(stored);
    await screenshot("refused-chk9Drop");
  });
});
