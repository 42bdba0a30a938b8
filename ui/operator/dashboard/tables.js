// The tables of the dashboard (reference §6.4): Top pages, Location, Referrers, Campaigns, Sources, Landing
// pages and Exit pages behind one tablist (ARIA tabs pattern: arrow keys, Home/End, roving tabindex), each
// with 10 rows and "Show all entries"; every row is a link that sets or removes the `filter` URL parameter,
// and an active filter whose value has no row gets a fallback row. Also the weekly retention matrix, as a
// real table whose heat colours only repeat what the text in each cell says.

import { formatCount, formatDecimal, formatPercent, keyLabel } from "./format.js";
import { isActiveFilter, toggleFilter } from "./state.js";
import { parseFilter } from "../../shared/stats.js";

export const TOP_ROWS = 10;

/** [id, result field, filter property, first column key, value columns ("count" | "sessions" | "depth")] */
export const TABLES = Object.freeze([
  { id: "pages", field: "pages", prop: "href", column: "tables.url", values: [["tables.pageviews", "count"]] },
  { id: "geo", field: "geo", prop: "geo", column: "tables.country", values: [["tables.sessions", "sessions"], ["tables.pageDepth", "depth"]] },
  { id: "referrers", field: "referrers", prop: "referrer", column: "tables.referrer", values: [["tables.sessions", "sessions"], ["tables.pageDepth", "depth"]] },
  { id: "campaigns", field: "campaigns", prop: "campaign", column: "tables.campaign", values: [["tables.sessions", "sessions"], ["tables.pageDepth", "depth"]] },
  { id: "sources", field: "sources", prop: "source", column: "tables.source", values: [["tables.sessions", "sessions"], ["tables.pageDepth", "depth"]] },
  { id: "landingPages", field: "landingPages", prop: "landing", column: "tables.url", values: [["tables.landings", "count"]] },
  { id: "exitPages", field: "exitPages", prop: "exit", column: "tables.url", values: [["tables.exits", "count"]] },
]);

/** The raw number of a value column for a row of stats.js output. */
export function cellValue(row, kind) {
  if (kind === "count") return Array.isArray(row.count) ? row.count[0] : row.count;
  if (kind === "sessions") return Array.isArray(row.count) ? row.count[0] : row.count;
  return Array.isArray(row.count) ? row.count[1] : null;
}

/**
 * The rows a table shows: the top 10 (or all), plus a fallback row when the active filter is on this
 * table's property but its value is not among the rows (e.g. a page with no views in the new range).
 */
export function visibleRows(rows, spec, filter, showAll) {
  const shown = showAll ? rows.slice() : rows.slice(0, TOP_ROWS);
  const f = parseFilter(filter);
  let fallback = null;
  if (f && f.prop === spec.prop && !rows.some((r) => isActiveFilter(filter, spec.prop, r.key))) {
    fallback = f.value;
  } else if (f && f.prop === spec.prop && !shown.some((r) => isActiveFilter(filter, spec.prop, r.key))) {
    // The filtered row exists beyond the top 10: show it anyway, so the filter can be removed here.
    shown.push(rows.find((r) => isActiveFilter(filter, spec.prop, r.key)));
  }
  return { rows: shown, fallback };
}

/**
 * The tabs and their panels. `ui` is the dashboard's view state (`activeTab`, `showAll` per table) and
 * `onFilter(filterText|null, focusKey)` changes the URL. Returns the element.
 */
export function renderTables({ h, t, result, filter, ui, locale, onFilter, onChange, hrefFor }) {
  const active = TABLES.some((s) => s.id === ui.activeTab) ? ui.activeTab : TABLES[0].id;
  const tabs = [];
  const panels = [];
  const select = (id, focus) => {
    ui.activeTab = id;
    onChange({ focus: focus ? `tab:${id}` : null });
  };
  TABLES.forEach((spec, index) => {
    const selected = spec.id === active;
    const tab = h("button", {
      type: "button",
      role: "tab",
      id: `dash-tab-${spec.id}`,
      "aria-controls": `dash-panel-${spec.id}`,
      "aria-selected": selected ? "true" : "false",
      tabindex: selected ? "0" : "-1",
      class: "dash-tab",
      "data-testid": `dashboard/tab-${spec.id}`,
      "data-focus": `tab:${spec.id}`,
      text: t(`tables.${spec.id}`),
      onclick: () => select(spec.id, true),
      onkeydown: (event) => {
        const keys = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABLES.length - 1 };
        if (!(event.key in keys)) return;
        event.preventDefault();
        const next = (keys[event.key] + TABLES.length) % TABLES.length;
        select(TABLES[next].id, true);
      },
    });
    tabs.push(tab);
    const panel = h(
      "div",
      {
        role: "tabpanel",
        id: `dash-panel-${spec.id}`,
        "aria-labelledby": `dash-tab-${spec.id}`,
        hidden: !selected,
        class: "dash-tabpanel",
      },
      selected ? [renderTable({ h, t, spec, rows: result[spec.field] || [], filter, ui, locale, onFilter, onChange, hrefFor })] : [],
    );
    panels.push(panel);
  });
  return h("div", { class: "dash-tables" }, [
    h("div", { role: "tablist", "aria-label": t("tables.heading"), class: "dash-tablist" }, tabs),
    ...panels,
  ]);
}

function renderTable({ h, t, spec, rows, filter, ui, locale, onFilter, onChange, hrefFor }) {
  const showAll = Boolean(ui.showAll && ui.showAll[spec.id]);
  const { rows: shown, fallback } = visibleRows(rows, spec, filter, showAll);
  const format = (kind, v) => (kind === "depth" ? formatDecimal(v, locale) : formatCount(v, locale));
  const link = (key, label) => {
    const activeRow = isActiveFilter(filter, spec.prop, key);
    const next = toggleFilter(filter, spec.prop, key);
    return h("a", {
      href: hrefFor(next),
      class: activeRow ? "dash-rowlink is-active" : "dash-rowlink",
      "aria-current": activeRow ? "true" : null,
      "aria-label": activeRow ? t("tables.removeFilterFor", { value: label }) : t("tables.filterBy", { value: label }),
      "data-focus": `row:${spec.prop}:${key}`,
      "data-key": key,
      text: label,
      onclick: (event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button > 0) return; // new tab: let it go
        event.preventDefault();
        onFilter(next, `row:${spec.prop}:${key}`);
      },
    });
  };
  const body = shown.map((row) => {
    const label = keyLabel(spec.prop, row.key, t, locale);
    return h("tr", { class: isActiveFilter(filter, spec.prop, row.key) ? "is-active" : null }, [
      h("th", { scope: "row", class: "dash-keycell" }, [link(row.key, label)]),
      ...spec.values.map(([, kind]) => {
        const value = cellValue(row, kind);
        return h("td", { class: "num", "data-value": value == null ? "" : String(value), text: format(kind, value) });
      }),
    ]);
  });
  if (fallback != null) {
    const label = keyLabel(spec.prop, fallback, t, locale);
    body.push(
      h("tr", { class: "dash-fallback", "data-testid": `dashboard/fallback-${spec.id}` }, [
        h("th", { scope: "row", class: "dash-keycell" }, [link(fallback, label)]),
        h("td", { colspan: String(spec.values.length), text: t("tables.fallback") }),
      ]),
    );
  }
  if (!body.length) {
    body.push(h("tr", {}, [h("td", { colspan: String(spec.values.length + 1), class: "dash-empty", text: t("tables.empty") })]));
  }
  const table = h("table", { class: "dash-table", "data-testid": `dashboard/table-${spec.id}`, "data-rows": String(rows.length) }, [
    h("caption", { class: "visually-hidden", text: t(`tables.${spec.id}`) }),
    h("thead", {}, [
      h("tr", {}, [
        h("th", { scope: "col", text: t(spec.column) }),
        ...spec.values.map(([key]) => h("th", { scope: "col", class: "num", text: t(key) })),
      ]),
    ]),
    h("tbody", {}, body),
  ]);
  const more =
    rows.length > TOP_ROWS
      ? h("button", {
          type: "button",
          class: "dash-button dash-button--quiet",
          "aria-expanded": showAll ? "true" : "false",
          "data-testid": `dashboard/show-all-${spec.id}`,
          "data-focus": `more:${spec.id}`,
          text: showAll ? t("tables.showFewer") : t("tables.showAll", { count: formatCount(rows.length, locale) }),
          onclick: () => {
            ui.showAll = { ...(ui.showAll || {}), [spec.id]: !showAll };
            onChange({ focus: `more:${spec.id}` });
          },
        })
      : null;
  // The scroll box keeps long URLs from widening the page on a phone; it is focusable so keyboard users
  // can scroll it too (axe: scrollable-region-focusable).
  return h("div", {}, [
    h("div", { class: "dash-scroll", tabindex: "0", role: "region", "aria-label": t(`tables.${spec.id}`) }, [table]),
    more,
  ]);
}

/** Heat level 0..4 of a share; the CSS pairs each level with a text colour of sufficient contrast. */
export function heatLevel(share) {
  if (!(share > 0)) return 0;
  return Math.min(4, Math.ceil(share * 4));
}

export function renderRetention({ h, t, matrix, locale }) {
  const rows = Array.isArray(matrix) ? matrix : [];
  return h("div", { class: "dash-scroll", tabindex: "0", role: "region", "aria-label": t("retention.caption") }, [
    h("table", { class: "dash-retention", "data-testid": "dashboard/retention" }, [
      h("caption", { class: "visually-hidden", text: t("retention.caption") }),
      h("thead", {}, [
        h("tr", {}, [
          h("th", { scope: "col", text: t("retention.cohort") }),
          ...[0, 1, 2, 3].map((j) => h("th", { scope: "col", text: t(`retention.col${j}`) })),
        ]),
      ]),
      h(
        "tbody",
        {},
        rows.map((row, i) =>
          h("tr", {}, [
            h("th", { scope: "row", text: t(`retention.row${i}`) }),
            ...[0, 1, 2, 3].map((j) =>
              j < row.length
                ? h("td", {
                    class: `heat heat--${heatLevel(row[j])}`,
                    "data-value": String(row[j]),
                    text: formatPercent(row[j], locale),
                  })
                : h("td", { class: "heat heat--none" }),
            ),
          ]),
        ),
      ),
    ]),
  ]);
}
