// Conversion, in its own process (forked by run.mjs, so the bench's other work leaves nothing on
// this heap): Markdown → document and document → Markdown with the project's content module, on
// ordinary notebook Markdown and on inputs built to make parsers quadratic (bench/adversarial.mjs),
// each of the same size, interleaved so that drift and garbage collection hit all alike. The
// floor for ordinary Markdown is markdown-it's own render of the same text (CommonMark + tables +
// strikethrough), a well-optimised parser's speed.
//
//   node bench/convert.mjs <content bundle> <bytes> <reps> <time budget ms>
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import MarkdownIt from "markdown-it";
import { adversarialInputs } from "./adversarial.mjs";
import { notebookMarkdown } from "./gen.mjs";

const [contentPath, bytesArg, repsArg, budgetArg] = process.argv.slice(2);
const { markdownToDocument, documentToMarkdown } = await import(pathToFileURL(contentPath).href);
const bytes = Number(bytesArg);
const reps = Number(repsArg);
const deadline = performance.now() + Number(budgetArg);

const floor = new MarkdownIt("commonmark", { html: false, linkify: false, typographer: false });
floor.enable(["table", "strikethrough"]);

function countNodes(node) {
  let n = 1;
  for (const child of node.content ?? []) n += countNodes(child);
  return n;
}

function timed(fn) {
  const t = performance.now();
  const out = fn();
  return { ms: performance.now() - t, out };
}

// Warm-up on a different, smaller text: the JIT reaches steady state in 4–5 runs.
const sample = notebookMarkdown(Math.min(500_000, bytes), 7);
for (let i = 0; i < 5; i++) {
  documentToMarkdown(markdownToDocument(sample, { inlineTags: true }).doc);
  floor.render(sample);
}

const inputs = { ordinary: notebookMarkdown(bytes), ...adversarialInputs(bytes) };
const names = Object.keys(inputs);
const samples = Object.fromEntries(names.map((name) => [name, { parse: [], serialize: [] }]));
samples.floor = { parse: [] };
const sizes = {};
for (let rep = 0; rep < reps && (rep < 2 || performance.now() < deadline); rep++) {
  // Rotating the order each rep.
  for (let k = 0; k <= names.length; k++) {
    const name = k === names.length ? "floor" : names[(rep + k) % names.length];
    if (name === "floor") {
      samples.floor.parse.push(timed(() => floor.render(inputs.ordinary)).ms);
      continue;
    }
    const parsed = timed(() => markdownToDocument(inputs[name], { inlineTags: true }).doc);
    const written = timed(() => documentToMarkdown(parsed.out));
    samples[name].parse.push(parsed.ms);
    samples[name].serialize.push(written.ms);
    sizes[name] = {
      markdown: inputs[name].length,
      document: JSON.stringify(parsed.out).length,
      nodes: countNodes(parsed.out),
    };
  }
}
process.send({ bytes, sizes, samples });
