/**
 * The consent banner (reference §1.8 items 4-7, 9), rendered inside the vault document,
 * which the host page shows as a fixed box when the vault sends `STYLES`.
 *
 * Accessibility: the root is a `role="dialog"` named by `banner.label` and described by its
 * text; focus moves into it when it opens; the choices are real `<button>`s; Escape never
 * counts as a decision (on the first screen it does nothing, on the thank-you screen it
 * closes like "Continue"). Class names are Offen's, so operators' custom CSS keeps working;
 * `data-testid`s are the browser tests' hooks (ui/README.md).
 */

export const BANNER_WIDTH = '426px';

// English text used when a catalogue lacks a key. The first key of each list is the agreed
// name; later ones are names the shared catalogues also use.
const TEXT = {
  label: [['banner.label'], 'Consent to usage data collection'],
  intro: [['banner.intro', 'banner.consent'], 'We only access usage data with your consent.'],
  optOut: [['banner.optOutAnyTime'], 'You can opt out and delete any time.'],
  learnMore: [['banner.learnMore'], 'Learn more'],
  allow: [['banner.allow'], 'I allow'],
  deny: [['banner.deny'], "I don't allow"],
  thanks: [['banner.thanks'], 'Thanks for your help to make this website better.'],
  manage: [['banner.manage'], 'To manage your usage data open the Auditorium.'],
  auditorium: [['banner.auditorium', 'banner.openAuditorium'], 'Auditorium'],
  continue: [['banner.continue'], 'Continue'],
};

/** Text for one banner string through the translator, English when the key is missing. */
export function bannerText(t, name) {
  const [keys, english] = TEXT[name];
  if (typeof t === 'function') {
    for (const key of keys) {
      let value;
      try {
        value = t(key);
      } catch {
        value = undefined;
      }
      if (typeof value === 'string' && value && value !== key) return value;
    }
  }
  return english;
}

/** The styles the host page applies to the vault iframe while the banner is open. */
export function openStyles(height) {
  return {
    display: 'block',
    position: 'fixed',
    bottom: '138px',
    left: '0',
    right: '0',
    margin: '0 auto',
    'z-index': '2147483647',
    // Offen switched to 100 % below a 414 px viewport with a media query; an inline style
    // cannot hold one, and min() gives the same result (and no overflow between 414 and 426 px).
    width: `min(${BANNER_WIDTH}, 100%)`,
    'max-width': '100%',
    height: `${height}px`,
    border: '0',
  };
}

/**
 * @param {{
 *   document: Document,
 *   window: Window,
 *   t: (key: string) => string,
 *   post: (message: object) => void,          sends to the host page over the port
 *   links: {learnMore: {href: string, overlayUrl: string}, auditorium: {href: string, overlayUrl: string}},
 *   useOverlay: () => boolean,                 decided at click time, see main.js
 *   container?: HTMLElement,
 * }} deps
 */
export function bannerWith({ document, window, t, post, links, useOverlay, container }) {
  const host = container || document.getElementById('host') || document.body;
  let root = null;
  let state = 'closed';
  let lastHeight = null;
  let observer = null;
  const cleanups = [];

  function el(tag, attributes = {}, children = []) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    for (const child of children) node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    return node;
  }

  function anchor(link, text, testid) {
    const node = el('a', {
      class: 'paragraph__anchor',
      href: link.href,
      target: '_blank',
      rel: 'noopener',
      'data-testid': testid,
    }, [text]);
    node.addEventListener('click', (event) => {
      // Where the vault's storage is partitioned (another site embeds it), a new tab on the
      // Offen origin would see none of the visitor's data: ask the host page to open the
      // auditorium in an overlay frame, which shares the vault's partition.
      if (!useOverlay()) return;
      event.preventDefault();
      post({ type: 'OPEN_AUDITORIUM', payload: { url: link.overlayUrl } });
    });
    return node;
  }

  function button(text, testid, onClick) {
    const node = el('button', { type: 'button', class: 'buttons__button', 'data-testid': testid }, [text]);
    node.addEventListener('click', onClick);
    return node;
  }

  /** A sentence with one part of it as a link; the link goes at the end if the part is not found. */
  function sentenceWithLink(sentence, linkText, link, testid) {
    const index = sentence.indexOf(linkText);
    if (index < 0) return [sentence + ' ', anchor(link, linkText, testid)];
    return [sentence.slice(0, index), anchor(link, linkText, testid), sentence.slice(index + linkText.length)];
  }

  function measure() {
    const rect = host.getBoundingClientRect ? host.getBoundingClientRect() : { height: 0 };
    return Math.ceil(Math.max(rect.height || 0, host.scrollHeight || 0));
  }

  function sendStyles(force = false) {
    if (state === 'closed') return;
    const height = measure();
    if (!force && height === lastHeight) return;
    lastHeight = height;
    post({ type: 'STYLES', payload: { styles: openStyles(height), attributes: { height: String(height) } } });
  }

  function onResize() {
    sendStyles();
    tryFocus();
  }

  function renderInitial(decide) {
    const descriptionId = 'banner-description';
    root = el(
      'div',
      {
        class: 'banner__root banner--initial',
        role: 'dialog',
        'aria-label': bannerText(t, 'label'),
        'aria-describedby': descriptionId,
        tabindex: '-1',
        'data-testid': 'banner',
      },
      [
        el('div', { id: descriptionId }, [
          el('p', { class: 'banner__paragraph banner__paragraph--first' }, [bannerText(t, 'intro')]),
          el('p', { class: 'banner__paragraph' }, [
            bannerText(t, 'optOut') + ' ',
            anchor(links.learnMore, bannerText(t, 'learnMore'), 'banner/learn-more'),
          ]),
        ]),
        el('div', { class: 'banner__buttons' }, [
          button(bannerText(t, 'allow'), 'banner/allow', () => decide('allow')),
          button(bannerText(t, 'deny'), 'banner/deny', () => decide('deny')),
        ]),
      ],
    );
    host.appendChild(root);
  }

  function renderFollowup() {
    root.setAttribute('class', 'banner__root banner--followup');
    while (root.firstChild) root.removeChild(root.firstChild);
    const descriptionId = 'banner-description';
    root.appendChild(
      el('div', { id: descriptionId }, [
        el('p', { class: 'banner__paragraph banner__paragraph--first' }, [bannerText(t, 'thanks')]),
        el(
          'p',
          { class: 'banner__paragraph' },
          sentenceWithLink(bannerText(t, 'manage'), bannerText(t, 'auditorium'), links.auditorium, 'banner/auditorium'),
        ),
      ]),
    );
    const buttons = [button(bannerText(t, 'continue'), 'banner/continue', close)];
    root.appendChild(el('div', { class: 'banner__buttons' }, buttons));
  }

  function listen(target, type, handler) {
    target.addEventListener(type, handler);
    cleanups.push(() => target.removeEventListener(type, handler));
  }

  // Focus goes into the dialog when it appears. While the host page still shows the frame
  // as display:none nothing in it can take focus, so this is retried on the first resizes
  // until it holds, but never pulls focus away from a control inside the banner.
  let wantsFocus = false;

  function focusRoot() {
    wantsFocus = true;
    tryFocus();
  }

  function tryFocus() {
    if (!wantsFocus || !root) return;
    const active = document.activeElement;
    if (active && active !== document.body && root.contains && root.contains(active)) {
      wantsFocus = false;
      return;
    }
    try {
      root.focus({ preventScroll: true });
    } catch {
      // A document without focus support (very old engines): the dialog still works.
    }
    if (document.activeElement === root) wantsFocus = false;
  }

  /** Close the banner: empty the document and tell the host page to hide the frame. */
  function close() {
    if (state === 'closed') return;
    state = 'closed';
    for (const cleanup of cleanups.splice(0)) cleanup();
    if (observer) observer.disconnect();
    observer = null;
    if (root && root.parentNode) root.parentNode.removeChild(root);
    root = null;
    lastHeight = null;
    post({ type: 'STYLES', payload: { styles: { display: 'none' }, attributes: {} } });
  }

  /**
   * Show the banner and resolve with the visitor's decision, 'allow' or 'deny'. After
   * 'allow' the thank-you screen stays open until "Continue" (the caller goes on at once).
   */
  function ask() {
    return new Promise((resolve) => {
      state = 'initial';
      const decide = (status) => {
        if (state !== 'initial') return;
        if (status === 'allow') {
          state = 'followup';
          renderFollowup();
          sendStyles();
          focusRoot();
        } else {
          close();
        }
        resolve(status);
      };
      renderInitial(decide);
      listen(window, 'resize', onResize);
      listen(document, 'keydown', (event) => {
        if (event.key !== 'Escape') return;
        // Escape is never consent nor refusal; it only dismisses the thank-you screen.
        if (state === 'followup') close();
      });
      if (typeof window.ResizeObserver === 'function') {
        observer = new window.ResizeObserver(onResize);
        observer.observe(host);
      }
      sendStyles(true);
      focusRoot();
    });
  }

  return { ask, close, isOpen: () => state !== 'closed' };
}
