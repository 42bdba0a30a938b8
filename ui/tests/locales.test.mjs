// Every catalogue has exactly the keys of en.js with the same placeholders, and the translator falls back
// to English for unknown locales, missing keys and catalogues that fail to load.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { LOCALES, interpolate, loadTranslator, makeTranslator, matchLocale } from "../shared/i18n.js";
import en from "../shared/locales/en.js";

const catalogues = {};
for (const code of LOCALES) catalogues[code] = (await import(`../shared/locales/${code}.js`)).default;

const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test("every locale has exactly the keys of en, with the same placeholders", () => {
  const keys = Object.keys(en).sort();
  assert.ok(keys.length > 100);
  for (const code of LOCALES) {
    const catalogue = catalogues[code];
    assert.deepEqual(Object.keys(catalogue).sort(), keys, `${code}: keys differ from en`);
    for (const key of keys) {
      assert.equal(typeof catalogue[key], "string", `${code}.${key}`);
      assert.ok(catalogue[key].trim(), `${code}.${key} is empty`);
      assert.deepEqual(placeholders(catalogue[key]), placeholders(en[key]), `${code}.${key}: placeholders`);
    }
  }
});

test("the banner strings of reference §1.8 are in English as Offen words them", () => {
  assert.equal(en["banner.consent"], "We only access usage data with your consent.");
  assert.equal(en["banner.optOutAnyTime"], "You can opt out and delete any time.");
  assert.equal(en["banner.learnMore"], "Learn more");
  assert.equal(en["banner.allow"], "I allow");
  assert.equal(en["banner.deny"], "I don't allow");
  assert.equal(en["banner.thanks"], "Thanks for your help to make this website better.");
  assert.equal(en["banner.manage"], "To manage your usage data open the Auditorium.");
  assert.equal(en["banner.continue"], "Continue");
});

test("text that other strings quote is consistent inside each locale", () => {
  for (const code of LOCALES) {
    const c = catalogues[code];
    // The vault turns this part of the sentence into the link.
    assert.ok(c["banner.manage"].includes(c["banner.openAuditorium"]), `${code}: link text not in sentence`);
    // The FAQ names the buttons by their labels.
    assert.ok(c["faq.deleteA"].includes(c["privacy.delete"]), `${code}: faq.deleteA`);
    assert.ok(c["faq.deleteA"].includes(c["privacy.optOut"]), `${code}: faq.deleteA opt out`);
    assert.ok(c["faq.exportA"].includes(c["export.button"]), `${code}: faq.exportA`);
  }
});

test("non-English catalogues are marked as unreviewed translations, and REVIEW.md lists them", () => {
  const review = readFileSync(new URL("../shared/locales/REVIEW.md", import.meta.url), "utf8");
  for (const code of LOCALES.filter((c) => c !== "en")) {
    const source = readFileSync(new URL(`../shared/locales/${code}.js`, import.meta.url), "utf8");
    assert.match(source.split("export default")[0], /NOT reviewed by a native speaker/, code);
    assert.match(review, new RegExp(`\\| ${code} \\| \`${code}\\.js\``), code);
  }
});

test("locale matching and fallbacks", async () => {
  assert.equal(matchLocale("de-AT"), "de");
  assert.equal(matchLocale("pt_BR"), "pt");
  assert.equal(matchLocale("FR"), "fr");
  assert.equal(matchLocale("xx"), null);
  assert.equal(matchLocale(""), null);

  const de = await loadTranslator("de-DE");
  assert.equal(de.locale, "de");
  assert.equal(de("banner.allow"), catalogues.de["banner.allow"]);
  assert.equal(de("export.done", { filename: "x.json" }), "Deine Nutzungsdaten wurden als x.json gespeichert.");

  const unknown = await loadTranslator("xx");
  assert.equal(unknown.locale, "en");
  assert.equal(unknown("banner.allow"), "I allow");

  const broken = await loadTranslator("fr", { importer: async () => Promise.reject(new Error("offline")) });
  assert.equal(broken.locale, "en");
  assert.equal(broken("banner.deny"), "I don't allow");

  // A key missing from a catalogue falls back to English, then to the key itself.
  const partial = makeTranslator({ "banner.allow": "Oui" });
  assert.equal(partial("banner.allow"), "Oui");
  assert.equal(partial("banner.deny"), "I don't allow");
  assert.equal(partial("no.such.key"), "no.such.key");
  assert.equal(interpolate("{a} and {b}", { a: 1 }), "1 and {b}");
});
