/**
 * The notebook view: an MCP App that shows the notebook a tool result is about, highlights what a
 * write changed, and lets the person correct a block (saved through notebook-view-save, the agent's
 * own write path). It talks to nothing but its host (the ext-apps `App`, over postMessage).
 */
import { App, applyDocumentTheme, applyHostStyleVariables } from "@modelcontextprotocol/ext-apps";
import { changedPassage } from "./passage.js";
import { collectTimestamps, el, type JsonNode, renderBlock } from "./render.js";

interface ViewDoc {
  short_id: string;
  title: string | null;
  version: number;
  url: string | null;
  format: "v1" | "v2" | "empty" | "other";
  doc: { type: "doc"; content: JsonNode[] };
  markdown: string;
  blocks: ([number, number] | null)[] | null;
  changes?: { from_version: number; changed: number[]; removed: number };
}

type ToolResult = {
  isError?: boolean;
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown> | undefined;
};

const WRITES = new Set(["notebooks-create", "notebooks-edit", "notebooks-partial-update"]);

const root = document.getElementById("root") as HTMLElement;
const app = new App({ name: "posthog-notebook-view", version: "1.0.0" }, {});

let toolName: string | undefined;
let projectId: unknown;
let current: ViewDoc | undefined;

function textOf(result: ToolResult): string {
  return (result.content ?? [])
    .map((block) => (block.type === "text" ? (block.text ?? "") : ""))
    .join("\n")
    .trim();
}

function show(...children: (Node | string)[]): void {
  root.replaceChildren(...children);
}

function status(kind: "info" | "error", text: string): HTMLElement {
  return el("div", { class: `status ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

app.ontoolinput = (params) => {
  projectId = (params.arguments as Record<string, unknown> | undefined)?.project_id;
};

app.ontoolresult = (params) => {
  const result = params as ToolResult;
  toolName ??= app.getHostContext()?.toolInfo?.tool.name;
  if (result.isError) {
    show(status("error", textOf(result) || "The tool failed."));
    return;
  }
  const data = result.structuredContent ?? {};
  const shortId = data.short_id;
  if (typeof shortId !== "string") {
    show(status("info", "This result holds no notebook to show."));
    return;
  }
  // A write's result: show what it changed. (Without the tool's name: retrieve's has "shown".)
  const wrote = toolName ? WRITES.has(toolName) : !("shown" in data);
  void load(
    shortId,
    typeof data.version === "number" ? data.version : undefined,
    wrote,
    toolName === "notebooks-create",
  );
};

app.onhostcontextchanged = (context) => {
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
};

async function callTool(name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const withProject = projectId === undefined ? args : { ...args, project_id: projectId };
  return (await app.callServerTool({ name, arguments: withProject })) as ToolResult;
}

async function load(shortId: string, version: number | undefined, changes: boolean, created = false) {
  show(status("info", "Loading the notebook…"));
  try {
    const result = await callTool("notebook-view-read", {
      short_id: shortId,
      ...(version !== undefined ? { version } : {}),
      ...(changes ? { changes: true } : {}),
    });
    if (result.isError) {
      show(status("error", textOf(result)));
      return;
    }
    current = result.structuredContent as unknown as ViewDoc;
    render(current, created);
  } catch (error) {
    show(
      status(
        "error",
        `The notebook could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  }
}

function projectUrl(url: string | null): string | null {
  if (!url) return null;
  const at = url.lastIndexOf("/notebooks/");
  return at === -1 ? null : url.slice(0, at);
}

function render(view: ViewDoc, created: boolean, notice?: HTMLElement): void {
  const started = performance.now();
  const blocks = view.doc.content;
  const options = { projectUrl: projectUrl(view.url), timestamps: collectTimestamps(blocks) };
  const changed = new Set(created ? blocks.map((_, i) => i) : (view.changes?.changed ?? []));
  const header = el(
    "header",
    {},
    // PostHog shows the first heading as the title: the header repeats it only when there is none.
    firstHeading(blocks) === (view.title ?? "")
      ? null
      : el("h1", { class: "notebook-title" }, view.title ?? "Untitled notebook"),
    el(
      "div",
      { class: "facts" },
      el("span", {}, `Version ${view.version}`),
      view.format === "v2" ? el("span", { class: "badge" }, "Markdown notebook") : null,
      created ? el("span", { class: "badge new" }, "New notebook") : null,
      !created && view.changes
        ? el(
            "span",
            { class: "badge changed" },
            changeSummary(view.changes.changed.length, view.changes.removed, view.changes.from_version),
          )
        : null,
      view.url
        ? el("a", { href: view.url, target: "_blank", rel: "noopener noreferrer" }, "Open in PostHog ↗")
        : null,
      view.blocks === null && view.markdown !== ""
        ? button("Edit Markdown", () => openEditor(view, null, article))
        : null,
    ),
  );
  const article = el("article", { class: "notebook" });
  blocks.forEach((node, index) => {
    const wrapper = el("section", {
      class: changed.has(index) ? "block changed" : "block",
      "data-index": String(index),
    });
    wrapper.append(renderBlock(node, options));
    const range = view.blocks?.[index];
    if (range) {
      wrapper.append(
        el(
          "button",
          { class: "edit", type: "button", title: "Correct this block", "aria-label": "Edit block" },
          "✎",
        ),
      );
      (wrapper.lastChild as HTMLElement).addEventListener("click", () => openEditor(view, index, wrapper));
    }
    article.append(wrapper);
  });
  if (blocks.length === 0) article.append(el("p", { class: "empty" }, "This notebook is empty."));
  show(...(notice ? [notice] : []), header, article);
  root.dataset.rendered = String(Math.round(performance.now() - started));
}

function firstHeading(blocks: JsonNode[]): string | null {
  const first = blocks[0];
  if (first?.type !== "heading" || !Array.isArray(first.content)) return null;
  return (first.content as JsonNode[]).map((n) => (typeof n.text === "string" ? n.text : "")).join("");
}

function changeSummary(changed: number, removed: number, from: number): string {
  const parts = [];
  if (changed > 0) parts.push(`${changed} block${changed === 1 ? "" : "s"} changed`);
  if (removed > 0) parts.push(`${removed} removed`);
  return `${parts.join(", ") || "No block changed"} since version ${from}`;
}

function button(label: string, onClick: () => void, kind = ""): HTMLElement {
  const b = el("button", { type: "button", class: kind || null }, label);
  b.addEventListener("click", onClick);
  return b;
}

/** The edit pane for one block (index), or for the whole Markdown (null: v2 notebooks). */
function openEditor(view: ViewDoc, index: number | null, anchor: HTMLElement): void {
  for (const open of document.querySelectorAll(".editor")) open.remove();
  const range = index === null ? ([0, view.markdown.length] as const) : view.blocks?.[index];
  if (!range) return;
  const [start, end] = range;
  const original = view.markdown.slice(start, end);
  const area = el("textarea", {
    "aria-label": "Markdown of this block",
    spellcheck: "true",
  }) as HTMLTextAreaElement;
  area.value = original;
  area.rows = Math.min(20, Math.max(3, original.split("\n").length + 1));
  const message = el("div", { class: "message", "aria-live": "polite" });
  const save = button(
    "Save",
    () => {
      const whole = view.markdown.slice(0, start) + area.value + view.markdown.slice(end);
      const passage = changedPassage(view.markdown, whole);
      if (!passage) {
        message.replaceChildren(status("info", "Nothing changed."));
        return;
      }
      (save as HTMLButtonElement).disabled = true;
      message.replaceChildren(status("info", "Saving…"));
      void saveEdit(view, passage).then((failure) => {
        (save as HTMLButtonElement).disabled = false;
        if (failure) message.replaceChildren(status("error", `Not saved: ${failure}`));
      });
    },
    "primary",
  );
  const pane = el(
    "div",
    { class: "editor" },
    el(
      "div",
      { class: "hint" },
      "Correct the Markdown; component tags like <Query …/> must stay as they are.",
    ),
    area,
    el(
      "div",
      { class: "actions" },
      save,
      button("Cancel", () => pane.remove()),
    ),
    message,
  );
  if (index === null) anchor.before(pane);
  else anchor.after(pane);
  area.focus();
}

/** Saves the person's correction; the reason it was refused, or null once saved and shown. */
async function saveEdit(view: ViewDoc, passage: { old: string; new: string }): Promise<string | null> {
  try {
    const result = await callTool("notebook-view-save", {
      short_id: view.short_id,
      old_markdown: passage.old,
      new_markdown: passage.new,
      version: view.version,
    });
    if (result.isError) return textOf(result) || "the server refused the write.";
    const saved = result.structuredContent as { version?: number } | undefined;
    const reloaded = await callTool("notebook-view-read", {
      short_id: view.short_id,
      ...(typeof saved?.version === "number" ? { version: saved.version } : {}),
      changes: true,
    });
    if (reloaded.isError) return textOf(reloaded);
    current = reloaded.structuredContent as unknown as ViewDoc;
    render(current, false, status("info", `Saved: the notebook is now at version ${current.version}.`));
    void tellModel(current);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Lets the agent know the person changed the notebook, where the host takes such context. */
async function tellModel(view: ViewDoc): Promise<void> {
  if (!app.getHostCapabilities()?.updateModelContext) return;
  await app
    .updateModelContext({
      content: [
        {
          type: "text",
          text: `The person corrected notebook ${view.short_id} in the notebook view; it is now at version ${view.version}. Retrieve it again before editing it.`,
        },
      ],
    })
    .catch(() => undefined);
}

// Links open through the host (a sandboxed view cannot open windows itself), in the browser.
document.addEventListener("click", (event) => {
  const link = (event.target as Element | null)?.closest?.("a[href]");
  if (!link) return;
  event.preventDefault();
  void app.openLink({ url: (link as HTMLAnchorElement).href }).catch(() => undefined);
});

show(status("info", "Waiting for the notebook…"));
await app.connect();
const context = app.getHostContext();
toolName = context?.toolInfo?.tool.name;
if (context?.theme) applyDocumentTheme(context.theme);
if (context?.styles?.variables) applyHostStyleVariables(context.styles.variables);
