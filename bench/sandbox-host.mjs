// The sandbox for the bench, in its own process (forked by run.mjs with an IPC channel), so that
// its CPU is not the bench's. It is the project's own startSandbox() (bundled from src/ by the
// bench), started with throttling off: the CLI keeps PostHog's 480 requests a minute per key, and
// one bench run sends more than that through its single key. Over IPC it answers what the CLI
// cannot: connections(), bulk seeding into a project, inserting a big notebook, request counts.
//
//   node bench/sandbox-host.mjs <sandbox bundle> <content bundle>
import { pathToFileURL } from "node:url";

const [sandboxPath, contentPath] = process.argv.slice(2);
const { startSandbox } = await import(pathToFileURL(sandboxPath).href);

const sandbox = await startSandbox({
  host: "127.0.0.1",
  port: 0,
  seed: true,
  rateLimit: false,
  maxRecordedRequests: 100_000,
});

const commands = {
  connections: () => sandbox.connections(),
  requestCount: () => sandbox.requests.length,
  /** The requests received from index `from` on: method, path and status. */
  requests: ({ from = 0 }) =>
    sandbox.requests.slice(from).map((r) => ({ method: r.method, path: r.path, status: r.status })),
  getNotebook: ({ shortId }) => sandbox.getNotebook(shortId),
  /** A full-scope key (each HTTP session of the throughput figure is a tenant with its own). */
  addKey({ value }) {
    sandbox.addKey({ value, scopes: ["*"] });
    return true;
  },
  fault({ fault }) {
    sandbox.fault(fault);
    return true;
  },
  clearFaults() {
    sandbox.clearFaults();
    return true;
  },
  /** A notebook from Markdown, converted with the project's own converter into a v1 document. */
  async insertMarkdown({ markdown, title, projectId, deleted }) {
    const content = await import(pathToFileURL(contentPath).href);
    const doc = content.markdownToDocument(markdown, { inlineTags: true }).doc;
    const nb = sandbox.insertNotebook({
      title,
      content: doc,
      text_content: content.deriveTextContent(doc),
      ...(projectId ? { projectId } : {}),
      ...(deleted ? { deleted } : {}),
    });
    return { short_id: nb.short_id, notebookBytes: Buffer.byteLength(JSON.stringify(nb)) };
  },
  async seed({ n, projectId }) {
    await sandbox.seedNotebooks(n, projectId);
    return n;
  },
  insert({ init }) {
    const nb = sandbox.insertNotebook(init);
    return { short_id: nb.short_id, bytes: JSON.stringify(nb).length };
  },
  /**
   * A big notebook: generated Markdown converted with the project's own converter into a v1
   * document of about `targetBytes` of JSON (headings, marks, lists, tables, code, components).
   */
  async insertGenerated({ targetBytes, title, projectId }) {
    const content = await import(pathToFileURL(contentPath).href);
    const { notebookMarkdown } = await import("./gen.mjs");
    // Sized on the whole notebook as the API serves it: the document plus its text_content.
    const probe = notebookMarkdown(100_000, 11);
    const probeDoc = content.markdownToDocument(probe, { inlineTags: true }).doc;
    const probeBytes =
      JSON.stringify(probeDoc).length + JSON.stringify(content.deriveTextContent(probeDoc)).length;
    const ratio = probeBytes / probe.length;
    const markdown = notebookMarkdown(Math.round(targetBytes / ratio), 11);
    const doc = content.markdownToDocument(markdown, { inlineTags: true }).doc;
    const nb = sandbox.insertNotebook({
      title,
      content: doc,
      text_content: content.deriveTextContent(doc),
      ...(projectId ? { projectId } : {}),
    });
    return {
      short_id: nb.short_id,
      markdownBytes: markdown.length,
      contentBytes: Buffer.byteLength(JSON.stringify(doc)),
      notebookBytes: Buffer.byteLength(JSON.stringify(nb)),
    };
  },
  async close() {
    await sandbox.close();
    setImmediate(() => process.exit(0));
    return true;
  },
};

process.on("message", async (msg) => {
  const { id, cmd, args } = msg ?? {};
  try {
    const fn = commands[cmd];
    if (!fn) throw new Error(`unknown command ${cmd}`);
    const value = await fn(args ?? {});
    process.send({ id, ok: true, value });
  } catch (error) {
    process.send({ id, ok: false, error: String(error?.stack ?? error) });
  }
});
// Die with the bench: the IPC channel closes when the parent goes, however it goes.
process.on("disconnect", () => process.exit(0));
process.send({ ready: true, url: sandbox.url, key: sandbox.defaultKey });
