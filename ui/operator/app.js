// The operator program's entry and router. Owns: which page a path shows (matchRoute), moving between pages
// without reloading the shell (history API), the login guard for pages that need a session, the header
// navigation, document titles, focus on the new page's heading after a navigation, and handing
// /auditorium/<accountId>/ to the dashboard (ui/operator/dashboard/main.js, H4b) with
// ctx = {accountId, login, api, i18n, navigate, session}. Everything it touches comes in through
// startApp's arguments; the module starts itself only inside the shell (an element with data-operator-app).

import { createApi, loginPath } from "./api.js";
import { loadI18n } from "./i18n.js";
import { createSession, isAdmin } from "./session.js";
import { h } from "./pages/kit.js";

const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const TOKEN = "[^/]+";
// [name, pattern (trailing slash optional), needs a login, title key]
const ROUTES = [
  ["login", /^\/login\/?$/, false, "login.title"],
  ["setup", /^\/setup\/?$/, false, "setup.title"],
  ["console", /^\/console\/?$/, true, "console.title"],
  ["forgot-password", /^\/forgot-password\/?$/, false, "forgot.title"],
  ["reset-password", new RegExp(`^/reset-password/(${TOKEN})/?$`), false, "reset.title"],
  ["join", new RegExp(`^/join/(${TOKEN})/?$`), false, "join.title"],
  ["dashboard", new RegExp(`^/auditorium/(${UUID})/?$`), true, "dashboard.title"],
];

/** The route of a path: {name, params, needsLogin, titleKey}, or null for paths this program does not own. */
export function matchRoute(pathname) {
  for (const [name, pattern, needsLogin, titleKey] of ROUTES) {
    const match = pattern.exec(pathname);
    if (!match) continue;
    const params = {};
    if (name === "reset-password" || name === "join") {
      try {
        params.token = decodeURIComponent(match[1]);
      } catch {
        params.token = match[1];
      }
    }
    if (name === "dashboard") params.accountId = match[1].toLowerCase();
    return { name, params, needsLogin, titleKey };
  }
  return null;
}

const PAGES = {
  login: () => import("./pages/login.js").then((m) => m.mountLogin),
  setup: () => import("./pages/setup.js").then((m) => m.mountSetup),
  console: () => import("./pages/console.js").then((m) => m.mountConsole),
  "forgot-password": () => import("./pages/forgot-password.js").then((m) => m.mountForgotPassword),
  "reset-password": () => import("./pages/reset-password.js").then((m) => m.mountResetPassword),
  join: () => import("./pages/join.js").then((m) => m.mountJoin),
};

/** What a mount function returned, turned into a cleanup function (or a no-op). */
function cleanupOf(mounted) {
  if (typeof mounted === "function") return mounted;
  for (const name of ["unmount", "close", "destroy"]) {
    if (mounted && typeof mounted[name] === "function") return () => mounted[name]();
  }
  return () => {};
}

/**
 * Start the operator program. deps: {window, document, root (the <main>), nav (header nav element),
 * fetch, storage (sessionStorage), importDashboard? (tests)}. Returns {navigate, render}.
 */
export async function startApp({ window, document, root, nav, fetch, storage, importDashboard }) {
  const session = createSession(storage);
  const location = window.location;
  const i18n = await loadI18n({ fetch, locale: document.documentElement.lang || "en" });
  let cleanup = () => {};
  let generation = 0;
  let first = true;

  const navigate = (path, { replace = false } = {}) => {
    const url = new URL(path, location.origin);
    if (url.origin !== location.origin || !matchRoute(url.pathname)) {
      // Not one of this program's pages (the home page, the visitor auditorium): a real page load.
      location.assign(url.pathname + url.search + url.hash);
      return;
    }
    const target = url.pathname + url.search + url.hash;
    if (replace) window.history.replaceState({}, "", target);
    else window.history.pushState({}, "", target);
    render();
  };
  const api = createApi({ fetch, location, navigate, session });
  const loadDashboard = importDashboard || (() => import("./dashboard/main.js"));

  function renderNav(login) {
    if (!nav) return;
    nav.textContent = "";
    if (!login) return;
    const list = h(document, "ul");
    const item = (href, key, testid) =>
      h(document, "li", {}, [
        h(document, "a", {
          href,
          "data-testid": testid,
          "aria-current": location.pathname.startsWith(href) ? "page" : null,
          text: i18n(key),
          onclick: (event) => {
            if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
            event.preventDefault();
            navigate(href);
          },
        }),
      ]);
    list.appendChild(item("/console/", "nav.console", "nav/console"));
    nav.appendChild(list);
  }

  let shownPath = null; // the path the page on screen was mounted for

  async function render() {
    const mine = ++generation;
    try {
      cleanup();
    } catch (err) {
      console.error("operator: cleanup of the previous page failed", err);
    }
    cleanup = () => {};
    root.textContent = "";
    root.removeAttribute("aria-busy");
    const route = matchRoute(location.pathname);
    shownPath = location.pathname;
    if (!route) {
      document.title = i18n("notFound.title");
      root.appendChild(h(document, "h1", { tabindex: "-1", text: i18n("notFound.title") }));
      root.appendChild(h(document, "p", {}, [h(document, "a", { href: "/login/", text: i18n("page.backToLogin") })]));
      return;
    }
    document.title = `${i18n(route.titleKey)} · ${i18n("app.name")}`;
    const login = session.get();
    renderNav(route.needsLogin ? login : null);
    if (route.needsLogin && !login) {
      navigate(loginPath(location), { replace: true });
      return;
    }
    const flash = route.name === "login" ? session.takeFlash() : null;
    const ctx = {
      i18n,
      api,
      session,
      navigate,
      location,
      login,
      params: route.params,
      accountId: route.params.accountId || null,
    };
    if (flash && i18n.has(flash)) {
      root.appendChild(h(document, "p", { class: "flash", role: "status", "data-testid": "flash", text: i18n(flash) }));
    }
    root.setAttribute("aria-busy", "true");
    try {
      if (route.needsLogin) {
        // The stored login must belong to the live session (Offen's check): another operator may have
        // logged in in another tab, or the server restarted with a new secret.
        const live = await api.get("/api/login");
        if (mine !== generation) return;
        if (!live || live.accountUserId !== login.accountUserId) {
          session.clear();
          navigate(loginPath(location), { replace: true });
          return;
        }
      }
      let mounted;
      if (route.name === "dashboard") {
        mounted = await mountDashboardOrPlaceholder(ctx, mine);
      } else {
        const mount = await PAGES[route.name]();
        if (mine !== generation) return;
        mounted = await mount(root, ctx);
      }
      if (mine !== generation) {
        cleanupOf(mounted)();
        return;
      }
      cleanup = cleanupOf(mounted);
    } catch (err) {
      if (err && err.redirected) return;
      console.error("operator: the page could not be shown", err);
      if (mine !== generation) return;
      root.appendChild(h(document, "p", { class: "error", role: "alert", "data-testid": "page/error", text: i18n("errors.page") }));
    } finally {
      if (mine === generation) root.removeAttribute("aria-busy");
    }
    if (mine === generation && !first) {
      // After an in-app navigation, screen readers and keyboards start at the new page's heading.
      const heading = root.querySelector("h1");
      if (heading) {
        if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    }
    first = false;
  }

  async function mountDashboardOrPlaceholder(ctx, mine) {
    let module = null;
    try {
      module = await loadDashboard();
    } catch (err) {
      console.warn("operator: the dashboard module is not available", err);
    }
    if (mine !== generation) return null;
    if (module && typeof module.mountDashboard === "function") {
      return module.mountDashboard(root, ctx);
    }
    // Until the dashboard exists: say so, and still let the operator move on.
    const account = (ctx.login.accounts || []).find((a) => a.accountId === ctx.accountId);
    root.appendChild(h(document, "h1", { tabindex: "-1", text: account ? account.accountName : i18n("dashboard.title") }));
    root.appendChild(h(document, "p", { role: "status", "data-testid": "dashboard/placeholder", text: i18n("dashboard.placeholder") }));
    const { mountAccountPicker } = await import("./pages/forms.js");
    const section = h(document, "section", { class: "panel" });
    root.appendChild(section);
    mountAccountPicker(section, ctx);
    return null;
  }

  window.addEventListener("popstate", () => {
    // The dashboard keeps its range and filter in the query string and follows popstate itself:
    // re-mounting it would reopen the engine (seconds at a million events) for a new query.
    if (shownPath === location.pathname && matchRoute(location.pathname)?.name === "dashboard") return;
    render();
  });
  await render();
  return { navigate, render, i18n, session, api, isAdmin: () => isAdmin(session.get()) };
}

// In the shell only (not when Node imports this module for tests).
if (typeof document !== "undefined" && document.querySelector("[data-operator-app]")) {
  const root = document.getElementById("content");
  startApp({
    window,
    document,
    root,
    nav: document.getElementById("nav"),
    fetch: window.fetch.bind(window),
    storage: window.sessionStorage,
  }).catch((err) => {
    console.error("operator: start failed", err);
    root.textContent = "Offen could not start. Please reload the page.";
  });
}
