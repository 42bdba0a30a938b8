// The dashboard's state is its URL (reference §6.1): `range`, `resolution`, `from`, `to` and `filter` in the
// query string. This module owns the presets of the range selector, how they are capped by the account's
// retention period, the custom range's bounds, filter toggling and the engine query made from the state.
// Pure: no DOM, no clock (today and the zone come in), so Node tests cover it (ui/tests/dashboard-*.test.mjs).

import { offsetFunction, parseFilter, RESOLUTIONS } from "../../shared/stats.js";

/** Days of each retention setting (appliance.config.RETENTION_DAYS); unknown settings mean the default. */
export const RETENTION_DAYS = Object.freeze({ "6months": 186, "12weeks": 84, "6weeks": 42, "30days": 30, "7days": 7 });
export const DEFAULT_RETENTION = "6months";

/**
 * The range selector's presets in the order Offen shows them. `days` is how far back the option reaches:
 * an option reaching further than the retention period would show data that no longer exists, so it is
 * shown disabled ("Not available").
 */
export const PRESETS = Object.freeze([
  { id: "yesterday", label: "range.yesterday", range: "yesterday", resolution: "hours", days: 2 },
  { id: "24h", label: "range.last24Hours", range: 24, resolution: "hours", days: 1 },
  { id: "7d", label: "range.last7Days", range: 7, resolution: "days", days: 7 },
  { id: "30d", label: "range.last30Days", range: 30, resolution: "days", days: 30 },
  { id: "6w", label: "range.last6Weeks", range: 6, resolution: "weeks", days: 42 },
  { id: "12w", label: "range.last12Weeks", range: 12, resolution: "weeks", days: 84 },
  { id: "6m", label: "range.last6Months", range: 6, resolution: "months", days: 186 },
]);
export const DEFAULT_PRESET = "7d";
export const CUSTOM = "custom";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY = 24 * 60 * 60 * 1000;

/** Days kept by a retention setting such as "6months"; the default for anything unknown. */
export function retentionDays(period) {
  if (typeof period === "number" && period > 0) return period;
  return RETENTION_DAYS[period] || RETENTION_DAYS[DEFAULT_RETENTION];
}

/** The presets with `available` set for a retention period. */
export function presetOptions(period) {
  const limit = retentionDays(period);
  return PRESETS.map((preset) => ({ ...preset, available: preset.days <= limit }));
}

/** A "YYYY-MM-DD" string that names a real calendar day, else null. */
export function parseDate(text) {
  const match = DATE.exec(String(text || ""));
  if (!match) return null;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return match[0];
}

/** A "YYYY-MM-DD" day moved by whole days (calendar math on UTC noon, so no zone is involved). */
export function addDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n, 12)).toISOString().slice(0, 10);
}

function dayCount(from, to) {
  return Math.round((Date.parse(`${to}T12:00:00Z`) - Date.parse(`${from}T12:00:00Z`)) / DAY);
}

/** The local calendar day of an instant in a time zone (IANA name, minutes or offset function). */
export function localDay(nowMs, timeZone) {
  const offset = offsetFunction(timeZone);
  return new Date(nowMs + offset(nowMs) * 60000).toISOString().slice(0, 10);
}

/** The earliest day a custom range may start on: today − retention (days), reference §6.1. */
export function minCustomDay(today, period) {
  return addDays(today, -retentionDays(period));
}

/**
 * The resolution Offen picks for a custom range when the URL names none (§6.1): from 6 weeks weekly, from
 * 3 months monthly; narrow screens switch earlier (4 weeks) so the bars stay readable.
 */
export function autoResolution(from, to, { narrow = false } = {}) {
  const days = Math.abs(dayCount(from, to)) + 1;
  if (days >= 90) return "months";
  if (days >= (narrow ? 28 : 42)) return "weeks";
  return "days";
}

/**
 * Reads the dashboard state from a query string (or URLSearchParams). Unknown or unavailable values fall
 * back to the default preset, so a hand-edited or stale link still shows something sensible.
 * Returns `{preset, range, resolution, from, to, filter}`; `from`/`to` only for the custom preset.
 */
export function parseState(search, { retentionPeriod, today, narrow = false } = {}) {
  const params = search instanceof URLSearchParams ? search : new URLSearchParams(search || "");
  const filter = parseFilter(params.get("filter"));
  const filterText = filter ? `${filter.prop}:${filter.value}` : null;
  let from = parseDate(params.get("from"));
  let to = parseDate(params.get("to"));
  const askedResolution = RESOLUTIONS.includes(params.get("resolution")) ? params.get("resolution") : null;
  if (from && to) {
    if (from > to) [from, to] = [to, from];
    if (today) {
      // Days before the retention window hold no data any more, days after today none yet.
      const min = minCustomDay(today, retentionPeriod);
      if (from < min) from = min;
      if (to > today) to = today;
      if (from > to) from = to;
    }
    return {
      preset: CUSTOM,
      range: dayCount(from, to) + 1,
      resolution: askedResolution || autoResolution(from, to, { narrow }),
      from,
      to,
      filter: filterText,
    };
  }
  const options = presetOptions(retentionPeriod);
  const rangeText = params.get("range");
  const match = options.find(
    (o) => o.available && String(o.range) === rangeText && (o.resolution === (askedResolution || "days") || o.range === "yesterday"),
  );
  const preset = match || options.find((o) => o.id === DEFAULT_PRESET);
  return { preset: preset.id, range: preset.range, resolution: preset.resolution, from: null, to: null, filter: filterText };
}

/**
 * The query string of a state: only what differs from the defaults is written, so the default view has a
 * clean address. Parameters other than the dashboard's (e.g. `locale`) are kept from `base`.
 */
export function stateToSearch(state, base = "") {
  const params = new URLSearchParams(base);
  for (const name of ["range", "resolution", "from", "to", "filter"]) params.delete(name);
  if (state.preset === CUSTOM && state.from && state.to) {
    params.set("from", state.from);
    params.set("to", state.to);
    if (state.resolution) params.set("resolution", state.resolution);
  } else if (state.preset && state.preset !== DEFAULT_PRESET) {
    const preset = PRESETS.find((p) => p.id === state.preset);
    if (preset) {
      params.set("range", String(preset.range));
      if (preset.range !== "yesterday") params.set("resolution", preset.resolution);
    }
  }
  const filter = parseFilter(state.filter);
  if (filter) params.set("filter", `${filter.prop}:${filter.value}`);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** A new state with a preset chosen (the filter stays: Offen keeps it across range changes). */
export function withPreset(state, presetId) {
  const preset = PRESETS.find((p) => p.id === presetId) || PRESETS.find((p) => p.id === DEFAULT_PRESET);
  return { ...state, preset: preset.id, range: preset.range, resolution: preset.resolution, from: null, to: null };
}

/** A new state with a custom range (dates "YYYY-MM-DD", in any order). */
export function withCustom(state, from, to, { narrow = false, resolution = null } = {}) {
  let a = parseDate(from);
  let b = parseDate(to);
  if (!a || !b) return state;
  if (a > b) [a, b] = [b, a];
  return {
    ...state,
    preset: CUSTOM,
    range: dayCount(a, b) + 1,
    resolution: resolution || autoResolution(a, b, { narrow }),
    from: a,
    to: b,
  };
}

/** The `filter` value after a click on a row: the same row again removes it, another row replaces it. */
export function toggleFilter(current, prop, value) {
  const next = parseFilter({ prop, value });
  if (!next) return current || null;
  const text = `${next.prop}:${next.value}`;
  const now = parseFilter(current);
  return now && `${now.prop}:${now.value}` === text ? null : text;
}

/** Is `prop:value` the active filter? */
export function isActiveFilter(current, prop, value) {
  const now = parseFilter(current);
  const row = parseFilter({ prop, value });
  return Boolean(now && row && now.prop === row.prop && now.value === row.value);
}

/** The instant of local noon of a day in a zone: safely inside that local day whatever the offset. */
function localNoon(day, timeZone) {
  const [y, m, d] = day.split("-").map(Number);
  const offset = offsetFunction(timeZone);
  const wall = Date.UTC(y, m - 1, d, 12);
  return wall - offset(wall) * 60000;
}

/** The engine query of a state (stats.js / computeOperatorStats input). */
export function buildQuery(state, { now, timeZone }) {
  const nowDate = now instanceof Date ? now : new Date(now);
  const query = {
    range: state.range,
    resolution: state.resolution,
    now: nowDate.toISOString(),
    timeZone: timeZone || "UTC",
    perspective: "operator",
  };
  if (state.preset === CUSTOM && state.from && state.to) {
    query.from = new Date(localNoon(state.from, query.timeZone)).toISOString();
    query.to = new Date(localNoon(state.to, query.timeZone)).toISOString();
  }
  if (state.filter) query.filter = state.filter;
  return query;
}
