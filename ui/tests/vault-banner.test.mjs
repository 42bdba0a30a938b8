import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { bannerText, bannerWith, openStyles } from '../vault/banner.js';
import { bannerLinks } from '../vault/main.js';
import { byTestId, fakeDocument, fakeEvent, fakeWindow } from './vault-fakes.mjs';

const catalogue = {
  'banner.label': 'Einwilligung',
  'banner.intro': 'Nur mit Einwilligung.',
  'banner.optOutAnyTime': 'Jederzeit widerrufbar.',
  'banner.learnMore': 'Mehr erfahren',
  'banner.allow': 'Erlauben',
  'banner.deny': 'Nicht erlauben',
  'banner.thanks': 'Danke.',
  'banner.manage': 'Ihre Daten verwalten Sie im Auditorium.',
  'banner.auditorium': 'Auditorium',
  'banner.continue': 'Weiter',
};
const t = (key) => catalogue[key] ?? key;

function setup({ overlay = false, translator = t } = {}) {
  const document = fakeDocument();
  const window = fakeWindow();
  const host = document.getElementById('host');
  host.height = 120;
  const posted = [];
  const banner = bannerWith({
    document,
    window,
    t: translator,
    post: (m) => posted.push(m),
    links: bannerLinks('de'),
    useOverlay: () => overlay,
  });
  return { document, window, host, posted, banner };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test('the banner is a labelled dialog with Offen\'s class names, test ids and real buttons', async () => {
  const { document, host, posted, banner } = setup();
  const decision = banner.ask();
  const root = byTestId(host, 'banner');
  assert.ok(root);
  assert.equal(root.getAttribute('role'), 'dialog');
  assert.equal(root.getAttribute('aria-label'), 'Einwilligung');
  assert.ok(document.getElementById(root.getAttribute('aria-describedby')), 'described by its text');
  assert.equal(root.getAttribute('class'), 'banner__root banner--initial');
  assert.equal(document.activeElement, root, 'focus moves into the dialog');
  const classes = [...root.walk()].map((n) => n.getAttribute('class')).filter(Boolean);
  for (const name of ['banner__paragraph banner__paragraph--first', 'banner__paragraph', 'paragraph__anchor', 'banner__buttons', 'buttons__button']) {
    assert.ok(classes.includes(name), name);
  }
  const allow = byTestId(host, 'banner/allow');
  assert.equal(allow.tagName, 'BUTTON');
  assert.equal(allow.getAttribute('type'), 'button');
  assert.equal(allow.textContent, 'Erlauben');
  assert.equal(byTestId(host, 'banner/deny').textContent, 'Nicht erlauben');
  const learn = byTestId(host, 'banner/learn-more');
  assert.equal(learn.getAttribute('href'), '/?locale=de');
  assert.equal(learn.getAttribute('target'), '_blank');
  assert.match(root.textContent, /Nur mit Einwilligung\.Jederzeit widerrufbar\. Mehr erfahren/);
  assert.deepEqual(posted[0], { type: 'STYLES', payload: { styles: openStyles(120), attributes: { height: '120' } } });
  assert.equal(posted[0].payload.styles['z-index'], '2147483647');
  assert.equal(posted[0].payload.styles.bottom, '138px');
  assert.equal(posted[0].payload.styles.display, 'block');
  allow.click();
  assert.equal(await decision, 'allow');
});

test('the height is recomputed on resize', () => {
  const { window, host, posted, banner } = setup();
  banner.ask();
  host.height = 180;
  window.dispatch('resize');
  assert.equal(posted.length, 2);
  assert.equal(posted[1].payload.attributes.height, '180');
  window.dispatch('resize');
  assert.equal(posted.length, 2, 'no message when nothing changed');
});

test('"I allow" shows the follow-up; "Continue" closes and hides the frame', async () => {
  const { document, window, host, posted, banner } = setup();
  const decision = banner.ask();
  byTestId(host, 'banner/allow').click();
  assert.equal(await decision, 'allow', 'the decision is known before the visitor reads the follow-up');
  const root = byTestId(host, 'banner');
  assert.equal(root.getAttribute('class'), 'banner__root banner--followup');
  assert.match(root.textContent, /Danke\./);
  const auditorium = byTestId(host, 'banner/auditorium');
  assert.equal(auditorium.textContent, 'Auditorium');
  assert.equal(auditorium.getAttribute('href'), '/auditorium/?locale=de');
  assert.equal(root.textContent.includes('Ihre Daten verwalten Sie im Auditorium.'), true, 'the link sits inside the sentence');
  assert.equal(document.activeElement, root);
  byTestId(host, 'banner/continue').click();
  assert.equal(byTestId(host, 'banner'), null);
  assert.deepEqual(posted.at(-1), { type: 'STYLES', payload: { styles: { display: 'none' }, attributes: {} } });
  assert.equal(banner.isOpen(), false);
  assert.equal(document.listenerCount('keydown'), 0);
  assert.equal((window.listeners.resize || []).length, 0);
});

test('"I don\'t allow" closes at once', async () => {
  const { host, posted, banner } = setup();
  const decision = banner.ask();
  byTestId(host, 'banner/deny').click();
  assert.equal(await decision, 'deny');
  assert.equal(byTestId(host, 'banner'), null);
  assert.deepEqual(posted.at(-1).payload.styles, { display: 'none' });
});

test('Escape is never a decision', async () => {
  const { document, host, banner } = setup();
  let settled = false;
  banner.ask().then(() => (settled = true));
  const escape = fakeEvent('keydown', { key: 'Escape' });
  document.dispatch(escape);
  await tick();
  assert.equal(settled, false);
  assert.ok(byTestId(host, 'banner'), 'still asking');
  byTestId(host, 'banner/allow').click();
  await tick();
  document.dispatch(fakeEvent('keydown', { key: 'Escape' }));
  assert.equal(byTestId(host, 'banner'), null, 'Escape dismisses the thank-you screen');
});

test('where storage is partitioned, links ask the host page for the overlay', () => {
  const { host, posted, banner } = setup({ overlay: true });
  banner.ask();
  const click = fakeEvent('click');
  byTestId(host, 'banner/learn-more').dispatchEvent(click);
  assert.equal(click.defaultPrevented, true);
  assert.deepEqual(posted.at(-1), { type: 'OPEN_AUDITORIUM', payload: { url: '/auditorium/?embedded=1&locale=de' } });
});

test('same-site, links are plain new-tab links', () => {
  const { host, posted, banner } = setup({ overlay: false });
  banner.ask();
  const click = fakeEvent('click');
  byTestId(host, 'banner/learn-more').dispatchEvent(click);
  assert.equal(click.defaultPrevented, false);
  assert.ok(posted.every((m) => m.type === 'STYLES'));
});

test('missing catalogue keys fall back to English, and alternative key names are read', () => {
  assert.equal(bannerText((k) => k, 'allow'), 'I allow');
  assert.equal(bannerText(null, 'deny'), "I don't allow");
  assert.equal(bannerText((k) => (k === 'banner.consent' ? 'Alt intro' : k), 'intro'), 'Alt intro');
  const { host, banner } = setup({ translator: (k) => k });
  banner.ask();
  byTestId(host, 'banner/allow').click();
  assert.match(byTestId(host, 'banner').textContent, /To manage your usage data open the Auditorium\./);
});

test('a link text missing from its sentence is appended after it', async () => {
  const { host, banner } = setup({ translator: (k) => (k === 'banner.manage' ? 'Manage here:' : t(k)) });
  banner.ask();
  byTestId(host, 'banner/allow').click();
  assert.match(byTestId(host, 'banner').textContent, /Manage here: Auditorium/);
});

test('the page template loads the defaults before the account\'s styles, and the module', async () => {
  const html = await readFile(new URL('../vault/index.html', import.meta.url), 'utf8');
  assert.match(html, /<html lang="\{\{lang\}\}">/);
  const css = html.indexOf('/vault/banner.css');
  const custom = html.indexOf('<style>{{accountStyles}}</style>');
  assert.ok(css > 0 && custom > css);
  assert.match(html, /<script type="module" src="\/vault\/main.js"><\/script>/);
  assert.match(html, /<div id="host"><\/div>/);
  const banner = await readFile(new URL('../vault/banner.css', import.meta.url), 'utf8');
  assert.ok(!banner.includes('[data-testid'), 'never styled by test id');
  assert.match(banner, /\.buttons__button:focus-visible/);
});

test('focus that fails while the frame is hidden is retried when it appears, without stealing it later', () => {
  const { document, window, host, banner } = setup();
  document.hidden = true;
  banner.ask();
  assert.equal(document.activeElement, null);
  document.hidden = false;
  host.height = 150;
  window.dispatch('resize');
  const root = byTestId(host, 'banner');
  assert.equal(document.activeElement, root);
  const deny = byTestId(host, 'banner/deny');
  deny.focus();
  host.height = 160;
  window.dispatch('resize');
  assert.equal(document.activeElement, deny, 'a control the visitor chose keeps focus');
});
