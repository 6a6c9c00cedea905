// Deterministic generators of realistic notebook Markdown (PostHog's grammar: headings, inline
// marks, bullet/ordered/task lists, GFM tables, fenced code and PostHog component tags).

/** A small seeded PRNG (mulberry32), so every run converts the same text. */
export function rng(seed = 42) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "conversion funnel checkout payment signup retention cohort session recording insight trend " +
  "dashboard experiment variant control flag rollout users events pageview autocapture drop " +
  "release mobile desktop latency error baseline quarter weekly growth churn activation step " +
  "property breakdown filter journey survey response onboarding pricing plan upgrade trial"
).split(" ");

function uuid(r) {
  const h = () => Math.floor(r() * 16).toString(16);
  const part = (n) => Array.from({ length: n }, h).join("");
  return `${part(8)}-${part(4)}-7${part(3)}-a${part(3)}-${part(12)}`;
}

function words(r, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(r() * WORDS.length)]);
  return out;
}

function sentence(r) {
  const w = words(r, 8 + Math.floor(r() * 10));
  const k = Math.floor(r() * w.length);
  const roll = r();
  if (roll < 0.2) w[k] = `**${w[k]}**`;
  else if (roll < 0.35) w[k] = `*${w[k]}*`;
  else if (roll < 0.45) w[k] = `\`${w[k]}_total\``;
  else if (roll < 0.52) w[k] = `[${w[k]}](https://example.com/${w[k]})`;
  else if (roll < 0.56)
    w[k] = `<ReplayTimestamp playbackTime={${Math.floor(r() * 600000)}} sessionRecordingId="${uuid(r)}" />`;
  const s = w.join(" ");
  return `${s[0].toUpperCase()}${s.slice(1)}.`;
}

function paragraph(r) {
  return Array.from({ length: 2 + Math.floor(r() * 4) }, () => sentence(r)).join(" ");
}

function section(r, i) {
  const parts = [];
  parts.push(`${"#".repeat(1 + (i % 3))} ${words(r, 3).join(" ")} ${i}`);
  parts.push(paragraph(r));
  const kind = i % 6;
  if (kind === 0) parts.push(Array.from({ length: 4 }, () => `- ${sentence(r)}`).join("\n"));
  if (kind === 1) parts.push(Array.from({ length: 4 }, (_, k) => `${k + 1}. ${sentence(r)}`).join("\n"));
  if (kind === 2)
    parts.push(Array.from({ length: 3 }, (_, k) => `- [${k % 2 ? "x" : " "}] ${sentence(r)}`).join("\n"));
  if (kind === 3) {
    const rows = Array.from(
      { length: 4 },
      () => `| ${words(r, 1)[0]} | ${Math.floor(r() * 1000)} | ${(r() * 100).toFixed(1)}% |`,
    );
    parts.push(["| step | users | conversion |", "| --- | --- | --- |", ...rows].join("\n"));
  }
  if (kind === 4) {
    parts.push(
      [
        "```sql",
        "SELECT event, count() AS n",
        "FROM events",
        `WHERE timestamp > now() - INTERVAL ${1 + Math.floor(r() * 30)} DAY`,
        "GROUP BY event ORDER BY n DESC",
        "```",
      ].join("\n"),
    );
  }
  if (kind === 5) {
    parts.push(`<Query query={{"kind":"SavedInsightNode","shortId":"aB3dE${i % 10}fG"}} />`);
    parts.push(`<Recording id="${uuid(r)}" />`);
  }
  parts.push(paragraph(r));
  return parts.join("\n\n");
}

/** About `bytes` characters of notebook Markdown (ASCII, so characters = bytes). */
export function notebookMarkdown(bytes, seed = 42) {
  const r = rng(seed);
  const parts = [];
  let size = 0;
  for (let i = 0; size < bytes && i < 1_000_000; i++) {
    const s = section(r, i);
    parts.push(s);
    size += s.length + 2;
  }
  return `${parts.join("\n\n")}\n`;
}
