// The operator pages' pure parts: every catalogue key the pages use exists (and every key is used),
// the session store (contract 1), the API wrapper (errors, 401 redirect, Retry-After), the same-origin
// `next` check, where a login goes, and the router's path table.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { ApiError, createApi, describeError, loginPath, safeNext } from "../operator/api.js";
import { LOGIN_KEY, createSession, isAdmin, sortedAccounts } from "../operator/session.js";
import { loadI18n, makeI18n } from "../operator/i18n.js";
import { matchRoute } from "../operator/app.js";
import { afterLogin } from "../operator/pages/login.js";

const OPERATOR = join(dirname(fileURLToPath(import.meta.url)), "..", "operator");
const catalogue = JSON.parse(readFileSync(join(OPERATOR, "locales", "en.json"), "utf8"));
// The files of the pages, the shell and their helpers (the dashboard and engine have their own strings).
const SOURCES = [
  ...["app.js", "api.js", "session.js", "i18n.js"].map((f) => join(OPERATOR, f)),
  ...readdirSync(join(OPERATOR, "pages")).filter((f) => f.endsWith(".js")).map((f) => join(OPERATOR, "pages", f)),
];
const KEY = /^[a-z][a-zA-Z]*(\.[a-zA-Z0-9]+)+$/;

function usedKeys() {
  const keys = new Map();
  const patterns = [
    /\bt\(\s*"([^"]+)"/g, // t("key" …)
    /\bi18n\(\s*"([^"]+)"/g, // i18n("key" …)
    /\b[a-zA-Z]*Key\s*:\s*"([^"]+)"/g, // labelKey: "key", titleKey: …
    /\b[a-zA-Z]*[kK]ey\s*=\s*"([^"]+)"/g, // key = "…", headingKey = "key" (defaults)
    /\bitem\("[^"]*",\s*"([^"]+)"/g, // header navigation items
    /\bgroup\s*:\s*"([^"]+)"/g, // fieldset legends
    /\b(?:FormError|setFlash|forceRelogin)\([^"]*"([^"]+)"/g, // error and flash keys
    /\?\s*"([a-z][a-zA-Z]*\.[a-zA-Z.]+)"\s*:\s*"?([a-z][a-zA-Z]*\.[a-zA-Z.]+)?/g, // cond ? "a.b" : "c.d"
    /\[\s*"[^"]*",\s*\/[^\n]*?,\s*(?:true|false),\s*"([^"]+)"\]/g, // router table title keys
    /\d{3}:\s*"([^"]+)"/g, // errorOverrides { 401: "key" }
    /return\s+\[?\s*"([a-z][a-zA-Z]*\.[a-zA-Z.]+)"/g, // success keys
  ];
  for (const file of SOURCES) {
    const text = readFileSync(file, "utf8");
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        for (const key of match.slice(1)) if (key && KEY.test(key)) keys.set(key, file);
      }
    }
  }
  return keys;
}

test("every key the operator pages use is in the English catalogue", () => {
  const used = usedKeys();
  assert.ok(used.size > 60, `found only ${used.size} keys: the scan is broken`);
  const missing = [...used].filter(([key]) => !(key in catalogue)).map(([key, file]) => `${key} (${file})`);
  assert.deepEqual(missing, []);
});

test("every key of the catalogue is used, and every value is a non-empty string", () => {
  const used = usedKeys();
  // errors.* and flash.* are also reached through describeError's switch and the session's flash.
  const unused = Object.keys(catalogue).filter((key) => !used.has(key));
  assert.deepEqual(unused, []);
  for (const [key, value] of Object.entries(catalogue)) assert.ok(typeof value === "string" && value.trim(), key);
});

test("placeholders the pages pass exist in the texts", () => {
  assert.match(catalogue["share.sent"], /\{email\}/);
  assert.match(catalogue["retire.intro"], /\{name\}/);
  assert.match(catalogue["errors.throttledSeconds"], /\{seconds\}/);
  assert.match(catalogue["errors.passwordShort"], /\{min\}/);
});

test("makeI18n interpolates, falls back and can be extended without rewording", () => {
  const t = makeI18n({ a: "A {x}" }, { fallback: { b: "B" } });
  assert.equal(t("a", { x: 1 }), "A 1");
  assert.equal(t.t("b"), "B");
  assert.equal(t("missing.key"), "missing.key");
  assert.equal(t.has("a"), true);
  t.extend({ a: "changed", c: "C" });
  assert.equal(t("a", { x: 2 }), "A 2");
  assert.equal(t("c"), "C");
});

test("loadI18n fetches the catalogue and survives a failed load", async () => {
  const fetched = [];
  const fakeFetch = async (url) => {
    fetched.push(url);
    return { ok: true, json: async () => catalogue };
  };
  const t = await loadI18n({ fetch: fakeFetch, locale: "de-AT" });
  assert.equal(t("login.submit"), "Log in");
  assert.equal(t.locale, "en");
  assert.deepEqual(fetched, ["/operator/locales/en.json"]);
  const broken = await loadI18n({ fetch: async () => { throw new Error("offline"); } });
  assert.equal(broken("login.submit"), "login.submit");
});

function fakeStorage() {
  const data = new Map();
  return {
    data,
    getItem: (k) => (data.has(k) ? data.get(k) : null),
    setItem: (k, v) => data.set(k, String(v)),
    removeItem: (k) => data.delete(k),
  };
}

const LOGIN = {
  accountUserId: "u1",
  adminLevel: 1,
  accounts: [
    { accountId: "b", accountName: "zeta", keyEncryptionKey: { kty: "oct", k: "x" } },
    { accountId: "a", accountName: "Alpha", keyEncryptionKey: { kty: "oct", k: "y" } },
  ],
};

test("the session keeps the login answer under offen.operator.login and forgets it", () => {
  const storage = fakeStorage();
  const session = createSession(storage);
  assert.equal(session.get(), null);
  session.set(LOGIN);
  assert.deepEqual(JSON.parse(storage.data.get(LOGIN_KEY)), LOGIN);
  assert.deepEqual(session.get(), LOGIN);
  session.clear();
  assert.equal(storage.data.has(LOGIN_KEY), false);
  storage.setItem(LOGIN_KEY, "{not json");
  assert.equal(session.get(), null);
  storage.setItem(LOGIN_KEY, JSON.stringify({ accounts: [] }));
  assert.equal(session.get(), null, "a value without accountUserId is not a login");
  assert.throws(() => session.set({ nope: 1 }));
  session.setFlash("flash.loggedOut");
  assert.equal(session.takeFlash(), "flash.loggedOut");
  assert.equal(session.takeFlash(), null);
  const throwing = createSession({ getItem() { throw new Error("denied"); }, setItem() { throw new Error("denied"); }, removeItem() { throw new Error("denied"); } });
  assert.equal(throwing.get(), null);
  throwing.set(LOGIN);
  throwing.clear();
});

test("accounts sort by name, admins are adminLevel 1", () => {
  assert.deepEqual(sortedAccounts(LOGIN).map((a) => a.accountId), ["a", "b"]);
  assert.equal(isAdmin(LOGIN), true);
  assert.equal(isAdmin({ ...LOGIN, adminLevel: 0 }), false);
  assert.equal(isAdmin(null), false);
});

test("next must be a path on this origin", () => {
  const origin = "https://offen.example.test";
  assert.equal(safeNext("/auditorium/x/?range=7", origin), "/auditorium/x/?range=7");
  for (const bad of ["https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)", "", null, "x/y", "/\tx"]) {
    assert.equal(safeNext(bad, origin), null, String(bad));
  }
});

test("after login: next, else the first account by name, else the console", () => {
  const at = (search) => ({ origin: "https://o.test", search });
  assert.equal(afterLogin(LOGIN, at("?next=%2Fconsole%2F")), "/console/");
  assert.equal(afterLogin(LOGIN, at("?next=https%3A%2F%2Fevil.test%2F")), "/auditorium/a/");
  assert.equal(afterLogin(LOGIN, at("?next=%2F%2Fevil.test")), "/auditorium/a/");
  assert.equal(afterLogin(LOGIN, at("?next=%2Flogin%2F")), "/auditorium/a/");
  assert.equal(afterLogin({ ...LOGIN, accounts: [] }, at("")), "/console/");
});

function response(status, body, headers = {}) {
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  return {
    status,
    ok: status >= 200 && status < 300,
    statusText: "status " + status,
    headers: { get: (name) => headers[name.toLowerCase()] ?? null },
    text: async () => text,
  };
}

function apiWith(answer) {
  const calls = [];
  const navigations = [];
  const storage = fakeStorage();
  const session = createSession(storage);
  session.set(LOGIN);
  const api = createApi({
    fetch: async (url, init) => {
      calls.push({ url, init });
      return answer(url, init);
    },
    location: { pathname: "/console/", search: "?a=1", origin: "https://o.test" },
    navigate: (path) => navigations.push(path),
    session,
  });
  return { api, calls, navigations, session };
}

test("the API wrapper sends JSON and reads JSON or nothing", async () => {
  const { api, calls } = apiWith((url) => (url.startsWith("/api/login") ? response(200, { ok: 1 }) : response(204)));
  assert.deepEqual(await api.get("/api/login", { query: { a: "b c", skip: null } }), { ok: 1 });
  assert.equal(calls[0].url, "/api/login?a=b+c");
  assert.equal(await api.post("/api/logout", { x: 1 }), null);
  assert.equal(calls[1].init.method, "POST");
  assert.equal(calls[1].init.body, '{"x":1}');
  assert.equal(calls[1].init.headers["Content-Type"], "application/json");
  assert.equal(calls[1].init.credentials, "same-origin");
});

test("a 401 clears the session and goes to the login with next; unless told not to", async () => {
  const { api, navigations, session } = apiWith(() => response(401, { error: "you need to log in first", status: 401 }));
  await assert.rejects(api.get("/api/accounts/x"), (err) => err instanceof ApiError && err.status === 401 && err.redirected);
  assert.deepEqual(navigations, ["/login/?next=%2Fconsole%2F%3Fa%3D1"]);
  assert.equal(session.get(), null);
  const second = apiWith(() => response(401, { error: "nope", status: 401 }));
  await assert.rejects(second.api.post("/api/login", {}, { redirectOn401: false }), (err) => !err.redirected);
  assert.deepEqual(second.navigations, []);
  assert.notEqual(second.session.get(), null);
});

test("errors become readable messages", async () => {
  const t = makeI18n(catalogue);
  const throttled = apiWith(() => response(429, { error: "too many", status: 429 }, { "retry-after": "7" }));
  const err429 = await throttled.api.post("/api/login", {}).catch((e) => e);
  assert.equal(err429.retryAfter, 7);
  assert.equal(describeError(err429, t), "Too many attempts. Please wait 7 seconds and try again.");
  const bad = await apiWith(() => response(400, { error: "the link is invalid or has expired", status: 400 })).api.post("/x", {}).catch((e) => e);
  assert.equal(describeError(bad, t), "The link is invalid or has expired.");
  const html = await apiWith(() => response(502, "<html>bad gateway</html>")).api.get("/x").catch((e) => e);
  assert.equal(describeError(html, t), catalogue["errors.server"]);
  const offline = await apiWith(() => { throw new TypeError("Failed to fetch"); }).api.get("/x").catch((e) => e);
  assert.equal(offline.status, 0);
  assert.equal(describeError(offline, t), catalogue["errors.network"]);
  const forbidden = new ApiError({ status: 403, message: "only admins" });
  assert.equal(describeError(forbidden, t), catalogue["errors.forbidden"]);
  assert.equal(describeError(new ApiError({ status: 401 }), t, { 401: "errors.badCredentials" }), catalogue["errors.badCredentials"]);
  assert.equal(describeError(new Error("boom"), t), catalogue["errors.unexpected"]);
});

test("loginPath keeps where the operator was, except the login itself", () => {
  assert.equal(loginPath({ pathname: "/auditorium/x/", search: "" }), "/login/?next=%2Fauditorium%2Fx%2F");
  assert.equal(loginPath({ pathname: "/login/", search: "?next=%2Fa" }), "/login/");
});

test("the router knows the operator's pages and leaves the visitor's alone", () => {
  const id = "3f1c2a9e-1111-4222-8333-444455556666";
  assert.deepEqual(matchRoute(`/auditorium/${id}/`).params, { accountId: id });
  assert.equal(matchRoute(`/auditorium/${id.toUpperCase()}`).params.accountId, id);
  assert.equal(matchRoute("/auditorium/"), null);
  assert.equal(matchRoute("/auditorium/not-a-uuid/"), null);
  assert.equal(matchRoute("/"), null);
  assert.equal(matchRoute("/login").name, "login");
  assert.equal(matchRoute("/console/").needsLogin, true);
  assert.equal(matchRoute("/login/").needsLogin, false);
  assert.equal(matchRoute("/reset-password/a.b%2Dc/").params.token, "a.b-c");
  assert.equal(matchRoute("/join/tok/").name, "join");
  assert.equal(matchRoute("/join/"), null);
  for (const [path] of [["/setup/"], ["/forgot-password/"]]) assert.ok(matchRoute(path));
});
