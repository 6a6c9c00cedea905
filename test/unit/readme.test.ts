/**
 * The README for people: its client configurations are the files in examples/ (which
 * test/e2e/package.test.ts launches), word for word; it documents every environment variable and
 * flag the server reads; its troubleshooting starts from doctor.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENVIRONMENT, FLAGS } from "../../src/config.js";

const root = new URL("../../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");
const examples = readdirSync(new URL("examples/", root)).sort();

function section(title: string): string {
  const start = readme.indexOf(`\n${title}\n`);
  expect(start, `README section "${title}"`).toBeGreaterThanOrEqual(0);
  const level = title.split(" ")[0] ?? "##";
  const rest = readme.slice(start + title.length + 2);
  const next = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  return next < 0 ? rest : rest.slice(0, next);
}

describe("README.md", () => {
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

  it.each(examples)("shows examples/%s verbatim in a code block", (file) => {
    const text = readFileSync(new URL(`examples/${file}`, root), "utf8").trimEnd();
    const fence = file.endsWith(".sh") ? "sh" : "json";
    expect(readme).toContain(`\`\`\`${fence}\n${text}\n\`\`\``);
    expect(readme).toContain(`examples/${file}`);
  });

  it("documents every environment variable and flag", () => {
    const documented = section("### Environment and flags");
    for (const name of Object.keys(ENVIRONMENT)) expect(documented).toContain(`| \`${name}\` |`);
    for (const flag of Object.keys(FLAGS)) expect(documented).toContain(`\`${flag}\``);
    expect(documented).toContain("`doctor`");
  });

  it("starts troubleshooting from doctor", () => {
    const troubleshooting = section("## Troubleshooting");
    expect(troubleshooting).toContain("npx -y posthog-notebooks-mcp doctor");
    for (const check of ["configuration", "host", "key", "scopes", "projects", "project"]) {
      expect(troubleshooting).toContain(`✗ ${check}`);
    }
  });
});
