import { describe, expect, it } from "vitest";
import { parseIsoDate, relativeDateParse } from "../../src/dates.js";

// Friday 2024-03-15 14:30:45.123456 UTC
const NOW = Date.UTC(2024, 2, 15, 14, 30, 45, 123) * 1000 + 456;
const at = (iso: string) => relativeDateParse(iso, NOW);
const us = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, micro = 0) =>
  Date.UTC(y, mo - 1, d, h, mi, s) * 1000 + micro;

describe("ISO dates", () => {
  it("parses dates, date-times, fractions and offsets", () => {
    expect(at("2024-01-05")).toBe(us(2024, 1, 5));
    expect(at("2024-01-05T10:20")).toBe(us(2024, 1, 5, 10, 20));
    expect(at("2024-01-05T10:20:30")).toBe(us(2024, 1, 5, 10, 20, 30));
    expect(at("2024-01-05T10:20:30.5")).toBe(us(2024, 1, 5, 10, 20, 30, 500000));
    expect(at("2024-01-05T10:20:30.123456Z")).toBe(us(2024, 1, 5, 10, 20, 30, 123456));
    expect(at("2024-01-05T10:20:30+02:00")).toBe(us(2024, 1, 5, 8, 20, 30));
    expect(at("2024-01-05T10:20:30-0130")).toBe(us(2024, 1, 5, 11, 50, 30));
    expect(at("2024-01-05 10:20")).toBe(us(2024, 1, 5, 10, 20));
    expect(at("20240105")).toBe(us(2024, 1, 5));
    expect(at("2024-01")).toBe(us(2024, 1, 1));
    expect(at("2024")).toBe(us(2024, 1, 1));
  });

  it("accepts non-zero-padded dates like strptime", () => {
    expect(at("2024-1-5")).toBe(us(2024, 1, 5));
  });

  it("rejects impossible dates (they fall through to relative parsing)", () => {
    expect(parseIsoDate("2024-02-30")).toBeNull();
    expect(parseIsoDate("2024-13-01")).toBeNull();
    expect(parseIsoDate("2024-01-01T25:00")).toBeNull();
    expect(parseIsoDate("2024-01-01T24:00")).toBe(us(2024, 1, 2));
  });
});

describe("relative dates", () => {
  it("subtracts hours, days, weeks, months, quarters, years, minutes and seconds", () => {
    expect(at("-24h")).toBe(NOW - 24 * 3600 * 1_000_000);
    expect(at("-7d")).toBe(NOW - 7 * 86400 * 1_000_000);
    expect(at("-2w")).toBe(NOW - 14 * 86400 * 1_000_000);
    expect(at("-1m")).toBe(us(2024, 2, 15, 14, 30, 45, 123456));
    expect(at("-1q")).toBe(NOW - 91 * 86400 * 1_000_000);
    expect(at("-1y")).toBe(us(2023, 3, 15, 14, 30, 45, 123456));
    expect(at("-30M")).toBe(NOW - 30 * 60 * 1_000_000);
    expect(at("-10s")).toBe(NOW - 10 * 1_000_000);
  });

  it("supports Start and End positions", () => {
    expect(at("-1dStart")).toBe(us(2024, 3, 14));
    expect(at("-1dEnd")).toBe(us(2024, 3, 14, 23, 59, 59, 999999));
    expect(at("-0dStart")).toBe(us(2024, 3, 15));
    expect(at("dStart")).toBe(us(2024, 3, 15));
    expect(at("-2hStart")).toBe(us(2024, 3, 15, 12, 0, 0));
    expect(at("-1hEnd")).toBe(us(2024, 3, 15, 13, 59, 59, 999999));
    // mStart only sets the day (relativedelta day=1); the time of day stays.
    expect(at("-1mStart")).toBe(us(2024, 2, 1, 14, 30, 45, 123456));
    expect(at("-1mEnd")).toBe(us(2024, 2, 29, 14, 30, 45, 123456));
    expect(at("-1yStart")).toBe(us(2023, 1, 1, 14, 30, 45, 123456));
  });

  it("clamps month arithmetic to the month's length", () => {
    const may31 = us(2024, 5, 31, 12);
    expect(relativeDateParse("-1m", may31)).toBe(us(2024, 4, 30, 12));
    expect(relativeDateParse("-3m", may31)).toBe(us(2024, 2, 29, 12));
    expect(relativeDateParse("-13m", may31)).toBe(us(2023, 4, 30, 12));
  });

  it("finds the pattern anywhere in the string, like re.search", () => {
    expect(at("(-3d)")).toBe(NOW - 3 * 86400 * 1_000_000);
    expect(at("7d")).toBe(NOW - 7 * 86400 * 1_000_000);
    // The first match wins: the "s" of "last" (seconds, no number) shifts nothing.
    expect(at("last -3d")).toBe(NOW);
  });

  it("anything unparseable is now", () => {
    expect(at("garbage")).toBe(NOW);
    expect(at("")).toBe(NOW);
    expect(at("-7x")).toBe(NOW);
    // Upper-case kinds other than M match the pattern but shift nothing.
    expect(at("-7D")).toBe(NOW);
  });
});
