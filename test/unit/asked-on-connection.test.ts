/**
 * A form the SDK asks on a 2025 connection (src/server/confirm.ts `askedOnConnection`): the call's
 * HTTP request gives back its place in flight while the user answers, or, when its key already has
 * the most calls waiting so, the call is refused with a sentence instead of asking.
 */
import { inputRequired } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { askedOnConnection } from "../../src/server/confirm.js";
import { AWAITING } from "../../src/server/key-requests.js";
import { withinRequest } from "../../src/server/request-scope.js";

const form = inputRequired({ requestState: "state" });
const scope = (room: boolean) => {
  const asked: boolean[] = [];
  return {
    asked,
    gone: new AbortController().signal,
    hold: () => () => {},
    awaitClient: () => {
      asked.push(room);
      return room;
    },
  };
};

describe("askedOnConnection", () => {
  it("gives back the request's place and lets the form be asked", () => {
    const request = scope(true);
    const cancel = new AbortController();
    let givenUp = 0;
    expect(withinRequest(request, () => askedOnConnection(form, cancel.signal, () => givenUp++))).toBe(form);
    expect(request.asked).toEqual([true]);
    // Cancelled before the user answers: heard once.
    cancel.abort();
    cancel.abort();
    expect(givenUp).toBe(1);
  });

  it(`refuses the call, saying why, once ${AWAITING} of the key's calls wait for the user`, () => {
    const result = withinRequest(scope(false), () =>
      askedOnConnection(form, new AbortController().signal, () => {}),
    );
    expect(result).toEqual({
      isError: true,
      content: [
        {
          type: "text",
          text: `${AWAITING} calls of this key already wait for the user's confirmation on this server, the most one key may have: nothing was done. Have the user answer those first, then call again.`,
        },
      ],
    });
  });

  it("over stdio (no HTTP request) asks as always", () => {
    expect(askedOnConnection(form, new AbortController().signal, () => {})).toBe(form);
  });
});
