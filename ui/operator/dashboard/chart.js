// The "Page views and users" chart (reference §6.4): stacked bars drawn as hand-written SVG, dark green for
// unique visitors and bright green for the further page views on top, so a bar's full height is the page
// views. Weekend labels are italic. The SVG is one image for assistive technology (role="img" with a
// summary); the numbers themselves are in a visually hidden table next to it, read as a table.

import { SVG_NS } from "./dom.js";
import { axisTicks, bucketLabel, formatCount, isWeekend } from "./format.js";

const WIDTH = 720;
const HEIGHT = 260;
const MARGIN = { top: 12, right: 8, bottom: 44, left: 52 };

/** Which bucket indexes get an x label: at most `max`, evenly spread, always the last one. */
export function labelledIndexes(count, max = 10) {
  if (count <= max) return [...Array(count).keys()];
  const every = Math.ceil(count / max);
  const out = [];
  for (let i = count - 1; i >= 0; i -= every) out.unshift(i);
  return out;
}

/** Renders the chart for `series` (result.pageviews) into a fresh element. */
export function renderChart({ h, t, series, resolution, locale = "en", narrow = false }) {
  const total = series.reduce((sum, b) => sum + (b.pageviews || 0), 0);
  if (!series.length || total === 0) {
    return h("p", { class: "dash-empty", "data-testid": "dashboard/chart-empty", text: t("chart.empty") });
  }
  const max = Math.max(...series.map((b) => b.pageviews || 0));
  const ticks = axisTicks(max, 4);
  const top = ticks[ticks.length - 1];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const band = plotW / series.length;
  const barW = Math.max(Math.min(band * 0.72, 48), 1);
  const y = (v) => MARGIN.top + plotH - (v / top) * plotH;
  const s = (tag, attrs = {}, children = []) => h(tag, { xmlns: SVG_NS, ...attrs }, children);

  const summary = t("chart.summary", {
    count: series.length,
    pageviews: formatCount(total, locale),
    max: formatCount(max, locale),
  });
  const parts = [];
  for (const tick of ticks) {
    const ty = y(tick);
    parts.push(s("line", { class: "chart-grid", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: ty, y2: ty }));
    parts.push(
      s("text", { class: "chart-tick", x: MARGIN.left - 6, y: ty + 4, "text-anchor": "end" }, [formatCount(tick, locale)]),
    );
  }
  const labelled = new Set(labelledIndexes(series.length, narrow ? 6 : 10));
  series.forEach((bucket, i) => {
    const x = MARGIN.left + i * band + (band - barW) / 2;
    const pageviews = bucket.pageviews || 0;
    const visitors = Math.min(bucket.visitors || 0, pageviews);
    const label = bucketLabel(bucket.key || bucket.date, resolution, locale);
    const group = s("g", { class: "chart-bar" }, [
      s("title", {}, [`${label}: ${formatCount(pageviews, locale)} ${t("chart.pageviews")}, ${formatCount(visitors, locale)} ${t("chart.visitors")}`]),
      s("rect", { class: "chart-visitors", x, width: barW, y: y(visitors), height: Math.max(y(0) - y(visitors), 0) }),
      s("rect", { class: "chart-extra", x, width: barW, y: y(pageviews), height: Math.max(y(visitors) - y(pageviews), 0) }),
    ]);
    parts.push(group);
    if (labelled.has(i)) {
      const weekend = resolution === "days" && isWeekend(bucket.key || "");
      parts.push(
        s(
          "text",
          {
            class: weekend ? "chart-label chart-label--weekend" : "chart-label",
            x: MARGIN.left + i * band + band / 2,
            y: HEIGHT - MARGIN.bottom + 18,
            "text-anchor": "middle",
          },
          [label],
        ),
      );
    }
  });
  parts.push(s("line", { class: "chart-axis", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0) }));
  parts.push(
    s("text", { class: "chart-axis-label", x: MARGIN.left + plotW / 2, y: HEIGHT - 6, "text-anchor": "middle" }, [
      t("chart.date"),
    ]),
  );
  parts.push(
    s(
      "text",
      { class: "chart-axis-label", transform: `translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)`, "text-anchor": "middle" },
      [t("chart.pageviews")],
    ),
  );
  const svg = s(
    "svg",
    {
      class: "chart-svg",
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      preserveAspectRatio: "xMidYMid meet",
      role: "img",
      "aria-label": summary,
      "data-testid": "dashboard/chart",
      focusable: "false",
    },
    parts,
  );
  const legend = h("ul", { class: "chart-legend" }, [
    h("li", {}, [h("span", { class: "swatch swatch--visitors", "aria-hidden": "true" }), t("chart.visitors")]),
    h("li", {}, [h("span", { class: "swatch swatch--extra", "aria-hidden": "true" }), t("chart.extraPageviews")]),
    resolution === "days" ? h("li", { class: "chart-legend-note", text: t("chart.weekend") }) : null,
  ]);
  const table = h("table", { class: "visually-hidden", "data-testid": "dashboard/chart-table" }, [
    h("caption", { text: t("chart.tableCaption") }),
    h("thead", {}, [
      h("tr", {}, [
        h("th", { scope: "col", text: t("chart.date") }),
        h("th", { scope: "col", text: t("chart.pageviews") }),
        h("th", { scope: "col", text: t("chart.visitors") }),
      ]),
    ]),
    h(
      "tbody",
      {},
      series.map((bucket) =>
        h("tr", {}, [
          h("th", { scope: "row", text: bucketLabel(bucket.key || bucket.date, resolution, locale) }),
          h("td", { text: String(bucket.pageviews || 0) }),
          h("td", { text: String(bucket.visitors || 0) }),
        ]),
      ),
    ),
  ]);
  return h("div", { class: "chart" }, [svg, legend, table]);
}
