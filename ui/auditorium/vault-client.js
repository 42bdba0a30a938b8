// The auditorium's side of the vault protocol (ui/README.md "Messages"): mounts the hidden vault iframe on
// the Offen origin and sends it QUERY, CONSENT_STATUS, EXPRESS_CONSENT, PURGE and EXPORT over a
// MessageChannel. The auditorium never calls the API itself: the vault holds the keys and the data, and
// it only answers data-reading messages that come from its own origin.

export const VAULT_TIMEOUT_MS = 20000;

/**
 * `vaultClientWith(window, {path, locale, timeoutMs})` -> `{ready, request(type, payload), destroy()}`.
 * `request` resolves with the reply message (`{type: '<TYPE>_SUCCESS', payload}`) and rejects with an Error
 * on `ERROR` replies, a `*_FAILURE` reply, or when the vault does not answer within `timeoutMs`.
 */
export function vaultClientWith(win, { path = "/vault", locale = null, timeoutMs = VAULT_TIMEOUT_MS } = {}) {
  const doc = win.document;
  const origin = win.location.origin;
  const url = new URL(path, origin);
  if (locale) url.searchParams.set("locale", locale);

  const iframe = doc.createElement("iframe");
  iframe.setAttribute("src", url.pathname + url.search);
  iframe.setAttribute("title", "Offen Vault");
  iframe.setAttribute("aria-hidden", "true");
  iframe.setAttribute("tabindex", "-1");
  iframe.style.display = "none";

  const ready = new Promise((resolve, reject) => {
    const timer = win.setTimeout(() => reject(new Error("timeout")), timeoutMs);
    iframe.addEventListener("load", () => {
      win.clearTimeout(timer);
      resolve(iframe.contentWindow);
    });
  });
  // An unhandled rejection here would be noise: every request awaits `ready` and reports the failure.
  ready.catch(() => {});
  doc.body.appendChild(iframe);

  function request(type, payload = null) {
    return ready.then(
      (target) =>
        new Promise((resolve, reject) => {
          const channel = new win.MessageChannel();
          const port = channel.port1;
          const finish = (fn, value) => {
            win.clearTimeout(timer);
            port.onmessage = null;
            port.close();
            fn(value);
          };
          const timer = win.setTimeout(() => finish(reject, new Error("timeout")), timeoutMs);
          port.onmessage = (event) => {
            const message = event.data || {};
            if (message.type === "STYLES") return; // banner layout for host pages; not ours
            if (message.type === "ERROR" || /_FAILURE$/.test(String(message.type))) {
              const detail = message.payload && (message.payload.error || message.payload.message);
              finish(reject, new Error(detail || String(message.type)));
              return;
            }
            finish(resolve, message);
          };
          // Same origin only: the vault refuses data-reading messages from anywhere else, and the target
          // origin keeps the message from reaching a frame that was navigated elsewhere.
          target.postMessage({ type, payload }, origin, [channel.port2]);
        }),
    );
  }

  return {
    ready,
    request,
    destroy() {
      iframe.remove();
    },
  };
}
