// The operator pages' fetch wrapper. Owns: JSON in and out, the `{"error","status"}` error bodies turned
// into ApiError (with Retry-After for 429), the redirect to /login/?next=… when the session is missing or
// stale (401), readable messages for every failure (describeError), and the same-origin check of `next`
// paths (no open redirect). The fetch function, location and navigate are passed in.

export class ApiError extends Error {
  constructor({ status, message, retryAfter = null }) {
    super(message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status; // 0 = the server could not be reached
    this.retryAfter = retryAfter; // seconds, for 429
    this.redirected = false; // true when a 401 already sent the page to the login
  }
}

/**
 * A `next` value that is a path on this origin, or null. Refuses absolute URLs, protocol-relative
 * "//host", backslash tricks and anything that resolves to another origin.
 */
export function safeNext(next, origin) {
  if (typeof next !== "string" || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return null;
  if (/[\u0000-\u001f]/.test(next)) return null;
  try {
    const url = new URL(next, origin);
    if (url.origin !== new URL(origin).origin) return null;
    return url.pathname + url.search + url.hash;
  } catch {
    return null;
  }
}

/** The login page's address that comes back to where the operator was. */
export function loginPath(location) {
  const here = location.pathname + (location.search || "");
  if (here.startsWith("/login")) return "/login/";
  return "/login/?next=" + encodeURIComponent(here);
}

function parseRetryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : null;
}

/**
 * The API client: `{request, raw, get, post, put, del}`.
 * - `fetch`: the window's fetch (bound);
 * - `location`: for the `next` of the login redirect;
 * - `navigate(path)`: how the app moves to another page;
 * - `session`: cleared on 401 so no stale keys stay behind.
 * Options per call: `body` (JSON), `query` (object), `redirectOn401` (default true; the login form and the
 * forms that re-check credentials turn it off), `signal`.
 */
export function createApi({ fetch, location, navigate, session }) {
  async function raw(method, path, { body, query, redirectOn401 = true, signal, headers } = {}) {
    let url = path;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v != null) params.set(k, String(v));
      const text = params.toString();
      if (text) url += (url.includes("?") ? "&" : "?") + text;
    }
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...(headers || {}) }, signal };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError({ status: 0, message: (err && err.message) || "network error" });
    }
    if (response.ok) return response;
    let message = response.statusText;
    try {
      const data = JSON.parse(await response.text());
      if (data && typeof data.error === "string") message = data.error;
    } catch {
      /* not JSON: keep the status text */
    }
    const error = new ApiError({ status: response.status, message, retryAfter: parseRetryAfter(response.headers.get("Retry-After")) });
    if (response.status === 401 && redirectOn401) {
      if (session) session.clear();
      error.redirected = true;
      navigate(loginPath(location));
    }
    throw error;
  }

  async function request(method, path, options = {}) {
    const response = await raw(method, path, options);
    if (response.status === 204) return null;
    const text = await response.text();
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError({ status: response.status, message: "the server sent something that is not JSON" });
    }
  }

  return {
    raw,
    request,
    get: (path, options) => request("GET", path, options),
    post: (path, body, options) => request("POST", path, { ...options, body }),
    put: (path, body, options) => request("PUT", path, { ...options, body }),
    del: (path, options) => request("DELETE", path, options),
  };
}

/** Upper-case the first letter of a server message so it reads as a sentence, and end it with a period. */
function sentence(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) return "";
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : first + ".";
}

/**
 * A message a person can act on, from any error a page's API call threw. `overrides` maps a status to a
 * catalogue key where the page knows better (e.g. 401 on the login form = wrong email or password).
 */
export function describeError(error, t, overrides = {}) {
  if (!(error instanceof ApiError)) return t("errors.unexpected");
  if (overrides[error.status]) return t(overrides[error.status]);
  switch (error.status) {
    case 0:
      return t("errors.network");
    case 401:
      return t("errors.unauthenticated");
    case 403:
      return t("errors.forbidden");
    case 404:
      return t("errors.notFound");
    case 429:
      return error.retryAfter ? t("errors.throttledSeconds", { seconds: error.retryAfter }) : t("errors.throttled");
    default:
      if (error.status >= 500) return t("errors.server");
      // 400s carry the server's reason, written for people (appliance/errors.py).
      return sentence(error.message) || t("errors.unexpected");
  }
}
