/**
 * Random UUIDs (version 4, RFC 9562 §5.4) for the ids the vault makes, such as the
 * per-account session id.
 *
 * `crypto.randomUUID()` is only exposed in secure contexts, and a vault framed by a
 * plain-http host page is not one, so every pageview there failed before it was sent.
 * `crypto.getRandomValues()` is available in every context (it is the CSPRNG the
 * userland crypto fallback relies on too), so the UUID is built from its bytes with the
 * version and variant bits set by hand.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * @param {(bytes: Uint8Array) => Uint8Array} [getRandomValues] defaults to the browser's CSPRNG
 * @returns {string} e.g. `3b241101-e2bb-4255-8caf-4136c566a962`
 */
export function randomUUIDv4(getRandomValues = (bytes) => globalThis.crypto.getRandomValues(bytes)) {
  const bytes = new Uint8Array(16);
  getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10xx (RFC 9562)
  const hex = Array.from(bytes, (b) => HEX[b]);
  return [
    hex.slice(0, 4).join(''),
    hex.slice(4, 6).join(''),
    hex.slice(6, 8).join(''),
    hex.slice(8, 10).join(''),
    hex.slice(10, 16).join(''),
  ].join('-');
}
