// "Customize appearance" (reference §3.3, §6.4; admins only): a CSS editor for the consent banner with two
// live previews (first screen and thank-you screen). The banner markup comes from the vault's own
// renderer (ui/vault/banner.js) run on a detached document, so the preview is the banner visitors see.
// Previews are sandboxed srcdoc frames without scripts: operator CSS can never reach the dashboard, and
// nothing in a preview can run code. "Update preview" asks the server to validate (`?dryRun=1`) and shows
// its error text; "Apply styles" saves.

import { bannerWith } from "../../vault/banner.js";

/** The banner's HTML on its two screens, rendered by the vault's code on a document nobody sees. */
export function bannerScreens(document, MouseEventClass) {
  const doc = document.implementation.createHTMLDocument("preview");
  const container = doc.createElement("div");
  doc.body.appendChild(container);
  const quietWindow = { addEventListener() {}, removeEventListener() {} };
  const link = { href: "#", overlayUrl: "#" };
  const banner = bannerWith({
    document: doc,
    window: quietWindow,
    t: null,
    post() {},
    links: { learnMore: link, auditorium: link },
    useOverlay: () => false,
    container,
  });
  banner.ask();
  const first = container.innerHTML;
  const allow = container.querySelector('[data-testid="banner/allow"]');
  if (allow) allow.dispatchEvent(new MouseEventClass("click", { bubbles: true }));
  const second = container.innerHTML;
  banner.close();
  return [first, second];
}

/** CSS that cannot end its `<style>` element: the same escape the server applies (assets.style_element_text). */
export function styleText(css) {
  return String(css || "").replace(/</g, "\\3c ");
}

/** The srcdoc of one preview frame. */
export function previewDocument({ baseCss, customCss, markup }) {
  return (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Banner preview</title>' +
    `<style>${styleText(baseCss)}</style><style>${styleText(customCss)}</style>` +
    `</head><body><div id="host">${markup}</div></body></html>`
  );
}

/**
 * Builds the editor. `save(css, dryRun)` is the PUT of account-styles: it resolves when the server took the
 * styles and rejects with an Error whose message is the server's reason; `loadBaseCss()` resolves to the
 * vault's banner.css text.
 */
export function renderStylesEditor({ h, t, document, window, accountId, initialCss, save, loadBaseCss }) {
  const textarea = h("textarea", {
    id: "dash-styles-css",
    class: "dash-code",
    rows: "10",
    spellcheck: "false",
    autocapitalize: "off",
    "data-testid": "styles/css",
  });
  textarea.value = initialCss || "";
  const error = h("p", { class: "dash-error", role: "alert", "data-testid": "styles/error", hidden: true });
  const message = h("p", { class: "dash-message", role: "status", "data-testid": "styles/message" });
  const screens = bannerScreens(document, window.MouseEvent);
  const frames = screens.map((_, i) =>
    h("iframe", {
      class: "dash-preview",
      sandbox: "",
      title: t(i === 0 ? "styles.previewFirst" : "styles.previewSecond"),
      "data-testid": `styles/preview-frame-${i + 1}`,
      loading: "lazy",
    }),
  );
  let baseCss = "";
  let shownCss = initialCss || "";
  const paint = () => {
    frames.forEach((frame, i) => {
      frame.srcdoc = previewDocument({ baseCss, customCss: shownCss, markup: screens[i] });
      frame.setAttribute("data-css", shownCss);
    });
  };
  Promise.resolve()
    .then(loadBaseCss)
    .then((css) => {
      baseCss = css || "";
    })
    .catch(() => {})
    .then(paint);

  let busy = false;
  async function submit(dryRun) {
    if (busy) return;
    busy = true;
    error.hidden = true;
    message.textContent = "";
    const css = textarea.value;
    try {
      await save(css, dryRun);
      shownCss = css;
      paint();
      message.textContent = t(dryRun ? "styles.valid" : "styles.applied");
    } catch (err) {
      const text = (err && err.message) || String(err);
      error.textContent = t(err && err.status === 400 ? "styles.invalid" : "styles.failed", { message: text });
      error.hidden = false;
    } finally {
      busy = false;
    }
  }

  return h("div", { class: "dash-styles", "data-account": accountId }, [
    h("p", { text: t("styles.intro") }),
    h("label", { for: "dash-styles-css", class: "dash-label", text: t("styles.label") }),
    textarea,
    h("div", { class: "dash-actions" }, [
      h("button", { type: "button", class: "dash-button", "data-testid": "styles/preview", text: t("styles.preview"), onclick: () => submit(true) }),
      h("button", { type: "button", class: "dash-button dash-button--primary", "data-testid": "styles/apply", text: t("styles.apply"), onclick: () => submit(false) }),
    ]),
    error,
    message,
    h("div", { class: "dash-previews" }, frames),
  ]);
}
