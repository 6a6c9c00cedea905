// Inputs that make naive Markdown parsers quadratic (or worse), each about `bytes` long: what a
// hostile or unlucky notebook can hold. bench/convert.mjs times them against ordinary Markdown.

/** Repeats `unit` until the text is `bytes` long. */
function fill(prefix, unit, bytes) {
  return prefix + unit.repeat(Math.max(1, Math.ceil((bytes - prefix.length) / unit.length)));
}

export function adversarialInputs(bytes) {
  return {
    // A component tag that never closes, with a line ending in "/>" again and again.
    "unclosed tag over many lines": fill('<Query a={"\n', "x/>\n", bytes),
    // Many emphasis openers, none closed.
    "emphasis openers without closers": fill("", "*a _b ~~c **d __e ", bytes),
    // Link labels that never end, and destinations that never close.
    "unclosed links": fill("", "[a](b [c ", bytes),
    // Code-span backticks that pair with the wrong partners.
    "backtick runs": fill("", "`a ``b ```c ", bytes),
    // Inline tags opened and never closed.
    "unclosed ref and mention tags": fill("", '<ref id="a"><mention id="5"><u>x ', bytes),
    // Quoted ids that never close.
    "unclosed quotes in inline tags": fill('<ref id="', "a\\", bytes),
    // Comment openers without an end, each on its own line.
    "comment openers without an end": fill("", "<!-- x\n", bytes),
    // Deep list nesting, one level more each line.
    "list nesting": fill("", "- x\n  - y\n    - z\n      - w\n", bytes),
    // A single line of list markers and spaces ending in a line separator (regex backtracking).
    "list marker then spaces and a separator": `- ${" ".repeat(Math.max(1, bytes - 3))}\u2028`,
    // Table pipes without end.
    "table of many columns": `${fill("| ", "a | ", bytes / 2)}\n${fill("| ", "--- | ", bytes / 2)}`,
    // Backslashes before everything.
    "backslash runs": fill("", "\\\\\\*\\`", bytes),
    // Brackets inside brackets.
    "nested brackets": `${"[".repeat(bytes / 2)}${"](x)".repeat(bytes / 8)}`,
  };
}
