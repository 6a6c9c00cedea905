// PostHog's own MCP notebook tools as they are defined today, for the bench's comparison, modelled
// from PostHog/posthog (`services/mcp`, `products/notebooks/mcp/tools.yaml`; see bench/README.md):
//
// - notebooks-list / -retrieve / -partial-update / -create: one request to the REST API each
//   (list takes `search`); the answer is the API's JSON with a `_posthogUrl` added.
// - notebooks-markdown-retrieve: `GET notebooks/{id}/markdown/` → `{markdown}` (null for a
//   rich-text notebook). The sandbox has no such route: the bench reads the notebook (one
//   request, as the route is) and takes its Markdown from the document.
// - notebooks-create-markdown: `{title, markdown}` → one POST of a Markdown (v2) notebook whose
//   Markdown is `# title` and the body; answers `{notebook_id, title, _posthogUrl}`.
// - notebook-edit: the server reads the notebook (and, for a Markdown notebook, its Markdown:
//   a second GET), applies the change, and saves it with one POST to a collaboration endpoint
//   (`collab/save`, `collab/markdown_save`), which the sandbox does not have: the bench saves
//   with a PATCH instead (one request, as the POST is). Markdown notebooks take `old_markdown`/
//   `new_markdown` (`replace_all`); rich-text ones take `edits: [{type: "replace_text", find,
//   replace, all_occurrences}]` (text within text nodes) or `old_value`/`new_value` (a subtree,
//   or an array of nodes in its place). The answer is the whole notebook.
//
// Every answer reaches the agent as text only (no structuredContent: notebook tools have no UI
// app), encoded by `formatResponse`: TOON (`@toon-format/toon` with its defaults) with every
// `query` value spelled out as 2-space JSON. Newer versions cap a result to a per-client token
// budget (`capResponseToClientBudget`); a client with no profile, like the bench's, has none.
// `budgetTokens` applies one: a text (TOON) result over it is clipped at a line and a notice added.
import { encode } from "@toon-format/toon";

const QUERY = "__posthog_query_";

/** PostHog MCP's formatResponse: TOON, with `query` values as indented JSON. */
export function formatResponse(value) {
  const queries = [];
  const swap = (node) => {
    if (Array.isArray(node)) return node.map(swap);
    if (node === null || typeof node !== "object") return node;
    const out = {};
    for (const [key, child] of Object.entries(node)) {
      if (key === "query" && child !== null && typeof child === "object") {
        out[key] = `${QUERY}${queries.length}__`;
        queries.push(child);
      } else out[key] = swap(child);
    }
    return out;
  };
  let text = encode(swap(value));
  queries.forEach((query, i) => {
    text = text.replace(`${QUERY}${i}__`, JSON.stringify(query, null, 2));
  });
  return text;
}

/** capResponseToClientBudget for a text (non-JSON) result: the head that fits, cut at a line, and a notice. */
function capToBudget(text, budgetTokens) {
  if (!budgetTokens || text.length / 4 <= budgetTokens) return text;
  const tokens = Math.round(text.length / 4);
  const k = (n) => (n >= 1000 ? `${Math.round(n / 1000)}K` : String(n));
  const notice = `Result shortened to fit this client: the full result is about ${k(tokens)} tokens and the client accepts about ${k(budgetTokens)} per tool result. To read the rest, ask for less at a time: add filters, shorten the date range, lower the limit, or request a narrower field or detail level.`;
  const head = text.slice(0, Math.max(200, budgetTokens * 4 - notice.length - 2));
  const cut = head.lastIndexOf("\n");
  return `${cut > 0 ? head.slice(0, cut) : head}\n\n${notice}`;
}

const MARKDOWN_NODE = "ph-markdown-notebook";

/** A Markdown (v2) notebook's Markdown, or null for a rich-text one. */
function markdownOf(content) {
  const node = content?.content?.length === 1 ? content.content[0] : undefined;
  return node?.type === MARKDOWN_NODE && typeof node.attrs?.markdown === "string"
    ? node.attrs.markdown
    : null;
}

function withMarkdown(content, markdown) {
  const clone = structuredClone(content);
  clone.content[0].attrs = { ...clone.content[0].attrs, markdown };
  return clone;
}

function count(text, find) {
  let n = 0;
  for (let i = text.indexOf(find); i !== -1; i = text.indexOf(find, i + find.length)) n++;
  return n;
}

/** `text` with `find` replaced once (or everywhere), refusing as PostHog's tool does. */
function replaceUnique(text, find, replace, all, what) {
  const n = count(text, find);
  if (n === 0) throw new Error(`notebook-edit: ${what} was not found`);
  if (n > 1 && !all) throw new Error(`notebook-edit: ${what} matches ${n} places`);
  return all ? text.split(find).join(replace) : text.replace(find, () => replace);
}

/** replace_text edits applied to every text node (all edits must match). */
function replaceInTextNodes(doc, edits) {
  let out = doc;
  for (const edit of edits) {
    let hits = 0;
    const walk = (node) => {
      if (Array.isArray(node)) return node.map(walk);
      if (node === null || typeof node !== "object") return node;
      const copy = {};
      for (const [key, value] of Object.entries(node)) {
        if (
          key === "text" &&
          typeof value === "string" &&
          node.type === "text" &&
          value.includes(edit.find)
        ) {
          if (hits > 0 && !edit.all_occurrences) {
            copy[key] = value;
            continue;
          }
          hits += count(value, edit.find);
          copy[key] = edit.all_occurrences
            ? value.split(edit.find).join(edit.replace)
            : value.replace(edit.find, () => edit.replace);
        } else copy[key] = walk(value);
      }
      return copy;
    };
    out = walk(out);
    if (hits === 0) throw new Error(`notebook-edit: replace_text ${JSON.stringify(edit.find)} was not found`);
  }
  return out;
}

/** The top-level node deep-equal to `old` replaced by `replacement` (a node or an array of nodes). */
function replaceSubtree(doc, old, replacement) {
  const key = JSON.stringify(old);
  const at = doc.content.findIndex((node) => JSON.stringify(node) === key);
  if (at === -1) throw new Error("notebook-edit: old_value was not found");
  const nodes = Array.isArray(replacement) ? replacement : [replacement];
  return { ...doc, content: [...doc.content.slice(0, at), ...nodes, ...doc.content.slice(at + 1)] };
}

/** PostHog's tools against `sandbox` ({url, key}), counting what the agent reads and writes. */
export function posthogTools(sandbox, tally, { budgetTokens } = {}) {
  const base = `${sandbox.url}/api/projects/@current/notebooks/`;
  const web = (shortId) => `${sandbox.url}/project/1/notebooks${shortId ? `/${shortId}` : ""}`;
  async function api(method, path, body) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${sandbox.key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
    return json;
  }
  const tools = {
    "notebooks-list": async (args) => {
      const query = new URLSearchParams(Object.entries(args).map(([k, v]) => [k, String(v)]));
      return { ...(await api("GET", `?${query}`)), _posthogUrl: web() };
    },
    "notebooks-retrieve": async ({ short_id }) => ({
      ...(await api("GET", `${short_id}/`)),
      _posthogUrl: web(short_id),
    }),
    "notebooks-markdown-retrieve": async ({ short_id }) => ({
      markdown: markdownOf((await api("GET", `${short_id}/`)).content),
    }),
    "notebooks-create": async (args) => {
      const nb = await api("POST", "", args);
      return { ...nb, _posthogUrl: web(nb.short_id) };
    },
    "notebooks-create-markdown": async ({ title, markdown }) => {
      const body = markdown?.trim() ? `\n\n${markdown.trim()}` : "";
      const text = `# ${title}${body}`;
      const content = { type: "doc", content: [{ type: MARKDOWN_NODE, attrs: { markdown: text } }] };
      const nb = await api("POST", "", { title, content, text_content: text });
      return { notebook_id: nb.short_id, title, _posthogUrl: web(nb.short_id) };
    },
    "notebooks-partial-update": async ({ short_id, ...body }) => ({
      ...(await api("PATCH", `${short_id}/`, body)),
      _posthogUrl: web(short_id),
    }),
    "notebook-edit": async ({ short_id, ...params }) => {
      const nb = await api("GET", `${short_id}/`);
      let content;
      let text_content;
      if (params.old_markdown !== undefined) {
        const markdown = markdownOf((await api("GET", `${short_id}/`)).content); // GET markdown/
        if (markdown === null) throw new Error("notebook-edit: not a markdown notebook");
        const next = replaceUnique(
          markdown,
          params.old_markdown,
          params.new_markdown,
          params.replace_all,
          "old_markdown",
        );
        content = withMarkdown(nb.content, next);
        text_content = next;
      } else if (params.edits !== undefined) {
        content = replaceInTextNodes(nb.content, params.edits);
      } else {
        content = replaceSubtree(nb.content, params.old_value, params.new_value);
      }
      // POST collab/save or collab/markdown_save (a PATCH here): the saved notebook is the answer.
      return api("PATCH", `${short_id}/`, {
        content,
        ...(text_content ? { text_content } : {}),
        version: nb.version,
      });
    },
  };
  return async function call(name, args) {
    tally.calls += 1;
    tally.written += name.length + JSON.stringify(args).length;
    const result = await tools[name](args);
    tally.read += capToBudget(formatResponse(result), budgetTokens).length;
    return result;
  };
}
