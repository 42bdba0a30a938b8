// The operator pages' strings: loads the JSON catalogue of a locale from /operator/locales/ (English first;
// the operator UI is ready for translation, not translated yet) and returns a translate function.
// The function is callable, `t(key, params)`, and also carries `t.t`, `t.locale`, `t.has(key)` and
// `t.extend(catalogue)` so the dashboard can bring its own keys. Missing keys fall back to English, then to
// the key itself (visible, so a mistake is noticed). No DOM.

export const OPERATOR_LOCALES = Object.freeze(["en"]);
export const DEFAULT_LOCALE = "en";

/** Replace {name} placeholders; unknown ones stay visible. */
export function interpolate(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** A translate function over `catalogue`, falling back to `fallback` (English) and then to the key. */
export function makeI18n(catalogue, { locale = DEFAULT_LOCALE, fallback = {} } = {}) {
  const own = { ...(catalogue || {}) };
  const base = { ...(fallback || {}) };
  const lookup = (key) => {
    if (Object.prototype.hasOwnProperty.call(own, key) && typeof own[key] === "string") return own[key];
    if (Object.prototype.hasOwnProperty.call(base, key) && typeof base[key] === "string") return base[key];
    return null;
  };
  function t(key, params) {
    const text = lookup(key);
    return interpolate(text == null ? key : text, params);
  }
  t.t = t;
  t.locale = locale;
  t.has = (key) => lookup(key) != null;
  /** Add keys (existing keys win: a page cannot silently reword another page's strings). */
  t.extend = (more) => {
    for (const [key, value] of Object.entries(more || {})) if (!(key in own) && typeof value === "string") own[key] = value;
    return t;
  };
  return t;
}

/**
 * Load the catalogue for a language tag. Unknown locales and failed loads fall back to English; if even
 * English cannot be loaded the keys show, which is ugly but never breaks the page.
 */
export async function loadI18n({ fetch, locale = DEFAULT_LOCALE, base = "/operator/locales/" } = {}) {
  const wanted = String(locale || "").toLowerCase().split(/[-_]/)[0];
  const code = OPERATOR_LOCALES.includes(wanted) ? wanted : DEFAULT_LOCALE;
  const load = async (c) => {
    try {
      const response = await fetch(`${base}${c}.json`, { credentials: "same-origin" });
      return response.ok ? await response.json() : null;
    } catch {
      return null;
    }
  };
  const english = (await load(DEFAULT_LOCALE)) || {};
  if (code === DEFAULT_LOCALE) return makeI18n(english, { locale: code });
  const own = await load(code);
  return own ? makeI18n(own, { locale: code, fallback: english }) : makeI18n(english, { locale: DEFAULT_LOCALE });
}
