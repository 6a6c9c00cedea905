// Builds the notebook view (src/view/): one self-contained HTML page, its script and styles inline,
// that the server serves as the MCP App resource ui://posthog-notebooks/notebook.html.
import { readFile } from "node:fs/promises";
import { build } from "esbuild";

const root = new URL("../", import.meta.url);

/** The view's HTML page, as a string. */
export async function buildView() {
  const result = await build({
    absWorkingDir: root.pathname,
    entryPoints: ["src/view/main.ts"],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  // Inline, a script must not close its own element: "</script" is written "<\/script".
  const script = result.outputFiles[0].text.replace(/<\/(script)/gi, "<\\/$1");
  const style = await readFile(new URL("src/view/style.css", root), "utf8");
  const page = await readFile(new URL("src/view/index.html", root), "utf8");
  return page
    .replace("/*STYLE*/", () => style.replace(/<\/(style)/gi, "<\\/$1"))
    .replace("/*SCRIPT*/", () => script);
}
