// The same agent tasks done the way PostHog's own MCP server does them (its legacy notebook tools:
// notebooks-list, -create, -retrieve, -partial-update, -destroy), for the bench's comparison. As
// read from PostHog's services/mcp (see bench/README.md): each tool is one request to the REST API,
// and its answer reaches the agent as the API's JSON (ProseMirror content included) with a
// `_posthogUrl` added, encoded as TOON by `formatResponse` (the `@toon-format/toon` encoder with its
// defaults), where every `query` value is spelled out as 2-space JSON. No structured content.
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

/** PostHog's tools against `sandbox` ({url, key}), counting what the agent reads and writes. */
export function posthogTools(sandbox, tally) {
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
    "notebooks-create": async (args) => {
      const nb = await api("POST", "", args);
      return { ...nb, _posthogUrl: web(nb.short_id) };
    },
    "notebooks-partial-update": async ({ short_id, ...body }) => ({
      ...(await api("PATCH", `${short_id}/`, body)),
      _posthogUrl: web(short_id),
    }),
    "notebooks-destroy": async ({ short_id }) => api("PATCH", `${short_id}/`, { deleted: true }),
  };
  return async function call(name, args) {
    tally.calls += 1;
    tally.written += name.length + JSON.stringify(args).length;
    const result = await tools[name](args);
    tally.read += formatResponse(result).length;
    return result;
  };
}
