/**
 * A JSON document an agent sent (the `content` argument of a write), and the checks it must pass.
 * One that reaches a tool as an object (a client in this process) is checked with the other
 * arguments. One sent as its JSON text (`SentDocument`, as every object a transport reads is too:
 * server/read-message.ts) is parsed and checked where it is converted, in a worker when long: a 4 MB document as objects on the server's thread (parsed,
 * walked for its nesting and copied to a worker) held every other call up for most of a second.
 */
import { describeProtoKeys, invalidArgumentsSentence, protoKeyPaths } from "../invalid-arguments.js";
import type { Refusal } from "./guard.js";

/** The JSON text of a document an agent sent, not parsed yet. */
export class SentDocument {
  constructor(readonly json: string) {}
}

/**
 * Levels of nesting a document may have. PostHog's editor nests a few (a list in a quote in a
 * list); hundreds only come from a generator, and would cost every conversion a deep recursion.
 */
export const MAX_NESTING = 100;

/** How deep `value` nests (objects and arrays), counted without recursion; stops past `limit`. */
export function nestingOf(value: unknown, limit = MAX_NESTING): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (item === null || typeof item !== "object") continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

const NOT_A_DOCUMENT = 'must be a JSON document object like {"type": "doc", "content": [...]}';

/** What is wrong with a document an agent sent, as what follows "content", or undefined. */
export function documentProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return NOT_A_DOCUMENT;
  // Node levels: each is an object and its content array.
  if (nestingOf(value, MAX_NESTING * 2) > MAX_NESTING * 2) {
    return `nests more than ${MAX_NESTING} levels deep, and no notebook needs that many: flatten it, or send markdown`;
  }
  return undefined;
}

/**
 * The document whose JSON text an agent sent as `tool`'s `content`, parsed and checked as the
 * arguments are, or the refusal saying what is wrong with it (nothing is sent).
 */
export function readSentDocument(json: string, tool: string): { value: unknown } | { refused: Refusal } {
  const refused = (message: string) => ({
    refused: { line: 1, reason: "invalid_arguments" as const, message },
  });
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return refused(invalidArgumentsSentence(tool, [`content ${NOT_A_DOCUMENT}`]));
  }
  const problem = documentProblem(value);
  if (problem) return refused(invalidArgumentsSentence(tool, [`content ${problem}`]));
  const proto = protoKeyPaths({ content: value });
  if (proto.length > 0) return refused(describeProtoKeys(tool, proto));
  return { value };
}
