/**
 * PostHog's date grammar, shared by the list filters (which check dates before sending them) and
 * the sandbox (which applies them as PostHog does).
 *
 * PostHog's `relative_date_parse` (posthog/utils.py), in UTC (the sandbox's projects all use
 * the UTC timezone):
 *
 * 1. An ISO 8601 date or date-time (dateutil's `isoparse`: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`,
 *    `YYYYMMDD`, then any one-character separator and `hh`, `hh:mm`, `hh:mm:ss[.ffffff]` or the
 *    basic forms, then `Z`/`±hh`/`±hh:mm`/`±hhmm`; no offset means the project timezone, UTC),
 *    or a non-zero-padded `YYYY-M-D`.
 * 2. Otherwise the first match of `-?(number)?(kind)(Start|End)?` anywhere in the string, kind
 *    one of h d w m M(inutes) s q y, subtracted from now with dateutil's `relativedelta`
 *    semantics (`-1dStart` = yesterday 00:00, `-1mStart` = the 1st of last month at the current
 *    time of day, `-1q` = 13 weeks, `-2w`, `-24h`, `-1y`, `-30M` minutes, `-10s`…). Kinds in
 *    the regex without a mapping (`H D W Q Y`) and a missing number shift nothing.
 * 3. Anything else is "now".
 *
 * All results are microseconds since the epoch.
 */
/** Microseconds since the epoch. */
export type Micros = number;

interface Parts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  micro: number;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function partsToMicros(p: Parts): Micros {
  const ms = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return ms * 1000 + p.micro;
}

function microsToParts(us: Micros): Parts {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    micro: us - Math.floor(us / 1_000_000) * 1_000_000,
  };
}

/** dateutil's `isoparse` for the forms PostHog clients send; `null` when it would raise. */
export function parseIsoDate(input: string): Micros | null {
  const m =
    /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?|(\d{2})(\d{2}))?(?:.(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/.exec(
      input,
    );
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2] ?? m[4] ?? 1);
    const day = Number(m[3] ?? m[5] ?? 1);
    // `YYYY-MM` without a day only; `YYYYMM` is not ISO (dateutil refuses it).
    if (m[4] !== undefined && m[5] === undefined) return null;
    let hour = Number(m[6] ?? 0);
    const minute = Number(m[7] ?? 0);
    const second = Number(m[8] ?? 0);
    const micro = Number((m[9] ?? "").slice(0, 6).padEnd(6, "0") || "0");
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
    if (minute > 59 || second > 59) return null;
    let extraDay = 0;
    if (hour === 24) {
      if (minute !== 0 || second !== 0 || micro !== 0) return null;
      hour = 0;
      extraDay = 1;
    } else if (hour > 23) return null;
    let us = partsToMicros({ year, month, day, hour, minute, second, micro }) + extraDay * 86_400_000_000;
    const tz = m[10];
    if (tz && tz !== "Z") {
      const sign = tz.startsWith("-") ? -1 : 1;
      const digits = tz.slice(1).replace(":", "");
      const offH = Number(digits.slice(0, 2));
      const offM = Number(digits.slice(2, 4) || "0");
      if (offH > 23 || offM > 59) return null;
      us -= sign * (offH * 3600 + offM * 60) * 1_000_000;
    }
    return us;
  }
  // strptime("%Y-%m-%d") also takes non-zero-padded months and days.
  const loose = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(input);
  if (loose) {
    const year = Number(loose[1]);
    const month = Number(loose[2]);
    const day = Number(loose[3]);
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
    return partsToMicros({ year, month, day, hour: 0, minute: 0, second: 0, micro: 0 });
  }
  return null;
}

interface DeltaMapping {
  years?: number;
  months?: number;
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  // absolute fields (relativedelta's singular arguments)
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  microsecond?: number;
}

function deltaMappingFor(
  kind: string,
  number: string | undefined,
  position: string | undefined,
): DeltaMapping {
  const n = number ? Number(number) : undefined;
  const d: DeltaMapping = {};
  switch (kind) {
    case "h":
      if (n !== undefined) d.hours = n;
      if (position === "Start") Object.assign(d, { minute: 0, second: 0, microsecond: 0 });
      else if (position === "End") Object.assign(d, { minute: 59, second: 59, microsecond: 999999 });
      break;
    case "d":
      if (n !== undefined) d.days = n;
      if (position === "Start") Object.assign(d, { hour: 0, minute: 0, second: 0, microsecond: 0 });
      else if (position === "End")
        Object.assign(d, { hour: 23, minute: 59, second: 59, microsecond: 999999 });
      break;
    case "w":
      if (n !== undefined) d.days = 7 * n;
      break;
    case "m":
      if (n !== undefined) d.months = n;
      if (position === "Start") d.day = 1;
      else if (position === "End") d.day = 31;
      break;
    case "M":
      if (n !== undefined) d.minutes = n;
      break;
    case "s":
      if (n !== undefined) d.seconds = n;
      break;
    case "q":
      if (n !== undefined) d.days = 7 * 13 * n;
      break;
    case "y":
      if (n !== undefined) d.years = n;
      if (position === "Start") Object.assign(d, { month: 1, day: 1 });
      else if (position === "End") d.day = 31;
      break;
    default:
      break;
  }
  return d;
}

/** `now - relativedelta(**mapping)`: absolute fields replace, then relative ones are subtracted. */
function subtractRelativeDelta(nowUs: Micros, d: DeltaMapping): Micros {
  const p = microsToParts(nowUs);
  let year = p.year - (d.years ?? 0);
  let month = d.month ?? p.month;
  if (d.months) {
    month -= d.months;
    while (month < 1) {
      month += 12;
      year -= 1;
    }
    while (month > 12) {
      month -= 12;
      year += 1;
    }
  }
  const day = Math.min(daysInMonth(year, month), d.day ?? p.day);
  const replaced: Parts = {
    year,
    month,
    day,
    hour: d.hour ?? p.hour,
    minute: d.minute ?? p.minute,
    second: d.second ?? p.second,
    micro: d.microsecond ?? p.micro,
  };
  const shiftSeconds =
    (d.days ?? 0) * 86400 + (d.hours ?? 0) * 3600 + (d.minutes ?? 0) * 60 + (d.seconds ?? 0);
  return partsToMicros(replaced) - shiftSeconds * 1_000_000;
}

/** `relative_date_parse(input, UTC)` at `nowUs`. */
export function relativeDateParse(input: string, nowUs: Micros): Micros {
  const iso = parseIsoDate(input);
  if (iso !== null) return iso;
  const m = /-?(?<number>[0-9]+)?(?<kind>[hdwmqysHDWMQY])(?<position>Start|End)?/.exec(input);
  if (!m?.groups) return nowUs;
  const { number, kind = "", position } = m.groups;
  return subtractRelativeDelta(nowUs, deltaMappingFor(kind, number, position));
}
