// Regenerates what the documentation derives from the code (run after `npm run build`): the
// README's tool table from the operations table, and docs/once-published.md's configurations
// from examples/.
import { readdir, readFile, writeFile } from "node:fs/promises";
import {
  PUBLISHED_END,
  PUBLISHED_START,
  publishedExamples,
  TOOL_TABLE_END,
  TOOL_TABLE_START,
  toolTable,
} from "../dist/docs.js";

async function replaceBetween(path, start, end, text) {
  const doc = await readFile(path, "utf8");
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`${path.pathname} has no ${start} … ${end} markers`);
  await writeFile(path, `${doc.slice(0, from)}${text}${doc.slice(to + end.length)}`);
}

const root = new URL("../", import.meta.url);
await replaceBetween(new URL("README.md", root), TOOL_TABLE_START, TOOL_TABLE_END, toolTable());
const files = (await readdir(new URL("examples/", root))).sort();
const examples = await Promise.all(
  files.map(async (file) => ({ file, text: await readFile(new URL(`examples/${file}`, root), "utf8") })),
);
await replaceBetween(
  new URL("docs/once-published.md", root),
  PUBLISHED_START,
  PUBLISHED_END,
  publishedExamples(examples),
);
process.stderr.write("README.md tool table and docs/once-published.md updated\n");
