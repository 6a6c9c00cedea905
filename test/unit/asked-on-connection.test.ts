/**
 * A form the SDK asks on a 2025 connection (src/server/confirm.ts `askedOnConnection`): the call's
 * HTTP request gives back its place in flight while the user answers, or, when it may not wait so
 * (src/server/http.ts says why), the call is refused with that sentence instead of asking.
 */
import { inputRequired } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { askedOnConnection } from "../../src/server/confirm.js";
import { withinRequest } from "../../src/server/request-scope.js";

const form = inputRequired({ requestState: "state" });
const scope = (why?: string) => {
  const asked: Array<string | undefined> = [];
  return {
    asked,
    gone: new AbortController().signal,
    hold: () => () => {},
    awaitClient: () => {
      asked.push(why);
      return why;
    },
  };
};

describe("askedOnConnection", () => {
  it("gives back the request's place and lets the form be asked", () => {
    const request = scope();
    const cancel = new AbortController();
    let givenUp = 0;
    expect(withinRequest(request, () => askedOnConnection(form, cancel.signal, () => givenUp++))).toBe(form);
    expect(request.asked).toEqual([undefined]);
    // Cancelled before the user answers: heard once.
    cancel.abort();
    cancel.abort();
    expect(givenUp).toBe(1);
  });

  it("refuses the call, saying why, when it may not wait for its user", () => {
    const why = "32 calls of this key already wait for the user's confirmation on this server.";
    const result = withinRequest(scope(why), () =>
      askedOnConnection(form, new AbortController().signal, () => {}),
    );
    expect(result).toEqual({ isError: true, content: [{ type: "text", text: why }] });
  });

  it("over stdio (no HTTP request) asks as always", () => {
    expect(askedOnConnection(form, new AbortController().signal, () => {})).toBe(form);
  });
});
