// URL ⇄ state of the operator dashboard, presets capped by retention, filter toggling, engine queries.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addDays,
  autoResolution,
  buildQuery,
  isActiveFilter,
  localDay,
  minCustomDay,
  parseDate,
  parseState,
  presetOptions,
  retentionDays,
  stateToSearch,
  toggleFilter,
  withCustom,
  withPreset,
} from "../operator/dashboard/state.js";
import { timeBuckets } from "../shared/stats.js";

test("retention settings map to days, unknown ones to six months", () => {
  assert.equal(retentionDays("30days"), 30);
  assert.equal(retentionDays("12weeks"), 84);
  assert.equal(retentionDays("nonsense"), 186);
  assert.equal(retentionDays(undefined), 186);
});

test("presets longer than the retention period are not available", () => {
  const byId = (period) => Object.fromEntries(presetOptions(period).map((o) => [o.id, o.available]));
  assert.deepEqual(byId("30days"), { yesterday: true, "24h": true, "7d": true, "30d": true, "6w": false, "12w": false, "6m": false });
  assert.deepEqual(byId("7days"), { yesterday: true, "24h": true, "7d": true, "30d": false, "6w": false, "12w": false, "6m": false });
  assert.ok(presetOptions("6months").every((o) => o.available));
});

test("the default view has a clean URL and reads back as 7 days", () => {
  const state = parseState("");
  assert.deepEqual(state, { preset: "7d", range: 7, resolution: "days", from: null, to: null, filter: null });
  assert.equal(stateToSearch(state), "");
});

test("every preset survives the round trip through the URL", () => {
  for (const option of presetOptions("6months")) {
    const state = withPreset(parseState(""), option.id);
    const back = parseState(stateToSearch(state));
    assert.equal(back.preset, option.id, option.id);
    assert.equal(back.range, option.range);
    assert.equal(back.resolution, option.resolution);
  }
  assert.equal(stateToSearch(withPreset(parseState(""), "6m")), "?range=6&resolution=months");
  assert.equal(stateToSearch(withPreset(parseState(""), "yesterday")), "?range=yesterday");
});

test("a preset the retention does not cover falls back to the default", () => {
  assert.equal(parseState("?range=6&resolution=months", { retentionPeriod: "30days" }).preset, "7d");
  assert.equal(parseState("?range=30&resolution=days", { retentionPeriod: "30days" }).preset, "30d");
  assert.equal(parseState("?range=13&resolution=days").preset, "7d");
});

test("the filter is kept, encoded, and other parameters stay", () => {
  const state = { ...parseState(""), filter: "href:https://example.com/a b/?x=1&y=2" };
  const search = stateToSearch(state, "?locale=de&filter=geo:FR");
  const params = new URLSearchParams(search);
  assert.equal(params.get("locale"), "de");
  assert.equal(params.get("filter"), "href:https://example.com/a%20b/");
  assert.equal(parseState(search).filter, "href:https://example.com/a%20b/");
  assert.equal(parseState("?filter=bogus:1").filter, null);
  assert.equal(parseState("?filter=geo:DE").filter, "geo:DE");
});

test("custom ranges: order, resolution picked by length, clamped to the retention window and today", () => {
  const custom = parseState("?from=2026-11-10&to=2026-11-01", { today: "2026-11-20", retentionPeriod: "6months" });
  assert.deepEqual(custom, { preset: "custom", range: 10, resolution: "days", from: "2026-11-01", to: "2026-11-10", filter: null });
  const clamped = parseState("?from=2026-01-01&to=2026-12-31", { today: "2026-11-20", retentionPeriod: "30days" });
  assert.equal(clamped.from, "2026-10-21");
  assert.equal(clamped.to, "2026-11-20");
  assert.equal(clamped.resolution, "days");
  assert.equal(minCustomDay("2026-11-20", "30days"), "2026-10-21");
  assert.equal(parseState("?from=2026-02-30&to=2026-03-01").preset, "7d", "an impossible date is ignored");
  const round = parseState(stateToSearch(withCustom(parseState(""), "2026-09-01", "2026-10-31")), { today: "2026-11-20" });
  assert.equal(round.from, "2026-09-01");
  assert.equal(round.to, "2026-10-31");
  assert.equal(round.resolution, "weeks");
  assert.equal(parseState("?from=2026-09-01&to=2026-10-31&resolution=days", { today: "2026-11-20" }).resolution, "days");
});

test("automatic resolution: weeks from 6 weeks (4 on narrow screens), months from 3 months", () => {
  assert.equal(autoResolution("2026-01-01", "2026-02-10"), "days"); // 41 days
  assert.equal(autoResolution("2026-01-01", "2026-02-11"), "weeks"); // 42 days
  assert.equal(autoResolution("2026-01-01", "2026-01-28", { narrow: true }), "weeks"); // 28 days
  assert.equal(autoResolution("2026-01-01", "2026-01-28"), "days");
  assert.equal(autoResolution("2026-01-01", "2026-03-31"), "months"); // 90 days
});

test("dates: validation, stepping and the local day in a zone", () => {
  assert.equal(parseDate("2028-02-29"), "2028-02-29");
  assert.equal(parseDate("2027-02-29"), null);
  assert.equal(parseDate("2026-1-01"), null);
  assert.equal(addDays("2026-03-01", -1), "2026-02-28");
  assert.equal(addDays("2026-12-31", 1), "2027-01-01");
  const ms = Date.parse("2026-11-01T23:30:00Z");
  assert.equal(localDay(ms, "UTC"), "2026-11-01");
  assert.equal(localDay(ms, "Europe/Berlin"), "2026-11-02");
  assert.equal(localDay(ms, "America/New_York"), "2026-11-01");
});

test("filter toggling: a row sets, the same row removes, another row replaces", () => {
  assert.equal(toggleFilter(null, "geo", "DE"), "geo:DE");
  assert.equal(toggleFilter("geo:DE", "geo", "DE"), null);
  assert.equal(toggleFilter("geo:DE", "referrer", "Google"), "referrer:Google");
  assert.equal(toggleFilter(null, "href", "https://example.com/about?x=1"), "href:https://example.com/about/");
  assert.equal(toggleFilter("href:https://example.com/about/", "href", "https://example.com/about"), null);
  assert.equal(toggleFilter("geo:DE", "nonsense", "x"), "geo:DE");
  assert.ok(isActiveFilter("campaign:spring:sale", "campaign", "spring:sale"));
  assert.ok(!isActiveFilter("campaign:spring", "source", "spring"));
});

test("engine queries: presets pass through, custom days become local noons that land on the right days", () => {
  const now = new Date("2026-11-20T10:00:00Z");
  const preset = buildQuery(withPreset(parseState(""), "24h"), { now, timeZone: "Europe/Berlin" });
  assert.deepEqual(preset, { range: 24, resolution: "hours", now: now.toISOString(), timeZone: "Europe/Berlin", perspective: "operator" });
  const withFilter = buildQuery({ ...parseState(""), filter: "geo:DE" }, { now, timeZone: "UTC" });
  assert.equal(withFilter.filter, "geo:DE");
  for (const timeZone of ["UTC", "Pacific/Honolulu", "Asia/Tokyo", "Pacific/Kiritimati", "America/St_Johns"]) {
    const state = withCustom(parseState(""), "2026-11-01", "2026-11-03");
    const query = buildQuery(state, { now, timeZone });
    const bounds = timeBuckets(query);
    assert.deepEqual(bounds.buckets.map((b) => b.key), ["2026-11-01", "2026-11-02", "2026-11-03"], timeZone);
  }
});
