// Regenerates the README's tool table from the operations table (run after `npm run build`).
import { readFile, writeFile } from "node:fs/promises";
import { TOOL_TABLE_END, TOOL_TABLE_START, toolTable } from "../dist/docs.js";

const path = new URL("../README.md", import.meta.url);
const readme = await readFile(path, "utf8");
const start = readme.indexOf(TOOL_TABLE_START);
const end = readme.indexOf(TOOL_TABLE_END);
if (start < 0 || end < 0) throw new Error("README.md has no tool table markers");
await writeFile(path, `${readme.slice(0, start)}${toolTable()}${readme.slice(end + TOOL_TABLE_END.length)}`);
process.stderr.write("README.md tool table updated\n");
