// The visitor's auditorium (reference §6.5): consent status and the privacy actions, the visitor's own
// metrics with a range selector, top pages and sources, weekly retention, a glossary, an FAQ and a JSON
// export. It only renders: every piece of data comes from the vault over postMessage (vault-client.js),
// because only the vault holds the keys that decrypt the visitor's events.

import { loadTranslator } from "../shared/i18n.js";
import { NONE_REFERRER } from "../shared/stats.js";
import { vaultClientWith } from "./vault-client.js";
import {
  bucketLabel,
  buildQuery,
  consentName,
  displayUrl,
  exportFileName,
  exportText,
  formatterFor,
  pageOptions,
  pickRange,
  rangeOptions,
  totalPageviews,
} from "./format.js";

const TABLES = [
  // [result field, caption key, filter property, first column key, value columns]
  ["pages", "tables.pages", "href", "tables.url", ["tables.pageviews"]],
  ["referrers", "tables.referrers", "referrer", "tables.source", ["tables.sessions", "tables.pageDepth"]],
  ["campaigns", "tables.campaigns", "campaign", "tables.campaign", ["tables.sessions", "tables.pageDepth"]],
  ["sources", "tables.sources", "source", "tables.source", ["tables.sessions", "tables.pageDepth"]],
  ["landingPages", "tables.landingPages", "landing", "tables.url", ["tables.landings"]],
  ["exitPages", "tables.exitPages", "exit", "tables.url", ["tables.exits"]],
];
const URL_PROPS = new Set(["href", "landing", "exit"]);
const GLOSSARY = ["auditorium", "installation", "operator", "cookies", "uniqueUser", "uniqueSession", "id", "encryption"];
const FAQ = ["what", "collected", "notCollected", "encryption", "cookies", "delete", "optOut", "export", "perSite"];

/**
 * Builds the auditorium into `root` and returns `{refresh, state}`. All side effects come in as
 * dependencies: `window` (history, parent for the overlay), `document`, the vault client, the translator,
 * the clock and the time zone.
 */
export function auditoriumWith({ window, document, root, vault, t, embedded = false, range, now, timeZone }) {
  const locale = t.locale || "en";
  const format = formatterFor(locale, t);
  const state = { consent: null, allowsCookies: true, result: null, rangeId: range, filter: null, busy: false };

  // ---- tiny DOM helpers -------------------------------------------------------------------------------
  function h(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of [].concat(children)) {
      if (child == null || child === false) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }
  const section = (id, headingKey, children, attrs = {}) =>
    h("section", { class: "panel", "aria-labelledby": `${id}-heading`, id, ...attrs }, [
      h("h2", { id: `${id}-heading`, text: t(headingKey) }),
      ...children,
    ]);
  const explainer = (key) =>
    h("details", { class: "explainer" }, [h("summary", { text: t("auditorium.explainer") }), h("p", { text: t(key) })]);

  // ---- static frame -----------------------------------------------------------------------------------
  document.title = t("auditorium.documentTitle");
  const loading = h("p", { class: "loading", role: "status", "data-testid": "auditorium/loading", text: t("auditorium.loading") });
  const errorBox = h("div", { class: "error", role: "alert", hidden: true });
  const notice = h("p", { class: "notice", role: "status", "aria-live": "polite" });
  const privacyBody = h("div");
  const statusText = h("p", { class: "status", "data-testid": "auditorium/consent-status", "data-status": "unknown" });
  const select = h("select", { id: "range", "data-testid": "auditorium/range" });
  const filterBar = h("div", { class: "filter", hidden: true });
  const chart = h("div", { class: "chart-area" });
  const metrics = h("dl", { class: "metrics" });
  const tables = h("div", { class: "tables" });
  const retention = h("div", { class: "retention-area" });
  const data = h("div", { class: "data" }, [
    h("div", { class: "range" }, [h("label", { for: "range", text: t("range.label") }), select]),
    filterBar,
    section("chart", "chart.heading", [chart, explainer("chart.explainer")]),
    section("metrics", "metrics.heading", [metrics, explainer("metrics.explainer")]),
    section("tables", "tables.heading", [tables, explainer("tables.explainer")]),
    section("retention", "retention.heading", [retention, explainer("retention.explainer")]),
  ]);

  for (const option of rangeOptions()) {
    select.appendChild(h("option", { value: option.id, text: t(option.label) }));
  }
  select.addEventListener("change", () => {
    state.rangeId = select.value;
    rememberRange(select.value);
    run(() => query());
  });

  const header = h("header", { class: "top" }, [
    h("div", {}, [
      h("p", { class: "product", text: t("auditorium.product") }),
      h("h1", { text: t("auditorium.title") }),
      h("p", { class: "intro", text: t("auditorium.intro") }),
    ]),
    embedded &&
      h("button", {
        type: "button",
        class: "close",
        "data-testid": "auditorium/close",
        "aria-label": t("auditorium.closeLabel"),
        text: t("auditorium.close"),
        onclick: closeOverlay,
      }),
  ]);
  const exportButton = h("button", {
    type: "button",
    "data-testid": "auditorium/export",
    text: t("export.button"),
    onclick: () => run(exportData),
  });
  root.replaceChildren(
    header,
    h("main", { id: "content" }, [
      loading,
      errorBox,
      notice,
      section("privacy", "privacy.heading", [statusText, privacyBody, explainer("privacy.explainer")]),
      section("export", "export.heading", [h("p", { text: t("export.text") }), exportButton]),
      data,
      section("glossary", "glossary.heading", [glossary()], { "data-testid": "auditorium/glossary" }),
      section("faq", "faq.heading", faq(), { "data-testid": "auditorium/faq" }),
    ]),
  );
  if (embedded) {
    document.documentElement.classList.add("embedded");
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeOverlay();
    });
  }

  function closeOverlay() {
    // Nothing but the type crosses to the host page, so any target origin is safe.
    window.parent.postMessage({ type: "CLOSE_AUDITORIUM" }, "*");
  }

  function rememberRange(id) {
    try {
      const url = new URL(window.location.href);
      url.searchParams.set("range", id);
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    } catch {
      // Without history (sandboxed frames) the range simply is not remembered.
    }
  }

  // ---- vault calls ------------------------------------------------------------------------------------
  function currentQuery() {
    const option = pickRange(state.rangeId, state.result && state.result.retentionDays);
    return buildQuery(option, { now: now(), timeZone, filter: state.filter });
  }

  async function query() {
    const reply = await vault.request("QUERY", { query: currentQuery() });
    state.result = (reply.payload && reply.payload.result) || null;
  }

  async function loadConsent() {
    const reply = await vault.request("CONSENT_STATUS", null);
    applyConsent(reply.payload);
  }

  function applyConsent(payload) {
    state.consent = payload ? payload.status ?? null : null;
    state.allowsCookies = !payload || payload.allowsCookies !== false;
  }

  async function expressConsent(status) {
    const reply = await vault.request("EXPRESS_CONSENT", { status });
    applyConsent(reply.payload);
    await query();
    say(t(status === "allow" ? "privacy.doneOptIn" : "privacy.doneOptOut"));
  }

  async function purge() {
    const reply = await vault.request("PURGE", { query: currentQuery() });
    state.result = (reply.payload && reply.payload.result) || state.result;
    say(t("privacy.doneDelete"));
  }

  async function exportData() {
    const reply = await vault.request("EXPORT", null);
    const body = exportText(reply.payload && reply.payload.export);
    const filename = exportFileName(now(), timeZone);
    const blob = new window.Blob([body], { type: "application/json" });
    const href = window.URL.createObjectURL(blob);
    const link = h("a", { href, download: filename, hidden: true });
    document.body.appendChild(link);
    link.click();
    link.remove();
    // Revoke later: some browsers read the Blob URL after click() returns.
    window.setTimeout(() => window.URL.revokeObjectURL(href), 10000);
    say(t("export.done", { filename }));
  }

  /** Runs one vault operation with the loading state, then re-renders; errors become readable text. */
  async function run(operation) {
    if (state.busy) return;
    state.busy = true;
    loading.textContent = state.result ? t("auditorium.working") : t("auditorium.loading");
    loading.hidden = false;
    setDisabled(true);
    try {
      await operation();
      errorBox.hidden = true;
      errorBox.replaceChildren();
    } catch (err) {
      const message = err && err.message === "timeout" ? t("auditorium.errorTimeout") : String((err && err.message) || err);
      errorBox.replaceChildren(
        h("p", { text: t("auditorium.error", { message }) }),
        h("p", { text: t("auditorium.errorHint") }),
      );
      errorBox.hidden = false;
    } finally {
      state.busy = false;
      loading.hidden = true;
      render();
      setDisabled(false);
    }
  }

  function say(text) {
    notice.textContent = text;
  }

  function setDisabled(disabled) {
    for (const control of root.querySelectorAll("button[data-action], select, [data-testid='auditorium/export']")) {
      control.disabled = disabled;
    }
  }

  // ---- rendering --------------------------------------------------------------------------------------
  function render() {
    renderPrivacy();
    const retentionDays = state.result && state.result.retentionDays;
    const options = rangeOptions(retentionDays);
    for (const node of select.options) {
      const option = options.find((o) => o.id === node.value);
      node.disabled = !option.available;
      node.textContent = option.available ? t(option.label) : t("range.notAvailable", { label: t(option.label) });
    }
    select.value = pickRange(state.rangeId, retentionDays).id;
    data.hidden = !state.result;
    if (!state.result) return;
    renderFilter();
    renderChart(state.result);
    renderMetrics(state.result);
    renderTables(state.result);
    renderRetention(state.result.retentionMatrix || []);
  }

  function renderPrivacy() {
    const name = consentName(state.consent);
    statusText.dataset.status = name;
    statusText.textContent = t({ allow: "privacy.statusAllow", deny: "privacy.statusDeny" }[name] || "privacy.statusUnknown");
    const action = (textKey, buttonKey, testid, onclick) =>
      h("div", { class: "action" }, [
        h("p", { text: t(textKey) }),
        h("button", { type: "button", "data-action": "", "data-testid": testid, text: t(buttonKey), onclick }),
      ]);
    const children = [];
    if (!state.allowsCookies) children.push(h("p", { class: "warning", text: t("auditorium.cookiesBlocked") }));
    if (name === "allow") {
      children.push(
        action("privacy.optOutText", "privacy.optOut", "auditorium/opt-out", () => run(() => expressConsent("deny"))),
        action("privacy.deleteText", "privacy.delete", "auditorium/delete", () => run(purge)),
      );
    } else {
      children.push(
        action("privacy.optInText", "privacy.optIn", "auditorium/opt-in", () => run(() => expressConsent("allow"))),
      );
    }
    privacyBody.replaceChildren(...children);
  }

  function renderFilter() {
    const f = state.filter;
    filterBar.hidden = !f;
    if (!f) return filterBar.replaceChildren();
    const at = f.indexOf(":");
    const prop = f.slice(0, at);
    const value = f.slice(at + 1);
    filterBar.replaceChildren(
      h("p", { text: t("tables.filterActive", { property: t(`filter.${prop}`), value: shown(prop, value) }) }),
      h("button", { type: "button", "data-action": "", text: t("tables.removeFilter"), onclick: () => setFilter(null) }),
    );
  }

  function setFilter(filter) {
    state.filter = filter;
    run(() => query());
  }

  function shown(prop, key) {
    if (prop === "referrer" && key === NONE_REFERRER) return t("tables.noReferrer");
    return URL_PROPS.has(prop) ? displayUrl(key) : key;
  }

  function renderChart(result) {
    const buckets = result.pageviews || [];
    const pageviews = totalPageviews(result);
    if (!pageviews) {
      chart.replaceChildren(h("p", { class: "empty", text: t("chart.empty") }));
      return;
    }
    const max = Math.max(...buckets.map((b) => b.pageviews), 1);
    // Label at most about 8 buckets so 30 days stay readable on a 375 px screen.
    const every = Math.max(1, Math.ceil(buckets.length / 8));
    const list = h(
      "ol",
      { class: "chart", "aria-label": t("chart.summary", { pageviews, websites: result.uniqueAccounts, count: buckets.length }) },
      buckets.map((b, i) => {
        const label = bucketLabel(b.key, result.resolution, locale);
        const bar = h("span", { class: b.pageviews ? "bar some" : "bar", "aria-hidden": "true" });
        bar.style.height = `${Math.round((b.pageviews / max) * 100)}%`;
        return h("li", { title: t("chart.bar", { date: label, pageviews: b.pageviews, websites: b.accounts }) }, [
          h("span", { class: "column" }, [bar]),
          h("span", { class: i % every === 0 ? "tick" : "tick quiet", "aria-hidden": "true", text: label }),
          h("span", { class: "visually-hidden", text: t("chart.bar", { date: label, pageviews: b.pageviews, websites: b.accounts }) }),
        ]);
      }),
    );
    chart.replaceChildren(list);
  }

  function renderMetrics(result) {
    const item = (key, value, text, testid) =>
      h("div", { class: "metric" }, [
        h("dt", { text: t(key) }),
        h("dd", { "data-testid": testid, "data-value": value == null ? "" : String(value), text }),
      ]);
    const pageviews = totalPageviews(result);
    metrics.replaceChildren(
      item("metrics.pageviews", pageviews, format.count(pageviews), "auditorium/metric-pageviews"),
      item("metrics.websites", result.uniqueAccounts, format.count(result.uniqueAccounts), "auditorium/metric-websites"),
      item("metrics.sessions", result.uniqueSessions, format.count(result.uniqueSessions), "auditorium/metric-sessions"),
      item("metrics.pageDepth", result.avgPageDepth, format.count(result.avgPageDepth)),
      item("metrics.bounceRate", result.bounceRate, format.percent(result.bounceRate)),
      item("metrics.mobile", result.mobileShare, format.yesNo(result.mobileShare)),
      item("metrics.pageload", result.avgPageload, format.duration(result.avgPageload)),
    );
  }

  function renderTables(result) {
    tables.replaceChildren(
      ...TABLES.map(([field, captionKey, prop, firstKey, valueKeys]) => {
        const rows = Array.isArray(result[field]) ? result[field] : [];
        const active = state.filter && state.filter.startsWith(`${prop}:`);
        const body = rows.map((row) => {
          const filter = `${prop}:${row.key}`;
          const selected = state.filter === filter;
          const cells = Array.isArray(row.count) ? row.count : [row.count];
          return h("tr", {}, [
            h("th", { scope: "row" }, [
              h("button", {
                type: "button",
                class: "link",
                "data-action": "",
                "aria-pressed": selected ? "true" : "false",
                "aria-label": t("tables.filterBy", { value: shown(prop, row.key) }),
                text: shown(prop, row.key),
                onclick: () => setFilter(selected ? null : filter),
              }),
            ]),
            ...cells.map((value) => h("td", { text: format.count(value) })),
          ]);
        });
        if (!body.length) {
          body.push(
            h("tr", { class: active ? "no-match" : "" }, [
              h("td", { colspan: 1 + valueKeys.length, text: t(active ? "tables.filterEmpty" : "tables.empty") }),
            ]),
          );
        }
        return h("div", { class: "table-wrap" }, [
          h("table", field === "pages" ? { "data-testid": "auditorium/pages" } : {}, [
            h("caption", { text: t(captionKey) }),
            h("thead", {}, [
              h("tr", {}, [firstKey, ...valueKeys].map((key) => h("th", { scope: "col", text: t(key) }))),
            ]),
            h("tbody", {}, body),
          ]),
        ]);
      }),
    );
  }

  function renderRetention(matrix) {
    const columns = [t("retention.initial"), ...[7, 14, 21].map((days) => t("retention.later", { days }))];
    retention.replaceChildren(
      h("div", { class: "table-wrap" }, [
        h("table", { class: "retention" }, [
          h("caption", { text: t("retention.caption") }),
          h("thead", {}, [
            h("tr", {}, [h("th", { scope: "col", text: t("retention.start") }), ...columns.map((c) => h("th", { scope: "col", text: c }))]),
          ]),
          h(
            "tbody",
            {},
            matrix.map((row, i) =>
              h("tr", {}, [
                h("th", { scope: "row", text: t("retention.row", { days: 7 * (4 - i) }) }),
                ...[0, 1, 2, 3].map((j) => {
                  const cell = h("td", { text: j < row.length ? format.percent(row[j]) : "" });
                  // A shade for sighted readers; the number is always there as text.
                  if (j < row.length) cell.style.setProperty("--share", String(row[j]));
                  return cell;
                }),
              ]),
            ),
          ),
        ]),
      ]),
    );
  }

  function glossary() {
    return h(
      "dl",
      { class: "glossary" },
      GLOSSARY.flatMap((term) => [h("dt", { text: t(`glossary.${term}`) }), h("dd", { text: t(`glossary.${term}Text`) })]),
    );
  }

  function faq() {
    return FAQ.map((item) =>
      h("details", { class: "faq" }, [h("summary", { text: t(`faq.${item}Q`) }), h("p", { text: t(`faq.${item}A`) })]),
    );
  }

  async function refresh() {
    await run(async () => {
      await loadConsent();
      await query();
    });
  }

  render();
  return { refresh, state };
}

/** Wires the auditorium to the page it runs in. */
export async function start(scope = globalThis) {
  const { window, document } = scope;
  const options = pageOptions(window.location.href, document.documentElement.getAttribute("lang"));
  const t = await loadTranslator(options.locale);
  document.documentElement.setAttribute("lang", t.locale);
  const vault = vaultClientWith(window, { locale: t.locale });
  const app = auditoriumWith({
    window,
    document,
    root: document.getElementById("app") || document.body,
    vault,
    t,
    embedded: options.embedded,
    range: options.range,
    now: () => new Date(),
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  });
  await app.refresh();
  return app;
}

if (typeof window !== "undefined" && typeof document !== "undefined" && !globalThis.__OFFEN_AUDITORIUM_NO_START__) {
  start(globalThis);
}
