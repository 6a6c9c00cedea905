/**
 * The log is redacted with every key the process holds: a key let go by one client and admitted
 * again by another (the same tenant, back while the first is still closing) stays redacted until
 * the last client holding it closes.
 */
import { describe, expect, it } from "vitest";
import { forgetSecret, redactSecrets, registerSecret } from "../../src/secrets.js";

const KEY = "phx_heldTwice0123456789abcdefghijklmnopqrstuvwxyz";

describe("the process's keys", () => {
  it("a key two clients hold stays redacted until both let go of it", () => {
    registerSecret(KEY);
    registerSecret(KEY);
    forgetSecret(KEY);
    expect(redactSecrets(`key ${KEY}`)).not.toContain(KEY.slice(0, 10));
    forgetSecret(KEY);
    expect(redactSecrets(`key ${KEY}`)).toContain(KEY);
    // Forgetting more than was held does not go below none.
    forgetSecret(KEY);
    registerSecret(KEY);
    expect(redactSecrets(`key ${KEY}`)).not.toContain(KEY.slice(0, 10));
    forgetSecret(KEY);
  });
});
