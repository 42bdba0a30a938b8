// Entry of ui/vendor/noble-*.min.js: re-exports exactly what ui/vault/crypto-fallback.js uses.
// X25519 is built with noble's own `montgomery()` and the RFC 7748 curve constants (the recipe of
// montgomery.js's documentation) instead of importing `x25519` from ed25519.js: that export pulls
// the whole Edwards-curve point arithmetic into the bundle just to speed up the fixed-base
// multiplication, which more than doubles the gzipped size.
import { montgomery } from '@noble/curves/abstract/montgomery.js';
import { pow } from '@noble/curves/abstract/modular.js';

export { gcm } from '@noble/ciphers/aes.js';
export { sha256 } from '@noble/hashes/sha2.js';
export { hkdf } from '@noble/hashes/hkdf.js';

const P = 2n ** 255n - 19n;

export const x25519 = montgomery({
  P,
  type: 'x25519',
  // RFC 7748 §5 clamping.
  adjustScalarBytes(bytes) {
    bytes[0] &= 248;
    bytes[31] &= 127;
    bytes[31] |= 64;
    return bytes;
  },
  powPminus2: (x) => pow(x, P - 2n, P),
});
