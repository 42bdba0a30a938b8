// Command-line bridge for tests/test_ui_crypto.py: the browser crypto driven from Python.
//
// stdin: {"ops": [{"op": ..., "impl": "webcrypto" | "fallback", ...}, ...]}
// stdout: {"results": [{"value": ...} | {"error": "..."}, ...]} in the same order.
// Ops: createUserSecret; wrap {publicJwk, secretJwk}; unwrap {privateJwk, cipher};
// encrypt {key, value, nonceLength?}; decrypt {key, cipher}; decryptBytes {key, cipher} (value as hex).
// nonceLength 16 uses the fallback's forge-style test hook. Test tooling only; never served.

import { cryptoFallbackWith } from '../vault/crypto-fallback.js';
import { webCryptoWith } from '../vault/crypto.js';

const getRandomValues = (array) => globalThis.crypto.getRandomValues(array);

function implFor(op) {
  if (op.impl === 'webcrypto') return webCryptoWith(globalThis.crypto);
  if (op.impl === 'fallback') return cryptoFallbackWith({ getRandomValues, nonceLength: op.nonceLength ?? 12 });
  throw new Error(`unknown impl ${op.impl}`);
}

async function run(op) {
  const impl = implFor(op);
  switch (op.op) {
    case 'createUserSecret':
      return impl.createUserSecret();
    case 'wrap':
      return impl.wrapUserSecret(op.publicJwk, op.secretJwk);
    case 'unwrap':
      return impl.unwrapUserSecret(op.privateJwk, op.cipher);
    case 'encrypt':
      return impl.encryptJSON(op.key, op.value);
    case 'decrypt':
      return impl.decryptJSON(op.key, op.cipher);
    case 'decryptBytes':
      return Buffer.from(await impl.decryptBytes(op.key, op.cipher)).toString('hex');
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { ops } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const results = [];
for (const op of ops) {
  try {
    results.push({ value: await run(op) });
  } catch (error) {
    results.push({ error: `${error.name}: ${error.message}` });
  }
}
process.stdout.write(JSON.stringify({ results }));
