// Number and label formatting of the operator dashboard (reference §6.4 "Number formatting"): counts with
// k/M suffixes, percentages with one decimal, durations in ms or s (2 decimals), country names, and the
// display text of table keys. Chart bucket labels and URL display are the visitor auditorium's
// (ui/auditorium/format.js), re-exported so both views label the same data the same way. Pure, no DOM.

import { NONE_GEOLOCATION, NONE_REFERRER } from "../../shared/stats.js";
import { bucketLabel, displayUrl } from "../../auditorium/format.js";

export { bucketLabel, displayUrl };

const NONE = "–";

/** A count, shortened from 10 000 on: 9 999 → "9,999", 12 345 → "12.3k", 1 234 567 → "1.2M". */
export function formatCount(n, locale = "en") {
  if (n == null || !Number.isFinite(Number(n))) return NONE;
  const value = Number(n);
  const abs = Math.abs(value);
  const short = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  if (abs >= 999_950) return `${short.format(value / 1_000_000)}M`;
  if (abs >= 10_000) return `${short.format(value / 1000)}k`;
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value);
}

/** A share (0..1) as a percentage with one decimal: 0.3333 → "33.3 %". */
export function formatPercent(share, locale = "en") {
  if (share == null || !Number.isFinite(Number(share))) return NONE;
  const text = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(
    Number(share) * 100,
  );
  return `${text} %`;
}

/** A duration in ms: below a second in whole ms ("412 ms"), else seconds with two decimals ("1.25 s"). */
export function formatDuration(ms, locale = "en") {
  if (ms == null || !Number.isFinite(Number(ms))) return NONE;
  const value = Number(ms);
  if (value < 1000) return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value)} ms`;
  const seconds = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `${seconds.format(value / 1000)} s`;
}

/** A plain decimal with one digit (page depth): 2.3333 → "2.3". */
export function formatDecimal(n, locale = "en") {
  if (n == null || !Number.isFinite(Number(n))) return NONE;
  return new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(Number(n));
}

/** Country name of a region code ("DE" → "Germany"); the code itself where Intl does not know it. */
export function countryName(code, locale = "en") {
  if (!code || code === NONE_GEOLOCATION) return null;
  try {
    const names = new Intl.DisplayNames([locale], { type: "region" });
    return names.of(String(code).toUpperCase()) || code;
  } catch {
    return code;
  }
}

/**
 * The text shown for a table key: URLs without their scheme, countries by name, and the "none" keys in
 * words (`t` supplies them).
 */
export function keyLabel(prop, key, t, locale = "en") {
  if (prop === "referrer" && key === NONE_REFERRER) return t("tables.noReferrer");
  if (prop === "geo") return key === NONE_GEOLOCATION ? t("tables.noGeo") : countryName(key, locale);
  if (prop === "href" || prop === "landing" || prop === "exit") return displayUrl(key);
  return String(key);
}

/** True for Saturday and Sunday bucket keys ("YYYY-MM-DD…"): the chart marks weekends. */
export function isWeekend(key) {
  const [y, m, d] = String(key).slice(0, 10).split("-").map(Number);
  if (!y || !m || !d) return false;
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return weekday === 0 || weekday === 6;
}

/** "Nice" axis ticks from 0 to at least `max`: 0, step, 2·step … with step 1, 2 or 5 × 10^k (integers). */
export function axisTicks(max, count = 4) {
  const top = Math.max(Number(max) || 0, 1);
  const raw = top / count;
  const power = 10 ** Math.max(Math.floor(Math.log10(raw)), 0);
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw);
  const ticks = [];
  for (let i = 0; i <= Math.ceil(top / step); i += 1) ticks.push(i * step);
  return ticks;
}
