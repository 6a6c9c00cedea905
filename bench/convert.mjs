// Conversion throughput, in its own process (forked by run.mjs, so the bench's other work leaves
// nothing on this heap). Markdown → document and document → Markdown with the
// project's content module, against markdown-it's own render of the same Markdown with the same
// options the content module gives it (CommonMark + tables + strikethrough): the parsing floor.
//
//   node bench/convert.mjs <content bundle> <markdown bytes> <reps> <time budget ms>
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import MarkdownIt from "markdown-it";
import { notebookMarkdown } from "./gen.mjs";

const [contentPath, bytesArg, repsArg, budgetArg] = process.argv.slice(2);
const { markdownToDoc, docToMarkdown } = await import(pathToFileURL(contentPath).href);
const bytes = Number(bytesArg);
const reps = Number(repsArg);
const deadline = performance.now() + Number(budgetArg);

const floor = new MarkdownIt("commonmark", { html: false, linkify: false, typographer: false });
floor.enable(["table", "strikethrough"]);

const md = notebookMarkdown(bytes);
const mdBytes = Buffer.byteLength(md);
// No forced GC between runs: on V8 a full GC before each run kept markdown-it 3-5× slower than its
// steady state (it discards what the JIT learned); the warm-up below gets all three to steady state.
function timed(fn) {
  const t = performance.now();
  const out = fn();
  return { ms: performance.now() - t, out };
}

// Warm-up on a different, smaller text: JIT and the content module's lazily built parser. All
// three take 4-5 runs to reach steady state.
const sample = notebookMarkdown(Math.min(500_000, bytes), 7);
for (let i = 0; i < 5; i++) {
  docToMarkdown(markdownToDoc(sample));
  floor.render(sample);
}
// …and once on the measured text itself (not counted).
const doc = markdownToDoc(md);
floor.render(md);
const docBytes = Buffer.byteLength(JSON.stringify(doc));
const back = docToMarkdown(doc); // doubles as the serializer's warm-up on this text

const ops = {
  parse: () => markdownToDoc(md),
  serialize: () => docToMarkdown(doc),
  floor: () => floor.render(md),
};
const names = Object.keys(ops);
const samples = { parse: [], serialize: [], floor: [] };
// Interleaved, rotating the order each rep so drift and GC hit all three alike.
for (let rep = 0; rep < reps && (rep === 0 || performance.now() < deadline); rep++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(rep + k) % names.length];
    samples[name].push(timed(ops[name]).ms);
  }
}
process.send({
  mdBytes,
  docBytes,
  roundTripBytes: Buffer.byteLength(back),
  samples,
});
