/** Plain JSON shapes, shared by the server, the content converters and the sandbox. */

/** A JSON object: an object that is neither null nor an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
