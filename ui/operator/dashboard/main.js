// The operator's dashboard at /auditorium/<accountId>/ (reference §6.4, issue 4 items 1 and 4): header and
// account picker, real time, range selector, the page-views chart, key metrics, the tabbed tables with
// filters, weekly retention, embed code, the visitor-access link and widgets, the share/retire forms and
// the banner-style editor. It owns the page's state (the URL, see state.js), the loading progress, the
// 15-second refresh while the window is focused, and the test/benchmark hook `window.__offenDashboard`
// (contract 6). All numbers come from the engine (contract 5), which decrypts in workers: this module
// never sees keys beyond handing the login's key-encryption key to `openAccount`.

import STRINGS from "./strings.en.json" with { type: "json" };
import { builder, copyButton } from "./dom.js";
import { renderChart } from "./chart.js";
import { formatCount, formatDecimal, formatDuration, formatPercent, displayUrl } from "./format.js";
import { auditoriumLink, embedSnippet, WIDGET_LOCALES, WIDGET_STYLES, widgetSnippet, widgetUrl } from "./snippets.js";
import {
  buildQuery,
  CUSTOM,
  localDay,
  minCustomDay,
  parseState,
  presetOptions,
  retentionDays,
  stateToSearch,
  withCustom,
  withPreset,
} from "./state.js";
import { renderRetention, renderTables } from "./tables.js";
import { renderStylesEditor } from "./styles-editor.js";
import { interpolate } from "../i18n.js";
import { isAdmin } from "../session.js";

export const REFRESH_MS = 15_000;
export const STAGES = Object.freeze(["download", "keyAgreement", "decryption", "aggregation", "storage"]);
const METRICS = Object.freeze([
  ["uniqueUsers", "count"],
  ["uniqueSessions", "count"],
  ["avgPageDepth", "decimal"],
  ["bounceRate", "percent"],
  ["returningUsers", "percent"],
  ["mobileShare", "percent"],
  ["avgPageload", "duration"],
]);

/** The dashboard's translate function: its own catalogue first, then the operator pages' (ctx.i18n). */
export function dashboardTranslator(i18n, strings = STRINGS) {
  const fallback = typeof i18n === "function" ? i18n : i18n && typeof i18n.t === "function" ? i18n.t : null;
  const t = (key, params) => {
    if (Object.prototype.hasOwnProperty.call(strings, key)) return interpolate(strings[key], params);
    return fallback ? fallback(key, params) : interpolate(key, params);
  };
  t.locale = (i18n && i18n.locale) || "en";
  return t;
}

async function defaultOpenAccount(options) {
  const engine = await import("../engine/engine.js");
  return engine.openAccount(options);
}

/**
 * Mounts the dashboard into `root`. `ctx = {accountId, login, api, i18n, navigate}` from the router;
 * tests may add `openAccount`, `window`, `now`, `refreshMs` and `timeZone`. Returns `{destroy}`.
 */
export function mountDashboard(root, ctx) {
  const win = ctx.window || root.ownerDocument.defaultView;
  const doc = root.ownerDocument;
  const h = builder(doc);
  const t = dashboardTranslator(ctx.i18n);
  const locale = t.locale;
  const now = ctx.now || (() => new Date());
  const timeZone = ctx.timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const openAccount = ctx.openAccount || defaultOpenAccount;
  const refreshMs = ctx.refreshMs || REFRESH_MS;
  const origin = win.location.origin;
  const accountId = ctx.accountId;
  const login = ctx.login || { accounts: [] };
  const entry = (login.accounts || []).find((a) => a.accountId === accountId);
  const admin = isAdmin(login);
  const narrowQuery = win.matchMedia ? win.matchMedia("(max-width: 40em)") : null;
  const narrow = () => Boolean(narrowQuery && narrowQuery.matches);
  const startedAt = win.performance.now();

  const ui = { activeTab: "pages", showAll: {} };
  let engine = null;
  let result = null;
  let account = { accountId, name: entry ? entry.accountName : "", retentionPeriod: null, accountStyles: "" };
  let state = readState();
  let destroyed = false;
  let timer = null;
  let refreshing = null;
  let lastUpdate = null;
  const cleanups = [];

  // ---- frame --------------------------------------------------------------------------------------------
  const live = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite", "data-testid": "dashboard/live" });
  const stale = h("p", { class: "dash-stale", hidden: true, "data-testid": "dashboard/stale", "aria-hidden": "true", text: t("dashboard.updating") });
  const soft = h("div", { class: "dash-soft", hidden: true, "data-testid": "dashboard/soft-error" });
  const progress = h("section", { class: "dash-panel dash-progress", "aria-labelledby": "dash-progress-h", "data-testid": "dashboard/progress" });
  const panels = h("div", { class: "dash-panels", hidden: true });
  const accountName = h("strong", { text: account.name || accountId });
  const header = h("header", { class: "dash-header" }, [
    h("h1", { class: "dash-title", id: "dash-title" }, [accountName]),
    h("p", {}, [t("dashboard.viewingAs"), " ", h("strong", { text: account.name || accountId }), "."]),
    h("p", { class: "dash-headlinks" }, [
      h("a", { href: "/console/", "data-testid": "dashboard/console-link", onclick: go("/console/"), text: t("dashboard.console") }),
    ]),
  ]);
  const pickerSlot = h("details", { class: "dash-picker" }, [h("summary", { text: t("dashboard.switchAccount") })]);
  const body = h("div", { class: "dashboard", "data-testid": "dashboard" }, [header, pickerSlot, live, stale, soft, progress, panels]);
  const container = root.closest && root.closest("main") ? body : h("main", { id: "content", class: "dash-main" }, [body]);
  root.replaceChildren(container);
  if (!doc.querySelector('link[data-dashboard-css]')) {
    // The shell loads only operator.css; the dashboard brings its own sheet (same origin, so the CSP allows it).
    doc.head.appendChild(h("link", { rel: "stylesheet", href: new URL("./dashboard.css", import.meta.url).pathname, "data-dashboard-css": "" }));
  }
  doc.title = t("dashboard.documentTitle", { name: account.name || accountId });
  mountPicker();

  function go(path) {
    return (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button > 0) return;
      if (typeof ctx.navigate !== "function") return;
      event.preventDefault();
      ctx.navigate(path);
    };
  }

  async function mountPicker() {
    try {
      const forms = await import("../pages/forms.js");
      // Offen's picker keeps the query parameters, so switching accounts keeps the range and filter.
      const keepQuery = { ...ctx, navigate: (path) => ctx.navigate(path + stateToSearch({ ...state, filter: null }, "")) };
      forms.mountAccountPicker(pickerSlot, keepQuery, { current: accountId, headingKey: "dashboard.accounts", translate: t });
    } catch {
      pickerSlot.hidden = true;
    }
  }

  if (!entry) {
    progress.replaceChildren(
      h("h2", { id: "dash-progress-h", text: t("dashboard.noAccess") }),
      h("p", {}, [h("a", { href: "/console/", onclick: go("/console/"), text: t("dashboard.backToConsole") })]),
    );
    return { destroy() {} };
  }

  // ---- state ⇄ URL --------------------------------------------------------------------------------------
  function readState() {
    return parseState(win.location.search, {
      retentionPeriod: account.retentionPeriod,
      today: localDay(now().getTime(), timeZone),
      narrow: narrow(),
    });
  }

  function hrefFor(filter) {
    return win.location.pathname + stateToSearch({ ...state, filter }, win.location.search);
  }

  function setState(next, focus) {
    state = next;
    const href = win.location.pathname + stateToSearch(state, win.location.search);
    if (href !== win.location.pathname + win.location.search) win.history.pushState(null, "", href);
    rerun(focus);
  }

  const onPopState = () => {
    state = readState();
    rerun(null);
  };
  win.addEventListener("popstate", onPopState);
  cleanups.push(() => win.removeEventListener("popstate", onPopState));

  // ---- loading ------------------------------------------------------------------------------------------
  const stageRows = {};
  function renderProgressFrame() {
    const list = h("dl", { class: "dash-stages" });
    for (const stage of STAGES) {
      const bar = h("progress", { id: `dash-stage-${stage}`, max: "1", value: "0", "aria-labelledby": `dash-stage-${stage}-label` });
      const text = h("span", { class: "dash-stage-text", text: t("stage.waiting") });
      stageRows[stage] = { bar, text };
      list.appendChild(
        h("div", { class: "dash-stage", "data-stage": stage }, [
          h("dt", { id: `dash-stage-${stage}-label`, text: t(`stage.${stage}`) }),
          h("dd", {}, [bar, text]),
        ]),
      );
    }
    progress.replaceChildren(
      h("h2", { id: "dash-progress-h", text: t("dashboard.loadingHeading") }),
      h("p", { class: "dash-hint", text: t("dashboard.loadingHint") }),
      list,
    );
  }

  function onProgress({ stage, done, total } = {}) {
    const row = stageRows[stage];
    if (!row || destroyed) return;
    const max = Number(total) > 0 ? Number(total) : 1;
    row.bar.setAttribute("max", String(max));
    row.bar.setAttribute("value", String(Math.min(Number(done) || 0, max)));
    row.text.textContent = Number(total) > 0 ? t("stage.progress", { done: formatCount(done, locale), total: formatCount(total, locale) }) : "";
  }

  async function load() {
    renderProgressFrame();
    progress.hidden = false;
    try {
      engine = await openAccount({ accountId, keyEncryptionKey: entry.keyEncryptionKey, onProgress });
      if (destroyed) {
        engine.close();
        return;
      }
      await runQuery();
      render(null);
      const loadMs = win.performance.now() - startedAt;
      progress.hidden = true;
      panels.hidden = false;
      lastUpdate = now();
      markReady(loadMs);
      scheduleRefresh();
    } catch (err) {
      if (destroyed) return;
      progress.replaceChildren(
        h("h2", { id: "dash-progress-h", text: t("dashboard.loadingHeading") }),
        h("p", { class: "dash-error", role: "alert", "data-testid": "dashboard/load-error", text: t("dashboard.loadFailed", { message: messageOf(err) }) }),
        h("button", { type: "button", class: "dash-button", text: t("dashboard.retry"), onclick: () => load() }),
      );
    }
  }

  function messageOf(err) {
    return (err && err.message) || String(err);
  }

  async function runQuery() {
    const answer = await engine.query(buildQuery(state, { now: now(), timeZone }));
    result = answer;
    if (answer && answer.account) {
      const before = account.retentionPeriod;
      account = { ...account, ...answer.account };
      if (account.retentionPeriod !== before) {
        // The retention period arrives with the first answer: a URL asking for more than it is re-read.
        const capped = readState();
        if (capped.preset !== state.preset || capped.from !== state.from || capped.to !== state.to) {
          state = { ...capped, filter: state.filter };
          const answer2 = await engine.query(buildQuery(state, { now: now(), timeZone }));
          result = answer2;
        }
      }
    }
  }

  function markReady(loadMs) {
    if (!doc.querySelector('[data-testid="dashboard/ready"]')) {
      body.appendChild(h("span", { hidden: true, "data-testid": "dashboard/ready" }));
    }
    win.__offenDashboard = {
      engine,
      loadMs,
      timings: engine.timings,
      refresh: () => refresh({ manual: true }),
      // Benchmarks pause the 15 s timer so that one measured refresh folds in all 15 s of traffic.
      autoRefresh: (on) => {
        autoRefreshOn = Boolean(on);
      },
    };
  }

  let queryChain = Promise.resolve();
  function rerun(focus) {
    if (!engine) return;
    // One query at a time, in order: fast clicks on tabs and rows never paint an older answer last.
    queryChain = queryChain
      .then(async () => {
        await runQuery();
        render(focus);
      })
      .catch((err) => showSoft(err));
    return queryChain;
  }

  // ---- refresh ------------------------------------------------------------------------------------------
  function focused() {
    return doc.visibilityState === "visible" && (typeof doc.hasFocus !== "function" || doc.hasFocus());
  }

  let autoRefreshOn = true;
  function scheduleRefresh() {
    if (timer || destroyed) return;
    timer = win.setInterval(() => {
      if (autoRefreshOn && focused() && !refreshing) refresh({ manual: false });
    }, refreshMs);
    cleanups.push(() => win.clearInterval(timer));
  }

  async function refresh() {
    if (!engine) throw new Error("dashboard: not loaded yet");
    if (refreshing) return refreshing;
    stale.hidden = false;
    panels.classList.add("is-stale");
    refreshing = (async () => {
      const started = win.performance.now();
      try {
        const outcome = (await engine.refresh()) || {};
        const afterRefresh = win.performance.now();
        await queryChain;
        await runQuery();
        render(null);
        const renderMs = win.performance.now() - afterRefresh;
        lastUpdate = now();
        soft.hidden = true;
        if (win.__offenDashboard) win.__offenDashboard.timings = engine.timings;
        return {
          ms: outcome.ms ?? afterRefresh - started,
          added: outcome.added ?? 0,
          removed: outcome.removed ?? 0,
          busy: outcome.busy ?? null, // the engine's per-stage busy time of this refresh (benchmarks)
          renderMs,
          totalMs: win.performance.now() - started,
        };
      } catch (err) {
        showSoft(err);
        throw err;
      } finally {
        stale.hidden = true;
        panels.classList.remove("is-stale");
        refreshing = null;
      }
    })();
    return refreshing;
  }

  function showSoft(err) {
    if (destroyed) return;
    // A failed background update keeps the figures on screen and says so, instead of an error page.
    const time = lastUpdate ? new Intl.DateTimeFormat(locale, { timeStyle: "short" }).format(lastUpdate) : "–";
    soft.replaceChildren(
      h("p", { role: "alert", text: t("dashboard.softFailure", { message: messageOf(err), time }) }),
      h("button", { type: "button", class: "dash-button dash-button--quiet", text: t("dashboard.dismiss"), onclick: () => (soft.hidden = true) }),
    );
    soft.hidden = false;
  }

  // ---- panels -------------------------------------------------------------------------------------------
  const section = (id, headingKey, children, attrs = {}) =>
    h("section", { class: "dash-panel", id: `dash-${id}`, "aria-labelledby": `dash-${id}-h`, ...attrs }, [
      h("h2", { id: `dash-${id}-h`, text: t(headingKey) }),
      ...children,
    ]);

  function metric(name, value, kind, label) {
    const text =
      kind === "percent" ? formatPercent(value, locale)
      : kind === "duration" ? formatDuration(value, locale)
      : kind === "decimal" ? formatDecimal(value, locale)
      : formatCount(value, locale);
    return h("div", { class: "dash-metric", "data-testid": `dashboard/metric-${name}`, "data-value": value == null ? "" : String(value) }, [
      h("dt", { text: label || t(`metrics.${name}`) }),
      h("dd", { text }),
    ]);
  }

  function realtimePanel() {
    if (result.empty) {
      return section("realtime", "embed.heading", [h("p", { text: t("embed.noData") }), embedBlock("dash-embed-empty")]);
    }
    const pages = (result.livePages || []).slice(0, 5);
    return section("realtime", "realtime.heading", [
      h("dl", { class: "dash-metrics" }, [metric("liveUsers", result.liveUsers, "count", t("realtime.activeUsers"))]),
      h("h3", { text: t("realtime.activePages") }),
      pages.length
        ? h(
            "ol",
            { class: "dash-livepages", "data-testid": "dashboard/live-pages" },
            pages.map((p) => h("li", {}, [h("span", { class: "dash-url", text: displayUrl(p.key) }), " ", h("span", { class: "dash-count", text: formatCount(p.count, locale) })])),
          )
        : h("p", { class: "dash-empty", text: t("realtime.noPages") }),
      h("p", { class: "dash-hint", text: t("realtime.explainer") }),
    ]);
  }

  function rangePanel() {
    const options = presetOptions(account.retentionPeriod);
    const select = h("select", { id: "dash-range", "data-testid": "dashboard/range" });
    for (const option of options) {
      const label = t(option.label);
      select.appendChild(
        h("option", {
          value: option.id,
          disabled: !option.available,
          selected: option.id === state.preset,
          text: option.available ? label : t("range.notAvailable", { label }),
        }),
      );
    }
    select.appendChild(h("option", { value: CUSTOM, selected: state.preset === CUSTOM, text: t("range.custom") }));
    const today = localDay(now().getTime(), timeZone);
    const min = minCustomDay(today, account.retentionPeriod);
    const fromInput = h("input", { type: "date", id: "dash-from", min, max: today, value: state.from || min, "data-testid": "dashboard/from" });
    const toInput = h("input", { type: "date", id: "dash-to", min, max: today, value: state.to || today, "data-testid": "dashboard/to" });
    const custom = h("form", { class: "dash-custom", hidden: state.preset !== CUSTOM, "data-testid": "dashboard/custom" }, [
      h("label", { for: "dash-from", text: t("range.from") }),
      fromInput,
      h("label", { for: "dash-to", text: t("range.to") }),
      toInput,
      h("button", { type: "submit", class: "dash-button", "data-testid": "dashboard/apply-range", text: t("range.apply") }),
    ]);
    custom.addEventListener("submit", (event) => {
      event.preventDefault();
      const clamp = (d) => (d < min ? min : d > today ? today : d);
      if (!fromInput.value || !toInput.value) return;
      setState(withCustom(state, clamp(fromInput.value), clamp(toInput.value), { narrow: narrow() }), "apply-range");
    });
    select.addEventListener("change", () => {
      if (select.value === CUSTOM) {
        custom.hidden = false;
        fromInput.focus();
        return;
      }
      setState(withPreset(state, select.value), "range");
    });
    select.setAttribute("data-focus", "range");
    const filterBar = state.filter ? filterNotice() : null;
    return h("div", { class: "dash-panel dash-range", id: "dash-range-panel" }, [
      h("div", { class: "dash-range-row" }, [h("label", { for: "dash-range", class: "dash-label", text: t("range.label") }), select]),
      custom,
      h("p", { class: "dash-hint", text: t("range.retentionHint", { days: retentionDays(account.retentionPeriod) }) }),
      filterBar,
    ]);
  }

  function filterNotice() {
    const at = state.filter.indexOf(":");
    const prop = state.filter.slice(0, at);
    const value = state.filter.slice(at + 1);
    return h("p", { class: "dash-filter", "data-testid": "dashboard/filter" }, [
      t("range.filterActive", { prop: t(`filter.${prop}`), value: displayUrl(value) }),
      " ",
      h("a", {
        href: hrefFor(null),
        class: "dash-button dash-button--quiet",
        "data-testid": "dashboard/remove-filter",
        text: t("range.removeFilter"),
        onclick: (event) => {
          event.preventDefault();
          setState({ ...state, filter: null }, "range");
        },
      }),
    ]);
  }

  function chartPanel() {
    const series = result.pageviews || [];
    const total = series.reduce((sum, b) => sum + (b.pageviews || 0), 0);
    return section("chart", "chart.heading", [
      h("dl", { class: "dash-metrics dash-metrics--inline" }, [metric("pageviews", total, "count", t("metrics.pageviews"))]),
      renderChart({ h, t, series, resolution: result.resolution, locale, narrow: narrow() }),
    ]);
  }

  function metricsPanel() {
    return section("metrics", "metrics.heading", [
      h("dl", { class: "dash-metrics" }, METRICS.map(([name, kind]) => metric(name, result[name], kind))),
    ]);
  }

  function tablesPanel() {
    return section("tables", "tables.heading", [
      renderTables({
        h,
        t,
        result,
        filter: state.filter,
        ui,
        locale,
        hrefFor,
        onFilter: (filter, focus) => setState({ ...state, filter }, focus),
        onChange: ({ focus }) => render(focus),
      }),
    ]);
  }

  function retentionPanel() {
    return section("retention", "retention.heading", [renderRetention({ h, t, matrix: result.retentionMatrix, locale })]);
  }

  function embedBlock(id) {
    const code = embedSnippet(origin, accountId);
    const box = h("textarea", { id, class: "dash-code", readonly: true, rows: "3", "data-testid": "dashboard/embed-code" });
    box.value = code;
    return h("div", { class: "dash-copyable" }, [
      h("label", { for: id, class: "dash-label", text: t("embed.heading") }),
      box,
      copyButton({ h, window: win, t, source: () => code, select: box, announce: say, testid: "dashboard/embed-copy", label: `${t("copy.button")}: ${t("embed.heading")}` }),
      h("p", { class: "dash-hint", text: t("embed.csp", { origin }) }),
    ]);
  }

  function embedPanel() {
    if (result.empty) return null; // shown in the real-time slot instead
    return h("section", { class: "dash-panel", id: "dash-embed", "aria-label": t("embed.heading") }, [
      h("details", { "data-testid": "dashboard/embed" }, [
        h("summary", {}, [h("h2", { class: "dash-summary-h", text: t("embed.heading") })]),
        h("p", { text: t("embed.intro") }),
        embedBlock("dash-embed-code"),
      ]),
    ]);
  }

  let widgetLocale = WIDGET_LOCALES.includes(locale) ? locale : "en";
  function accessPanel() {
    const link = auditoriumLink(origin);
    const linkBox = h("input", { id: "dash-access-link", class: "dash-code", readonly: true, value: link, "data-testid": "dashboard/access-link" });
    const langSelect = h("select", { id: "dash-widget-lang", "data-testid": "dashboard/widget-lang" }, WIDGET_LOCALES.map((l) => h("option", { value: l, selected: l === widgetLocale, text: l })));
    const widgets = h("div", { class: "dash-widgets" });
    const paintWidgets = () => {
      widgets.replaceChildren(
        ...WIDGET_STYLES.map((style) => {
          const id = `dash-widget-${style}`;
          const code = widgetSnippet(origin, style, widgetLocale);
          const box = h("textarea", { id, class: "dash-code", readonly: true, rows: "3", "data-testid": `dashboard/widget-${style}` });
          box.value = code;
          return h("figure", { class: "dash-widget" }, [
            h("img", { src: widgetUrl(origin, style, widgetLocale), alt: "", class: "dash-widget-img" }),
            h("figcaption", {}, [
              h("label", { for: id, class: "dash-label", text: t("access.snippet", { style: t(`access.style.${style}`) }) }),
              box,
              copyButton({ h, window: win, t, source: () => code, select: box, announce: say, testid: `dashboard/widget-copy-${style}`, label: `${t("copy.button")}: ${t("access.snippet", { style: t(`access.style.${style}`) })}` }),
            ]),
          ]);
        }),
      );
    };
    langSelect.addEventListener("change", () => {
      widgetLocale = langSelect.value;
      paintWidgets();
    });
    paintWidgets();
    return section("access", "access.heading", [
      h("p", { text: t("access.intro") }),
      h("div", { class: "dash-copyable" }, [
        h("label", { for: "dash-access-link", class: "dash-label", text: t("access.link") }),
        linkBox,
        copyButton({ h, window: win, t, source: () => link, select: linkBox, announce: say, testid: "dashboard/access-copy", label: `${t("copy.button")}: ${t("access.link")}` }),
      ]),
      h("h3", { text: t("access.widgets") }),
      h("div", { class: "dash-range-row" }, [h("label", { for: "dash-widget-lang", class: "dash-label", text: t("access.language") }), langSelect]),
      widgets,
    ]);
  }

  // Panels that hold a person's input (forms, the CSS editor) are built once and kept across renders.
  let adminPanels = null;
  function buildAdminPanels() {
    const out = [];
    if (admin) {
      const styles = renderStylesEditor({
        h,
        t,
        document: doc,
        window: win,
        accountId,
        initialCss: account.accountStyles || "",
        save: (css, dryRun) =>
          ctx.api.raw("PUT", `/api/accounts/${encodeURIComponent(accountId)}/account-styles`, {
            body: { accountStyles: css },
            query: dryRun ? { dryRun: "1" } : null,
          }),
        loadBaseCss: async () => {
          const response = await win.fetch("/vault/banner.css", { credentials: "same-origin" });
          return response.ok ? response.text() : "";
        },
      });
      const shareSlot = h("div", { class: "dash-panel dash-form-slot", "data-testid": "dashboard/share-slot" });
      const retireSlot = h("div", { class: "dash-panel dash-form-slot", "data-testid": "dashboard/retire-slot" });
      import("../pages/forms.js")
        .then((forms) => {
          forms.mountShareForm(shareSlot, ctx);
          forms.mountRetireForm(retireSlot, ctx);
        })
        .catch(() => {
          // SLOT: the share and retire forms are H4a's (ui/operator/pages/forms.js); without them, say so.
          shareSlot.replaceChildren(h("h2", { text: t("share.heading") }), h("p", { text: t("admin.pending") }));
          retireSlot.replaceChildren(h("h2", { text: t("retire.heading") }), h("p", { text: t("admin.pending") }));
        });
      out.push(shareSlot, retireSlot, section("styles", "styles.heading", [styles]));
    }
    out.push(
      section("console", "console.heading", [
        h("p", { text: t("console.text") }),
        h("p", {}, [h("a", { href: "/console/", onclick: go("/console/"), text: t("dashboard.console") })]),
      ]),
    );
    return out;
  }

  function say(text) {
    live.textContent = "";
    // A new text node after a tick, so screen readers announce the same message twice in a row too.
    win.setTimeout(() => (live.textContent = text), 30);
  }

  function render(focus) {
    if (destroyed || !result) return;
    const active = doc.activeElement;
    const focusKey = focus || (active && panels.contains(active) ? active.getAttribute("data-focus") : null);
    if (!adminPanels) adminPanels = buildAdminPanels();
    accountName.textContent = account.name || accountId;
    doc.title = t("dashboard.documentTitle", { name: account.name || accountId });
    const keepEmbed = panels.querySelector("#dash-embed details");
    const embed = embedPanel();
    if (embed && keepEmbed && keepEmbed.open) embed.querySelector("details").open = true;
    panels.replaceChildren(
      realtimePanel(),
      rangePanel(),
      chartPanel(),
      metricsPanel(),
      tablesPanel(),
      retentionPanel(),
      embed,
      accessPanel(),
      ...adminPanels,
      timingsNote(),
    );
    if (focusKey) {
      const target = [...panels.querySelectorAll("[data-focus]")].find((el) => el.getAttribute("data-focus") === focusKey);
      if (target) target.focus();
    }
  }

  function timingsNote() {
    const timings = engine && engine.timings;
    if (!timings || typeof timings.total !== "number") return null;
    const ms = (v) => formatDuration(v, locale);
    return h("p", { class: "dash-hint dash-timings", "data-testid": "dashboard/timings" }, [
      t("dashboard.loadedIn", {
        total: ms(timings.total),
        download: ms(timings.download),
        keyAgreement: ms(timings.keyAgreement),
        decryption: ms(timings.decryption),
        aggregation: ms(timings.aggregation),
        storage: ms(timings.storage),
        source: t(`dashboard.source.${timings.source || "network"}`),
      }),
    ]);
  }

  load();

  return {
    destroy() {
      destroyed = true;
      for (const cleanup of cleanups.splice(0)) cleanup();
      if (engine) engine.close();
      if (win.__offenDashboard && win.__offenDashboard.engine === engine) delete win.__offenDashboard;
    },
    refresh,
  };
}
