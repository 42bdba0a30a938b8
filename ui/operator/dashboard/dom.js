// Small DOM helpers of the dashboard views: an element builder and a copy-to-clipboard button with a
// spoken confirmation. Factories over the `document`/`window` they are given, so views never reach for
// globals and tests can hand in another document.

/** `h(tag, attrs, children)`: attributes `text` (textContent), `on<event>` (listeners), booleans, strings. */
export function builder(document) {
  return function h(tag, attrs = {}, children = []) {
    const ns = attrs && attrs.xmlns;
    const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "xmlns" || value == null || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of [].concat(children)) {
      if (child == null || child === false) continue;
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  };
}

export const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * A "Copy" button for the text of `source()`; the result is said in `announce` (a polite live region).
 * The Clipboard API needs a secure context and focus; where it fails, the text is selected in `select`
 * (a textarea/input) so the person can copy it by hand.
 */
export function copyButton({ h, window, t, source, select, announce, testid, label }) {
  return h("button", {
    type: "button",
    class: "dash-button dash-button--quiet",
    "data-testid": testid,
    "aria-label": label,
    text: t("copy.button"),
    onclick: async () => {
      const text = source();
      try {
        await window.navigator.clipboard.writeText(text);
        announce(t("copy.done"));
      } catch {
        if (select && typeof select.select === "function") {
          select.focus();
          select.select();
        }
        announce(t("copy.failed"));
      }
    },
  });
}
