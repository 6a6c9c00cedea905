/**
 * Mistakes people make while setting the server up, each put into one sentence that says what
 * happened and what to do: a variable the MCP client did not fill in, a misspelt flag, a port
 * already taken. The entry point prints the sentence and exits 2 (see config.ts).
 */
import { closest, distance } from "fastest-levenshtein";

/** `${env:X}`, `${input:X}`, `${X}`, `${X:-default}`, `%X%` and `$X`: a variable, left as written. */
const VARIABLE = /\$\{[^}]*\}?|%[A-Za-z_][A-Za-z0-9_]*%|\$[A-Za-z_][A-Za-z0-9_]*/;

const CLIENT_FORMS =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the clients' own syntax, written out for people
  'Each client writes variables its own way: Claude Code ${NAME} (from its environment), Cursor ${env:NAME}, VS Code ${input:id} (with an "inputs" entry) or ${env:NAME}; Claude Desktop fills in none, so put the value itself there.';

/**
 * The sentence for a setting that still holds a variable the client should have replaced, or
 * undefined. Only the variable is quoted, never the rest of the value.
 */
export function unsubstitutedVariable(name: string, value: string | undefined): string | undefined {
  const found = value === undefined ? null : VARIABLE.exec(value);
  if (!found) return undefined;
  return `${name} is ${JSON.stringify(found[0])}, a variable that your MCP client did not fill in: the server received it as written. ${CLIENT_FORMS} Write it your client's way and set it where the client starts, or write the value itself.`;
}

/**
 * The sentence for a command-line flag the server does not have, naming the nearest one it has.
 * `known`: the flags, as `--name`.
 */
export function unknownFlag(flag: string, known: readonly string[]): string {
  const name = flag.split("=")[0] ?? flag;
  const nearest = closest(name, [...known]);
  const close =
    nearest !== undefined && distance(name, nearest) <= Math.max(2, Math.floor(nearest.length / 3));
  return `${name} is not a flag of posthog-notebooks-mcp${close ? `: did you mean ${nearest}?` : "."} Run posthog-notebooks-mcp --help to see the flags.`;
}

/** The sentence for a word that is neither a command nor a flag (`docter`, or anything after doctor). */
export function unknownArgument(word: string, afterDoctor: boolean): string {
  const near = !afterDoctor && distance(word.toLowerCase(), "doctor") <= 2;
  return `${JSON.stringify(word)} is not a command or flag of posthog-notebooks-mcp${near ? ': did you mean "doctor"?' : "."} Run posthog-notebooks-mcp --help to see the commands and flags.`;
}

/** The sentence for a port the HTTP server could not listen on, or undefined for other failures. */
export function listenProblem(error: unknown, host: string, port: number): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "EADDRINUSE") {
    return `Port ${port} on ${host} is already in use (another posthog-notebooks-mcp --http, or another server): stop that one, or pass --port with a free port (--port 0 picks one).`;
  }
  if (code === "EACCES") {
    return `This user may not listen on port ${port} of ${host} (ports below 1024 need privileges): pass --port with a port from 1024 up, such as 8787.`;
  }
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
    return `--host ${host} is not an address of this machine: pass --host 127.0.0.1 (the default), 0.0.0.0 for every interface, or one of this machine's addresses.`;
  }
  return undefined;
}
