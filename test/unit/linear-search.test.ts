import { describe, expect, it } from "vitest";
import { Secrets } from "../../src/secrets.js";
import { findAll, findApart as occurrences, type SearchSteps } from "../../src/text-search.js";

/** Every place, the slow obvious way (small inputs only). */
function naive(text: string, pattern: string): number[] {
  const at: number[] = [];
  for (let i = 0; i + pattern.length <= text.length; i++) if (text.startsWith(pattern, i)) at.push(i);
  return at;
}

function random(length: number, alphabet: string, seed: number): string {
  let s = seed;
  let out = "";
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out += alphabet[s % alphabet.length];
  }
  return out;
}

describe("passage search", () => {
  it("finds what the obvious search finds", () => {
    for (let seed = 1; seed < 200; seed++) {
      const text = random(200, "ab", seed);
      const pattern = random(1 + (seed % 7), "ab", seed * 31);
      expect(findAll(text, pattern)).toEqual(naive(text, pattern));
      const apart: number[] = [];
      for (const at of naive(text, pattern))
        if (apart.length === 0 || at >= (apart.at(-1) as number) + pattern.length) apart.push(at);
      expect(occurrences(text, pattern)).toEqual(apart);
    }
  });

  it("costs time linear in the notebook and the passage, for the review's hostile edit", () => {
    // The review's case scaled down tenfold: a notebook of `a`s, a passage of `a`s with one `b`.
    const text = "a".repeat(60_000);
    const span = `${"a".repeat(15_000)}b${"a".repeat(15_000)}`;
    const steps: SearchSteps = { count: 0 };
    expect(occurrences(text, span, steps)).toEqual([]);
    expect(steps.count).toBeGreaterThan(0);
    expect(steps.count).toBeLessThanOrEqual(3 * (text.length + span.length));
  });
});

describe("redaction of a key and its pieces", () => {
  const key = "phx_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";

  it("redacts the key, its first and last characters, and nothing else", () => {
    const secrets = new Secrets([key]);
    expect(secrets.redact(`a ${key} b`)).toBe("a [redacted] b");
    expect(secrets.redact(`cut: ${key.slice(0, 20)}|${key.slice(20)}.`)).toBe("cut: [redacted]|[redacted].");
    expect(secrets.redact(`short ${key.slice(0, 9)} and ${key.slice(-9)}`)).toBe(
      `short ${key.slice(0, 9)} and ${key.slice(-9)}`,
    );
    expect(secrets.redact(`${key}${key}`)).toBe("[redacted]");
    expect(secrets.redact("nothing here")).toBe("nothing here");
  });

  it("redacts the key re-encoded: upper case, hex, %-encoded, base64 and base64url at any alignment", () => {
    const secrets = new Secrets([key]);
    const bytes = Buffer.from(key);
    const forms = [
      key.toUpperCase(),
      bytes.toString("hex"),
      bytes.toString("hex").toUpperCase(),
      bytes.toString("hex").replace(/(..)/g, "%$1"),
      ...[0, 1, 2].flatMap((pad) => {
        const padded = Buffer.concat([Buffer.from("x".repeat(pad)), bytes, Buffer.from("yz")]);
        return [padded.toString("base64"), padded.toString("base64url")];
      }),
    ];
    for (const form of forms) {
      const out = secrets.redact(`<${form}>`);
      expect(out, form).toContain("[redacted]");
      // What is left of the form is at most a few characters at each end.
      expect(out.length, form).toBeLessThanOrEqual("<[redacted]>".length + 16);
    }
  });

  it("costs time linear in the text: 16,000 copies of the key's first 10 characters", () => {
    const secrets = new Secrets([key]);
    const text = `${key.slice(0, 10)}x`.repeat(16_000);
    const steps: SearchSteps = { count: 0 };
    const out = secrets.redact(text, steps);
    expect(out).toBe("[redacted]x".repeat(16_000));
    expect(steps.count).toBeGreaterThan(0);
    expect(steps.count).toBeLessThanOrEqual(2 * 3 * (text.length + key.length));
  });

  it("with many keys, looks only for those that may occur", () => {
    const keys = Array.from({ length: 500 }, (_, i) => `phx_${String(i).padStart(4, "0")}${"k".repeat(38)}`);
    const secrets = new Secrets(keys);
    const text = `log line naming ${keys[7]} and a piece ${(keys[9] as string).slice(0, 12)}.`;
    const steps: SearchSteps = { count: 0 };
    expect(secrets.redact(text, steps)).toBe("log line naming [redacted] and a piece [redacted].");
    // Two candidate keys (7 and 9), plus every key ending in the same 8 characters: all of them here.
    expect(steps.count).toBeGreaterThan(0);
  });
});
