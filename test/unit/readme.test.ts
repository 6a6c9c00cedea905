/**
 * The README for people: at most 250 lines, every client configuration in it (or in the docs/
 * page it links) word for word as the file in examples/ that test/e2e/package.test.ts launches;
 * every environment variable and flag documented; troubleshooting that starts from doctor; no
 * `npx` form outside the one generated "once published" page.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENVIRONMENT, FLAGS } from "../../src/config.js";
import { PUBLISHED_END, PUBLISHED_START, publishedExamples } from "../../src/docs.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const readme = read("README.md");
const examples = readdirSync(new URL("examples/", root)).sort();
const docs = readdirSync(new URL("docs/", root)).sort();

function section(text: string, title: string): string {
  const start = text.indexOf(`\n${title}\n`);
  expect(start, `section "${title}"`).toBeGreaterThanOrEqual(0);
  const level = title.split(" ")[0] ?? "##";
  const rest = text.slice(start + title.length + 2);
  const next = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  return next < 0 ? rest : rest.slice(0, next);
}

describe("README.md", () => {
  it("is at most 250 lines, and links every page in docs/", () => {
    expect(readme.trimEnd().split("\n").length).toBeLessThanOrEqual(250);
    for (const page of docs) expect(readme, page).toContain(`](docs/${page}`);
  });

  it("has an example for every client", () => {
    expect(examples).toEqual([
      "claude-code-http.sh",
      "claude-code.mcp.json",
      "claude-code.sh",
      "claude-desktop.json",
      "cursor-http.mcp.json",
      "cursor.mcp.json",
      "from-clone.json",
      "sandbox.json",
      "vscode-http.mcp.json",
      "vscode.mcp.json",
    ]);
  });

  it.each(examples)(
    "shows examples/%s verbatim in a code block, in the README or a page it links",
    (file) => {
      const text = read(`examples/${file}`).trimEnd();
      const fence = file.endsWith(".sh") ? "sh" : "json";
      const block = `\`\`\`${fence}\n${text}\n\`\`\``;
      const where = ["README.md", ...docs.map((page) => `docs/${page}`)].filter((path) =>
        read(path).includes(block),
      );
      expect(where.length, `examples/${file} shown nowhere`).toBeGreaterThan(0);
      expect(read(where[0] ?? "")).toContain(`examples/${file}`);
    },
  );

  it("writes no npx form, nor do the examples, --help's source or mcp.json: they work before npm has the package", () => {
    expect(readme).not.toMatch(/npx -y|"command": "npx"/);
    for (const file of examples) expect(read(`examples/${file}`), file).not.toMatch(/\bnpx\b/);
    expect(read("mcp.json")).not.toMatch(/\bnpx\b|dist\/index\.js/);
    expect(read("src/config.ts")).not.toMatch(/\bnpx\b/);
    expect(read("src/index.ts")).not.toMatch(/\bnpx\b/);
    for (const page of docs.filter((p) => p !== "once-published.md")) {
      expect(read(`docs/${page}`), page).not.toMatch(/npx -y|"command": "npx"/);
    }
  });

  it("keeps the npx forms in docs/once-published.md, generated from examples/ (npm run docs)", () => {
    const page = read("docs/once-published.md");
    const generated = publishedExamples(examples.map((file) => ({ file, text: read(`examples/${file}`) })));
    expect(page).toContain(generated);
    expect(page.indexOf(PUBLISHED_START)).toBeGreaterThan(page.indexOf("Nothing on this page works yet"));
    expect(generated).toContain('"args": ["-y", "posthog-notebooks-mcp", "--sandbox"]');
    expect(generated).toContain("-- npx -y posthog-notebooks-mcp --sandbox");
    expect(generated.endsWith(PUBLISHED_END)).toBe(true);
  });

  it("documents every environment variable and flag (docs/configuration.md)", () => {
    const documented = section(read("docs/configuration.md"), "## Environment and flags");
    for (const name of Object.keys(ENVIRONMENT)) expect(documented).toContain(`| \`${name}\` |`);
    for (const flag of Object.keys(FLAGS)) expect(documented).toContain(`\`${flag}\``);
    expect(documented).toContain("`doctor`");
  });

  it("starts troubleshooting from doctor", () => {
    const troubleshooting = section(readme, "## Troubleshooting");
    expect(troubleshooting).toContain("posthog-notebooks-mcp doctor");
    for (const check of ["configuration", "host", "key", "scopes", "projects", "project"]) {
      expect(troubleshooting).toContain(`✗ ${check}`);
    }
  });

  it("says how long npm test takes on a 2-core machine", () => {
    expect(section(readme, "## Development")).toMatch(/On a 2-core\s+machine it takes about \d+ minutes/);
  });
});
