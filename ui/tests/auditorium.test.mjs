// Unit tests of the auditorium's pure helpers (format.js) and of the vault client's message protocol
// (vault-client.js) against a fake window: no DOM library, real MessageChannel from Node.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  RANGE_OPTIONS,
  buildQuery,
  bucketLabel,
  consentName,
  displayUrl,
  exportFileName,
  exportText,
  formatterFor,
  pageOptions,
  pickRange,
  rangeOptions,
  totalPageviews,
} from "../auditorium/format.js";
import { vaultClientWith } from "../auditorium/vault-client.js";
import { makeTranslator } from "../shared/i18n.js";

test("range options are capped by the retention period", () => {
  assert.equal(RANGE_OPTIONS.length, 7);
  const all = rangeOptions(186);
  assert.ok(all.every((o) => o.available));
  const short = rangeOptions(30); // OFFEN_APP_RETENTION=30days
  assert.deepEqual(
    short.filter((o) => !o.available).map((o) => o.id),
    ["6w", "12w", "6m"],
  );
  assert.equal(pickRange("12w", 30).id, "7d"); // not available -> the default
  assert.equal(pickRange("nonsense").id, "7d");
  assert.equal(pickRange("30d", 84).id, "30d");
  assert.ok(rangeOptions(undefined).every((o) => o.available)); // unknown retention: Offen's default 186 days
});

test("the QUERY payload carries the browser's clock, zone and filter", () => {
  const now = new Date("2024-05-15T12:00:00Z");
  assert.deepEqual(buildQuery(pickRange("6m"), { now, timeZone: "Europe/Berlin" }), {
    range: 6,
    resolution: "months",
    now: "2024-05-15T12:00:00.000Z",
    timeZone: "Europe/Berlin",
  });
  assert.equal(buildQuery(pickRange("yesterday"), { now, timeZone: "UTC", filter: "geo:DE" }).filter, "geo:DE");
  assert.equal(buildQuery(pickRange("yesterday"), { now, timeZone: "UTC" }).range, "yesterday");
});

test("numbers, shares and durations are formatted per locale", () => {
  const t = makeTranslator({});
  const en = formatterFor("en", t);
  assert.equal(en.count(1234), "1,234");
  assert.equal(en.count(1.5), "1.5");
  assert.equal(en.count(null), "–");
  assert.equal(en.percent(1 / 3), "33.3%");
  assert.equal(en.duration(250), "250 ms");
  assert.equal(en.duration(1234), "1.23 s");
  assert.equal(en.duration(null), "–");
  assert.equal(en.yesNo(1 / 7), "No"); // one page view in seven from a phone: not a mobile user
  assert.equal(en.yesNo(0.5), "Yes");
  assert.equal(en.yesNo(null), "–");
  const de = formatterFor("de", t);
  assert.equal(de.count(1234.5), "1.234,5");
  assert.equal(totalPageviews({ pageviews: [{ pageviews: 2 }, { pageviews: 3 }] }), 5);
  assert.equal(totalPageviews(null), 0);
});

test("labels, file names and small helpers", () => {
  assert.equal(bucketLabel("2024-05-15T13:00", "hours", "en"), "13:00");
  assert.equal(bucketLabel("2024-05-15", "days", "en"), "May 15");
  assert.equal(bucketLabel("2024-05", "months", "en"), "May 2024");
  // 23:30 UTC is already the next day in Berlin: the file is named after the visitor's own date.
  const late = new Date("2024-05-15T23:30:00Z");
  assert.equal(exportFileName(late, "UTC"), "offen-usage-data-2024-05-15.json");
  assert.equal(exportFileName(late, "Europe/Berlin"), "offen-usage-data-2024-05-16.json");
  assert.deepEqual(JSON.parse(exportText({ accounts: { a: [1] } })), { accounts: { a: [1] } });
  assert.equal(exportText(undefined), "{}\n");
  assert.equal(displayUrl("https://a.example/about/"), "a.example/about/");
  assert.equal(consentName("allow"), "allow");
  assert.equal(consentName(null), "unknown");
  assert.deepEqual(pageOptions("https://offen.test/auditorium/?embedded=1&locale=de", "en"), {
    locale: "de",
    embedded: true,
    range: "7d",
  });
  assert.equal(pageOptions("https://offen.test/", "fr").locale, "fr");
});

// A fake window: the iframe's contentWindow answers like the vault (or not at all), over real ports.
function fakeWindow(answer) {
  const posted = [];
  const iframe = {
    attributes: {},
    style: {},
    listeners: {},
    setAttribute(name, value) {
      this.attributes[name] = value;
    },
    addEventListener(type, fn) {
      this.listeners[type] = fn;
    },
    remove() {
      this.removed = true;
    },
    contentWindow: {
      postMessage(message, targetOrigin, ports) {
        posted.push({ message, targetOrigin });
        const port = ports[0];
        if (answer) for (const reply of answer(message)) port.postMessage(reply);
        port.close();
      },
    },
  };
  const win = {
    location: { origin: "https://offen.test" },
    MessageChannel,
    setTimeout,
    clearTimeout,
    document: {
      createElement: () => iframe,
      body: {
        appendChild(node) {
          setImmediate(() => node.listeners.load());
        },
      },
    },
  };
  return { win, iframe, posted };
}

test("the vault client posts to its own origin and resolves with the reply", async () => {
  const { win, iframe, posted } = fakeWindow((message) => [
    { type: "STYLES", payload: {} }, // ignored: meant for host pages
    { type: `${message.type}_SUCCESS`, payload: { echo: message.payload } },
  ]);
  const client = vaultClientWith(win, { locale: "de" });
  assert.equal(iframe.attributes.src, "/vault?locale=de");
  assert.equal(iframe.style.display, "none");
  const reply = await client.request("QUERY", { query: { range: 7 } });
  assert.deepEqual(reply, { type: "QUERY_SUCCESS", payload: { echo: { query: { range: 7 } } } });
  assert.deepEqual(posted[0], { message: { type: "QUERY", payload: { query: { range: 7 } } }, targetOrigin: "https://offen.test" });
  client.destroy();
  assert.equal(iframe.removed, true);
});

test("ERROR and *_FAILURE replies reject with the vault's message", async () => {
  const { win } = fakeWindow((message) =>
    message.type === "PURGE"
      ? [{ type: "ERROR", payload: { error: "the server is not reachable" } }]
      : [{ type: "LOGIN_FAILURE", payload: { message: "bad credentials" } }],
  );
  const client = vaultClientWith(win);
  await assert.rejects(client.request("PURGE"), /the server is not reachable/);
  await assert.rejects(client.request("LOGIN"), /bad credentials/);
});

test("a vault that never answers times out", async () => {
  const { win } = fakeWindow(null);
  const client = vaultClientWith(win, { timeoutMs: 50 });
  await assert.rejects(client.request("CONSENT_STATUS"), /timeout/);
});
