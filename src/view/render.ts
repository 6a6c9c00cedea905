/**
 * A notebook document (TipTap JSON, as PostHog stores v1 notebooks) made into DOM, as PostHog shows
 * it at a glance: text blocks as HTML, PostHog's components as cards. Every piece of people's text
 * goes in as a text node and every attribute through setAttribute, links only to http(s) and
 * mailto: nothing people wrote is ever parsed as HTML.
 */

export interface JsonNode {
  type?: unknown;
  attrs?: Record<string, unknown>;
  content?: unknown;
  marks?: unknown;
  text?: unknown;
}

export interface RenderOptions {
  /** Where the notebook's project lives in PostHog's web app (`…/project/1`), or null (sandbox). */
  projectUrl: string | null;
  /** Replay timestamps (ms, or null) in the document, by recording id: shown on its card. */
  timestamps: Map<string, (number | null)[]>;
}

type Child = Node | string | null | undefined | false;

/** An element with attributes (values as given, never parsed) and children (strings as text). */
export function el(tag: string, attrs: Record<string, string | null | undefined> = {}, ...children: Child[]) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function nodes(value: unknown): JsonNode[] {
  return Array.isArray(value) ? value.filter((n): n is JsonNode => typeof n === "object" && n !== null) : [];
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : null;
}

/** A URL people wrote, if it is one a link may point to. */
export function safeUrl(raw: unknown): string | null {
  if (typeof raw !== "string") return null;
  try {
    const url = new URL(raw.trim());
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** Milliseconds as PostHog shows a replay timestamp: m:ss, or h:mm:ss. */
export function clock(ms: number | null): string {
  const total = Math.max(0, Math.floor((ms ?? 0) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Every replay timestamp in a document, by recording. */
export function collectTimestamps(doc: JsonNode[]): Map<string, (number | null)[]> {
  const found = new Map<string, (number | null)[]>();
  const stack = [...doc];
  while (stack.length > 0) {
    const node = stack.pop() as JsonNode;
    if (node.type === "ph-replay-timestamp") {
      const id = str(node.attrs?.sessionRecordingId);
      const at = node.attrs?.playbackTime;
      if (id) {
        const list = found.get(id) ?? [];
        list.push(typeof at === "number" ? at : null);
        found.set(id, list);
      }
    }
    stack.push(...nodes(node.content));
  }
  for (const list of found.values()) list.sort((a, b) => (a ?? 0) - (b ?? 0));
  return found;
}

/** One top-level block of a notebook. */
export function renderBlock(node: JsonNode, options: RenderOptions): HTMLElement {
  const type = typeof node.type === "string" ? node.type : "";
  if (type.startsWith("ph-")) return card(type, node.attrs ?? {}, options);
  return block(node, options);
}

function block(node: JsonNode, options: RenderOptions): HTMLElement {
  const attrs = node.attrs ?? {};
  const inner = () => nodes(node.content).map((child) => child_(child, options));
  switch (node.type) {
    case "heading": {
      const level = Math.min(6, Math.max(1, Number(attrs.level) || 1));
      return el(`h${level}`, {}, ...inline(node, options));
    }
    case "paragraph":
      return el("p", {}, ...inline(node, options));
    case "blockquote":
      return el("blockquote", {}, ...inner());
    case "bulletList":
      return el("ul", {}, ...inner());
    case "orderedList": {
      const start = Number(attrs.start);
      return el("ol", { start: Number.isInteger(start) && start !== 1 ? String(start) : null }, ...inner());
    }
    case "listItem":
      return el("li", {}, ...inner());
    case "taskList":
      return el("ul", { class: "tasks" }, ...inner());
    case "taskItem": {
      const box = el("input", { type: "checkbox", disabled: "", "aria-label": "task" }) as HTMLInputElement;
      box.checked = attrs.checked === true;
      return el(
        "li",
        { class: attrs.checked === true ? "task done" : "task" },
        box,
        el("div", {}, ...inner()),
      );
    }
    case "codeBlock": {
      const language = str(attrs.language);
      return el(
        "pre",
        { "data-language": language },
        el(
          "code",
          {},
          nodes(node.content)
            .map((t) => (typeof t.text === "string" ? t.text : ""))
            .join(""),
        ),
      );
    }
    case "horizontalRule":
      return el("hr");
    case "table":
      return el("div", { class: "table" }, el("table", {}, el("tbody", {}, ...inner())));
    case "tableRow":
      return el("tr", {}, ...inner());
    case "tableHeader":
    case "tableCell": {
      const span = (v: unknown) => (Number.isInteger(v) && (v as number) > 1 ? String(v) : null);
      return el(
        node.type === "tableHeader" ? "th" : "td",
        { colspan: span(attrs.colspan), rowspan: span(attrs.rowspan) },
        ...inner(),
      );
    }
    default: {
      // A text block of a kind this view does not know: its text, as a paragraph.
      return el("div", { class: "unknown" }, ...inline(node, options));
    }
  }
}

/** A block inside another (a list item's paragraph, a quote's list). */
function child_(node: JsonNode, options: RenderOptions): HTMLElement | Text {
  if (node.type === "text" || node.type === "hardBreak" || isInlineComponent(node.type)) {
    return el("span", {}, ...inline({ content: [node] }, options));
  }
  return renderBlock(node, options);
}

function isInlineComponent(type: unknown): boolean {
  return type === "ph-backlink" || type === "ph-replay-timestamp" || type === "ph-mention";
}

function inline(node: JsonNode, options: RenderOptions): Node[] {
  const out: Node[] = [];
  for (const child of nodes(node.content)) {
    if (child.type === "text")
      out.push(marked(typeof child.text === "string" ? child.text : "", child.marks));
    else if (child.type === "hardBreak") out.push(el("br"));
    else if (child.type === "ph-replay-timestamp") {
      out.push(
        el(
          "span",
          { class: "chip time", title: "Replay timestamp" },
          `▶ ${clock(num(child.attrs?.playbackTime))}`,
        ),
      );
    } else if (child.type === "ph-mention") {
      out.push(el("span", { class: "chip mention" }, `@member ${str(child.attrs?.id) ?? ""}`.trim()));
    } else if (child.type === "ph-backlink") {
      const href = safeUrl(child.attrs?.href);
      out.push(
        el(
          "a",
          { class: "chip backlink", href, target: "_blank", rel: "noopener noreferrer" },
          str(child.attrs?.title) ?? str(child.attrs?.href) ?? "link",
        ),
      );
    } else if (typeof child.type === "string" && child.type.startsWith("ph-")) {
      out.push(card(child.type, child.attrs ?? {}, options));
    } else if (nodes(child.content).length > 0) out.push(...inline(child, options));
  }
  return out;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function marked(text: string, marks: unknown): Node {
  let node: Node = document.createTextNode(text);
  for (const mark of nodes(marks)) {
    switch (mark.type) {
      case "bold":
        node = el("strong", {}, node);
        break;
      case "italic":
        node = el("em", {}, node);
        break;
      case "strike":
        node = el("s", {}, node);
        break;
      case "underline":
        node = el("u", {}, node);
        break;
      case "code":
        node = el("code", {}, node);
        break;
      case "link": {
        const href = safeUrl(mark.attrs?.href);
        node = href
          ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, node)
          : el("span", { class: "link" }, node);
        break;
      }
      case "comment":
        node = el("mark", { class: "comment", title: "Comment" }, node);
        break;
      default:
        break;
    }
  }
  return node;
}

/** What each PostHog component is called on its card, and where it opens in PostHog. */
const KINDS: Record<string, { label: string; path?: (a: Record<string, unknown>) => string | null }> = {
  "ph-query": { label: "Insight", path: (a) => queryPath(a.query) },
  "ph-insight": { label: "Insight", path: (a) => (str(a.id) ? `insights/${enc(a.id)}` : null) },
  "ph-recording": { label: "Recording", path: (a) => (str(a.id) ? `replay/${enc(a.id)}` : null) },
  "ph-recording-playlist": {
    label: "Recording playlist",
    path: (a) => (str(a.id) ? `replay/playlists/${enc(a.id)}` : "replay"),
  },
  "ph-person": {
    label: "Person",
    path: (a) =>
      str(a.distinctId) ? `person/${enc(a.distinctId)}` : str(a.id) ? `persons/${enc(a.id)}` : null,
  },
  "ph-group": {
    label: "Group",
    path: (a) => (str(a.id) && str(a.groupTypeIndex) ? `groups/${enc(a.groupTypeIndex)}/${enc(a.id)}` : null),
  },
  "ph-cohort": { label: "Cohort", path: (a) => (str(a.id) ? `cohorts/${enc(a.id)}` : null) },
  "ph-feature-flag": {
    label: "Feature flag",
    path: (a) => (str(a.id) ? `feature_flags/${enc(a.id)}` : null),
  },
  "ph-feature-flag-code-example": {
    label: "Feature flag code",
    path: (a) => (str(a.id) ? `feature_flags/${enc(a.id)}` : null),
  },
  "ph-experiment": {
    label: "Experiment",
    path: (a) => (str(a.id) ? `experiments/${enc(a.id)}` : null),
  },
  "ph-early-access-feature": {
    label: "Early access feature",
    path: (a) => (str(a.id) ? `early_access_features/${enc(a.id)}` : null),
  },
  "ph-survey": { label: "Survey", path: (a) => (str(a.id) ? `surveys/${enc(a.id)}` : null) },
  "ph-image": { label: "Image" },
  "ph-embed": { label: "Embed" },
  "ph-latex": { label: "LaTeX" },
  "ph-python": { label: "Python" },
  "ph-python-v2": { label: "Python" },
  "ph-hogql-sql": { label: "SQL" },
  "ph-duck-sql": { label: "SQL" },
  "ph-sql-v2": { label: "SQL" },
  "ph-map": { label: "Map" },
  "ph-person-feed": { label: "Person feed" },
  "ph-llm-trace": {
    label: "LLM trace",
    path: (a) => (str(a.traceId) ? `llm-observability/traces/${enc(a.traceId)}` : null),
  },
  "ph-error-tracking-issue": {
    label: "Issue",
    path: (a) => (str(a.id) ? `error_tracking/${enc(a.id)}` : null),
  },
};

function enc(value: unknown): string {
  return encodeURIComponent(String(value));
}

function queryPath(query: unknown): string | null {
  if (typeof query !== "object" || query === null) return null;
  const q = query as Record<string, unknown>;
  if (q.kind === "SavedInsightNode" && str(q.shortId)) return `insights/${enc(q.shortId)}`;
  return null;
}

/** The HogQL a query node holds, when it is or wraps one. */
function hogql(query: unknown): string | null {
  if (typeof query !== "object" || query === null) return null;
  const q = query as Record<string, unknown>;
  if (q.kind === "HogQLQuery" && typeof q.query === "string") return q.query;
  return hogql(q.source);
}

function queryKind(query: unknown): string | null {
  if (typeof query !== "object" || query === null) return null;
  const q = query as Record<string, unknown>;
  const source = q.source as Record<string, unknown> | undefined;
  const kind = str(source?.kind) ?? str(q.kind);
  return kind ? kind.replace(/Node$|Query$/, "") : null;
}

function card(type: string, attrs: Record<string, unknown>, options: RenderOptions): HTMLElement {
  const kind: { label: string; path?: (a: Record<string, unknown>) => string | null } = KINDS[type] ?? {
    label: type.replace(/^ph-/, "").replace(/-/g, " "),
  };
  const path = kind.path?.(attrs) ?? null;
  const href = path && options.projectUrl ? `${options.projectUrl}/${path}` : null;
  const title =
    str(attrs.title) ??
    (type === "ph-query" ? (queryKind(attrs.query) ?? "Query") : null) ??
    (type === "ph-person" ? (str(attrs.distinctId) ?? str(attrs.id)) : null) ??
    kind.label;
  const details: Child[] = [];
  const id = str(attrs.id);
  if (type === "ph-query") {
    const q = attrs.query as Record<string, unknown> | undefined;
    if (q?.kind === "SavedInsightNode" && str(q.shortId))
      details.push(el("span", { class: "meta" }, `Saved insight ${q.shortId}`));
    const sql = hogql(attrs.query);
    if (sql) details.push(el("pre", { class: "snippet" }, el("code", {}, sql)));
  } else if (type === "ph-recording") {
    if (id) details.push(el("span", { class: "meta" }, `Session ${id}`));
    const times = (id ? options.timestamps.get(id) : undefined) ?? [];
    const start = num(attrs.timestampMs);
    const chips = [...(start !== null ? [start] : []), ...times];
    if (chips.length > 0) {
      details.push(
        el(
          "div",
          { class: "chips" },
          ...chips.map((t) => el("span", { class: "chip time" }, `▶ ${clock(t)}`)),
        ),
      );
    }
  } else if (type === "ph-person") {
    const who = str(attrs.distinctId) ?? id;
    if (who && who !== title) details.push(el("span", { class: "meta" }, who));
  } else if (["ph-python", "ph-python-v2", "ph-hogql-sql", "ph-duck-sql", "ph-sql-v2"].includes(type)) {
    const code = str(attrs.code);
    if (code) details.push(el("pre", { class: "snippet" }, el("code", {}, code)));
  } else if (type === "ph-latex") {
    const content = str(attrs.content);
    if (content) details.push(el("pre", { class: "snippet" }, el("code", {}, content)));
  } else if (type === "ph-image" || type === "ph-embed") {
    // Shown as where it is, never loaded: the view makes no request to any other origin.
    const src = str(attrs.src);
    if (src) details.push(el("span", { class: "meta" }, src));
  } else if (id && id !== title) {
    details.push(el("span", { class: "meta" }, `#${id}`));
  }
  return el(
    "div",
    { class: "card", "data-type": type },
    el(
      "div",
      { class: "card-head" },
      title === kind.label ? null : el("span", { class: "kind" }, kind.label),
      el("span", { class: "title" }, title),
      href
        ? el("a", { class: "open", href, target: "_blank", rel: "noopener noreferrer" }, "Open in PostHog ↗")
        : null,
    ),
    ...(details.length > 0 ? [el("div", { class: "card-body" }, ...details)] : []),
  );
}
