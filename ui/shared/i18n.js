// Message catalogues: picks a locale, loads its catalogue and returns a translate function.
// Owns the list of supported locales and the fallback rules (unknown locale or missing key -> English).
// No DOM and no globals beyond dynamic import, so the vault, the auditorium and Node tests share it.

import en from "./locales/en.js";

export const LOCALES = Object.freeze(["en", "de", "fr", "es", "pt", "vi"]);
export const DEFAULT_LOCALE = "en";

/** Maps a language tag ("de-AT", "pt_BR", "FR") to a supported locale, or null when none fits. */
export function matchLocale(tag) {
  if (typeof tag !== "string" || !tag) return null;
  const primary = tag.trim().toLowerCase().split(/[-_]/)[0];
  return LOCALES.includes(primary) ? primary : null;
}

/** Replaces {name} placeholders; unknown placeholders stay visible so a mistake is noticed, not hidden. */
export function interpolate(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** A translate function over one catalogue, falling back to English, then to the key itself. */
export function makeTranslator(catalogue, fallback = en) {
  return function translate(key, params) {
    let text = catalogue && Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : undefined;
    if (typeof text !== "string") text = Object.prototype.hasOwnProperty.call(fallback, key) ? fallback[key] : key;
    return interpolate(text, params);
  };
}

/**
 * Loads the catalogue of `locale` (any language tag) and returns `(key, params) => string`.
 * `importer` exists for tests; the default imports the catalogue module next to this file.
 */
export async function loadTranslator(locale, { importer } = {}) {
  const code = matchLocale(locale) || DEFAULT_LOCALE;
  if (code === DEFAULT_LOCALE) return withLocale(makeTranslator(en), code);
  const load = importer || ((c) => import(`./locales/${c}.js`));
  try {
    const module = await load(code);
    return withLocale(makeTranslator(module.default || module), code);
  } catch (err) {
    // A catalogue that fails to load must not break the banner or the auditorium: English still works.
    return withLocale(makeTranslator(en), DEFAULT_LOCALE);
  }
}

function withLocale(translate, code) {
  translate.locale = code;
  return translate;
}
