// Sessions and listen streams opened as MCP clients open them, over raw HTTP (for the benches that
// measure what they cost the server: bench/http-sessions.mjs, bench/kept-memory.mjs, and (g) of bench/availability.mjs).

const headers = (key, extra = {}) => ({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  authorization: `Bearer ${key}`,
  ...extra,
});

/** POSTs `body` (as JSON) to `url` with `key`, in `session` if given; the answer read whole. */
export async function post(url, key, body, session) {
  const response = await fetch(url, {
    method: "POST",
    headers: headers(key, session ? { "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" } : {}),
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, session: response.headers.get("mcp-session-id") };
}

/** A notebook URI, distinct for each `i` and `n`. */
export const notebookUri = (i, n) =>
  `posthog://notebooks/${String(i).padStart(8, "0")}${String(n).padStart(24, "0")}`;

/**
 * A 2025 session of `key` (initialize, initialized, tools/list), its client named `name`, watching
 * the `watched` URIs; the initialize's answer (its `session`: the session's id, if opened).
 */
export async function openSession(url, key, name, watched = []) {
  const init = await post(url, key, {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name, version: "1" } },
  });
  if (!init.session) return init;
  await post(url, key, { jsonrpc: "2.0", method: "notifications/initialized" }, init.session);
  await post(url, key, { jsonrpc: "2.0", id: 2, method: "tools/list" }, init.session);
  for (const [n, uri] of watched.entries()) {
    await post(
      url,
      key,
      { jsonrpc: "2.0", id: 3 + n, method: "resources/subscribe", params: { uri } },
      init.session,
    );
  }
  return init;
}

/**
 * A 2026 listen stream of `key` (id `id`) watching `watched` URIs, with `pad` characters of protocol
 * `_meta` more; its acknowledgement read. Its `abort` ends it.
 */
export async function openStream(url, key, id, watched, pad = 0) {
  const meta = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    ...(pad > 0 ? { "io.modelcontextprotocol/pad": "p".repeat(pad) } : {}),
  };
  const abort = new AbortController();
  const response = await fetch(url, {
    method: "POST",
    headers: headers(key, { "mcp-protocol-version": "2026-07-28", "mcp-method": "subscriptions/listen" }),
    body: JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "subscriptions/listen",
      params: { _meta: meta, notifications: { resourceSubscriptions: watched } },
    }),
    signal: abort.signal,
  });
  if (response.status !== 200) return { status: response.status, text: await response.text() };
  await response.body.getReader().read(); // the acknowledgement
  return { status: 200, abort };
}

/** Runs `open(i)` for `count` values of i from `from`, twenty at a time; the statuses counted. */
export async function openMany(count, open, from = 0) {
  const statuses = {};
  for (let done = 0; done < count; ) {
    const batch = Math.min(20, count - done);
    const answers = await Promise.all(Array.from({ length: batch }, (_, k) => open(from + done + k)));
    for (const answer of answers) {
      const status = answer?.status ?? "none";
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
    done += batch;
  }
  return statuses;
}

/** Stream `i` of `key`, watching one notebook, or (`heavy`) 1,000 and 4 KB of protocol `_meta`. */
export function openWatchingStream(url, key, i, heavy) {
  const watched = Array.from({ length: heavy ? 1_000 : 1 }, (_, n) => notebookUri(i, n));
  return openStream(url, key, i + 1, watched, heavy ? 4_000 : 0);
}
