/** Reading tool results as an agent does. */

/**
 * The notebook text a result shows after its JSON, fenced (` ```markdown `, ` ```json `,
 * ` ```text `), or undefined when it shows none.
 */
export function fencedDocument(text: string, label = "markdown"): string | undefined {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = new RegExp(`^(\`{3,})${label}$`).exec(lines[i] as string);
    if (!open) continue;
    const fence = open[1] as string;
    const end = lines.indexOf(fence, i + 1);
    if (end === -1) return undefined;
    return lines.slice(i + 1, end).join("\n");
  }
  return undefined;
}
