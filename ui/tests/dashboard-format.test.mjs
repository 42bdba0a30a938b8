// Formatting, snippets, table rows and chart helpers of the operator dashboard (pure parts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { axisTicks, countryName, formatCount, formatDecimal, formatDuration, formatPercent, isWeekend, keyLabel } from "../operator/dashboard/format.js";
import { auditoriumLink, embedSnippet, widgetSnippet, widgetUrl } from "../operator/dashboard/snippets.js";
import { cellValue, heatLevel, TABLES, visibleRows } from "../operator/dashboard/tables.js";
import { labelledIndexes } from "../operator/dashboard/chart.js";
import { dashboardTranslator } from "../operator/dashboard/main.js";
import { previewDocument, styleText } from "../operator/dashboard/styles-editor.js";
import { NONE_GEOLOCATION, NONE_REFERRER } from "../shared/stats.js";
import { readFileSync } from "node:fs";

const t = (key, params) => (params ? `${key}${JSON.stringify(params)}` : key);

test("counts: plain below 10k, k and M above, one decimal", () => {
  assert.equal(formatCount(0), "0");
  assert.equal(formatCount(999), "999");
  assert.equal(formatCount(9999), "9,999");
  assert.equal(formatCount(12345), "12.3k");
  assert.equal(formatCount(999_949), "999.9k");
  assert.equal(formatCount(999_950), "1M");
  assert.equal(formatCount(1_234_567), "1.2M");
  assert.equal(formatCount(null), "–");
  assert.equal(formatCount(12345, "de"), "12,3k");
});

test("percentages with one decimal, durations in ms or s", () => {
  assert.equal(formatPercent(1 / 3), "33.3 %");
  assert.equal(formatPercent(0), "0.0 %");
  assert.equal(formatPercent(1), "100.0 %");
  assert.equal(formatPercent(null), "–");
  assert.equal(formatDuration(412.4), "412 ms");
  assert.equal(formatDuration(999), "999 ms");
  assert.equal(formatDuration(1250), "1.25 s");
  assert.equal(formatDuration(61_000), "61.00 s");
  assert.equal(formatDuration(null), "–");
  assert.equal(formatDecimal(7 / 3), "2.3");
});

test("table keys: countries by name, none-keys in words, URLs without scheme", () => {
  assert.equal(countryName("DE"), "Germany");
  assert.equal(keyLabel("geo", "fr", t), "France");
  assert.equal(keyLabel("geo", NONE_GEOLOCATION, t), "tables.noGeo");
  assert.equal(keyLabel("referrer", NONE_REFERRER, t), "tables.noReferrer");
  assert.equal(keyLabel("referrer", "Google", t), "Google");
  assert.equal(keyLabel("href", "https://example.com/a/", t), "example.com/a/");
  assert.equal(keyLabel("exit", "http://example.com/", t), "example.com/");
});

test("weekends and axis ticks", () => {
  assert.equal(isWeekend("2026-11-01"), true); // a Sunday
  assert.equal(isWeekend("2026-11-02"), false);
  assert.equal(isWeekend("2026-11-07T13:00"), true);
  assert.deepEqual(axisTicks(0), [0, 1]);
  assert.deepEqual(axisTicks(7), [0, 2, 4, 6, 8]);
  assert.deepEqual(axisTicks(100), [0, 50, 100]);
  assert.deepEqual(axisTicks(1234), [0, 500, 1000, 1500]);
  assert.deepEqual(labelledIndexes(5, 10), [0, 1, 2, 3, 4]);
  assert.deepEqual(labelledIndexes(30, 10), [2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
});

test("the embed snippet is Offen's, with this instance's origin and the account", () => {
  assert.equal(
    embedSnippet("https://offen.example.test/", "9b63c4d8-65c0-438c-9d30-cc4b01173393"),
    '<script async src="https://offen.example.test/script.js" data-account-id="9b63c4d8-65c0-438c-9d30-cc4b01173393"></script>',
  );
  assert.equal(embedSnippet("https://a.test", 'x"><b'), '<script async src="https://a.test/script.js" data-account-id="x&quot;&gt;&lt;b"></script>');
});

test("the visitor access link and the widget snippets", () => {
  assert.equal(auditoriumLink("https://offen.example.test"), "https://offen.example.test/auditorium/");
  assert.equal(widgetUrl("https://o.test", "circle", "de"), "https://o.test/user-access-widget-circle-de.svg");
  assert.equal(widgetUrl("https://o.test", "weird", "xx"), "https://o.test/user-access-widget-bar-en.svg");
  assert.equal(
    widgetSnippet("https://o.test", "box", "fr"),
    '<a href="https://o.test/auditorium/" target="_blank" rel="noopener"><img src="https://o.test/user-access-widget-box-fr.svg" alt="Accédez à vos données d&#39;utilisation" width="140" height="140"></a>'.replace("&#39;", "'"),
  );
});

test("every widget file exists, is small and names itself in its title", () => {
  for (const style of ["bar", "box", "circle"]) {
    for (const lang of ["en", "de", "fr", "es", "pt", "vi"]) {
      const svg = readFileSync(new URL(`../operator/widgets/user-access-widget-${style}-${lang}.svg`, import.meta.url), "utf8");
      assert.ok(svg.length < 4096, `${style}-${lang} is small`);
      assert.match(svg, /<title id="t">[^<]+<\/title>/);
      assert.match(svg, new RegExp(`lang="${lang}"`));
      assert.match(svg, /role="img" aria-labelledby="t"/);
    }
  }
});

test("table rows: top 10, all, the filtered row beyond the top 10, and the fallback row", () => {
  const spec = TABLES.find((s) => s.id === "referrers");
  const rows = Array.from({ length: 15 }, (_, i) => ({ key: `host${i}.test`, count: [15 - i, 1.5] }));
  assert.equal(visibleRows(rows, spec, null, false).rows.length, 10);
  assert.equal(visibleRows(rows, spec, null, true).rows.length, 15);
  const beyond = visibleRows(rows, spec, "referrer:host12.test", false);
  assert.equal(beyond.rows.length, 11);
  assert.equal(beyond.rows[10].key, "host12.test");
  assert.equal(beyond.fallback, null);
  const missing = visibleRows(rows, spec, "referrer:gone.test", false);
  assert.equal(missing.fallback, "gone.test");
  assert.equal(visibleRows(rows, spec, "geo:DE", false).fallback, null, "a filter of another table adds no row here");
  assert.equal(cellValue({ key: "a", count: [4, 2.5] }, "sessions"), 4);
  assert.equal(cellValue({ key: "a", count: [4, 2.5] }, "depth"), 2.5);
  assert.equal(cellValue({ key: "a", count: 7 }, "count"), 7);
});

test("heat levels follow the share", () => {
  assert.deepEqual([0, 0.01, 0.25, 0.26, 0.5, 0.75, 1].map(heatLevel), [0, 1, 1, 2, 2, 3, 4]);
});

test("the dashboard's catalogue comes first, other keys go to the operator pages' translator", () => {
  const pages = (key) => `pages:${key}`;
  pages.locale = "en";
  const tr = dashboardTranslator(pages, { "a.b": "Hello {name}" });
  assert.equal(tr("a.b", { name: "Ann" }), "Hello Ann");
  assert.equal(tr("login.title"), "pages:login.title");
  const catalogue = JSON.parse(readFileSync(new URL("../operator/dashboard/strings.en.json", import.meta.url), "utf8"));
  for (const [key, value] of Object.entries(catalogue)) assert.equal(typeof value, "string", key);
  // Every key the views ask for exists (a missing key would show up as the key itself).
  const sources = ["main.js", "tables.js", "chart.js", "styles-editor.js", "dom.js", "state.js"]
    .map((f) => readFileSync(new URL(`../operator/dashboard/${f}`, import.meta.url), "utf8"))
    .join("\n");
  for (const match of sources.matchAll(/\bt\(\s*"([a-zA-Z]+\.[a-zA-Z0-9.]+)"/g)) {
    assert.ok(Object.hasOwn(catalogue, match[1]), `missing key ${match[1]}`);
  }
});

test("banner previews: the operator's CSS cannot leave its style element", () => {
  assert.equal(styleText(".a{}</style><script>x</script>"), ".a{}\\3c /style>\\3c script>x\\3c /script>");
  const doc = previewDocument({ baseCss: ".x{}", customCss: ".banner__root{color:red}", markup: "<div class=\"banner__root\"></div>" });
  assert.match(doc, /<style>\.banner__root\{color:red\}<\/style>/);
  assert.equal((doc.match(/<\/style>/g) || []).length, 2);
});
