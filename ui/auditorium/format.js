// Pure helpers of the visitor's auditorium: the range options, number formatting and the export file.
// No DOM here, so Node tests cover them (ui/tests/auditorium.test.mjs); main.js does the rendering.

/** Retention when nothing says otherwise: OFFEN_APP_RETENTION's default, 6 months = 186 days. */
export const DEFAULT_RETENTION_DAYS = 186;

/**
 * The range selector of reference §6.1. `days` is how far back the option reaches, to compare with the
 * retention period: data older than that is gone, so longer options are shown but disabled.
 */
export const RANGE_OPTIONS = Object.freeze([
  { id: "24h", label: "range.last24Hours", range: 24, resolution: "hours", days: 1 },
  { id: "yesterday", label: "range.yesterday", range: "yesterday", resolution: "hours", days: 2 },
  { id: "7d", label: "range.last7Days", range: 7, resolution: "days", days: 7 },
  { id: "30d", label: "range.last30Days", range: 30, resolution: "days", days: 30 },
  { id: "6w", label: "range.last6Weeks", range: 6, resolution: "weeks", days: 42 },
  { id: "12w", label: "range.last12Weeks", range: 12, resolution: "weeks", days: 84 },
  { id: "6m", label: "range.last6Months", range: 6, resolution: "months", days: 186 },
]);
export const DEFAULT_RANGE = "7d";

/** The options with `available` set against the retention period (in days). */
export function rangeOptions(retentionDays = DEFAULT_RETENTION_DAYS) {
  const limit = Number(retentionDays) > 0 ? Number(retentionDays) : DEFAULT_RETENTION_DAYS;
  return RANGE_OPTIONS.map((option) => ({ ...option, available: option.days <= limit }));
}

/** The option for an id, falling back to the default when it is unknown or not available. */
export function pickRange(id, retentionDays) {
  const options = rangeOptions(retentionDays);
  return (
    options.find((o) => o.id === id && o.available) || options.find((o) => o.id === DEFAULT_RANGE)
  );
}

/** The QUERY payload for the vault: the browser's own clock and zone, so days end at local midnight. */
export function buildQuery(option, { now, timeZone, filter = null }) {
  const query = {
    range: option.range,
    resolution: option.resolution,
    now: now instanceof Date ? now.toISOString() : now,
    timeZone,
  };
  if (filter) query.filter = filter;
  return query;
}

/** Sum of page views over the chart buckets. */
export function totalPageviews(result) {
  return (result && Array.isArray(result.pageviews) ? result.pageviews : []).reduce(
    (sum, bucket) => sum + (Number(bucket.pageviews) || 0),
    0,
  );
}

/** Formatting with the auditorium's locale; `t` supplies the words (units, yes/no, "none"). */
export function formatterFor(locale, t) {
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  const seconds = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return {
    count: (n) => (n == null || Number.isNaN(n) ? t("metrics.none") : number.format(n)),
    percent: (share) => (share == null || Number.isNaN(share) ? t("metrics.none") : percent.format(share)),
    duration: (ms) => {
      if (ms == null || Number.isNaN(ms)) return t("metrics.none");
      if (ms < 1000) return t("metrics.ms", { value: number.format(Math.round(ms)) });
      return t("metrics.seconds", { value: seconds.format(ms / 1000) });
    },
    // The visitor is one person: "mobile user" is a yes/no, true when most page views came from mobile.
    yesNo: (share) => (share == null ? t("metrics.none") : share >= 0.5 ? t("metrics.yes") : t("metrics.no")),
  };
}

/**
 * A short label for a chart bucket: the hour for hour buckets, else the date; weeks by their Monday and
 * months by month name. Keys are local labels made by stats.js, so no time zone is applied again.
 */
export function bucketLabel(key, resolution, locale) {
  const [datePart, timePart] = String(key).split("T");
  const [y, m, d] = datePart.split("-").map(Number);
  const date = new Date(Date.UTC(y, (m || 1) - 1, d || 1));
  if (resolution === "hours" && timePart) return timePart;
  if (resolution === "months") {
    return new Intl.DateTimeFormat(locale, { month: "short", year: "numeric", timeZone: "UTC" }).format(date);
  }
  return new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone: "UTC" }).format(date);
}

/** The file name of the export, dated in the visitor's own calendar. */
export function exportFileName(now, timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: timeZone || "UTC",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(now);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `offen-usage-data-${get("year")}-${get("month")}-${get("day")}.json`;
}

/** The export as pretty JSON text; the Blob is made by the caller. */
export function exportText(data) {
  return JSON.stringify(data == null ? {} : data, null, 2) + "\n";
}

/** A page key "https://host/path/" shown without the scheme, as Offen's tables do. */
export function displayUrl(key) {
  return String(key).replace(/^https?:\/\//, "");
}

/** The consent status as the testid contract names it: allow, deny or unknown. */
export function consentName(status) {
  return status === "allow" || status === "deny" ? status : "unknown";
}

/** Reads ?locale= and ?embedded=1 (the overlay frame on a host page) from a URL. */
export function pageOptions(href, htmlLang) {
  const url = new URL(href);
  return {
    locale: url.searchParams.get("locale") || htmlLang || "en",
    embedded: url.searchParams.get("embedded") === "1",
    range: url.searchParams.get("range") || DEFAULT_RANGE,
  };
}
