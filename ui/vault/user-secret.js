/**
 * The visitor secret of one account (reference §2.6): found locally, or made in the browser,
 * wrapped with the account's public key and handed to the server once (`POST /api/exchange`).
 * The plain secret never leaves the vault; the server only ever sees it wrapped.
 */

/**
 * @param {{
 *   api: ReturnType<import('./api.js').apiWith>,
 *   storage: ReturnType<import('./storage.js').storageWith>,
 *   getCrypto: () => Promise<{createUserSecret: Function, wrapUserSecret: Function}>,
 * }} deps
 */
export function userSecretWith({ api, storage, getCrypto }) {
  // One exchange per account at a time: two pageviews racing to the server would make it
  // park the first secret (reference §2.6) and the visitor would lose access to its events.
  const pending = new Map();

  async function exchange(accountId) {
    const { publicKey } = await api.getPublicKey(accountId);
    const crypto = await getCrypto();
    const secret = await crypto.createUserSecret();
    const encryptedSecret = await crypto.wrapUserSecret(publicKey, secret);
    await api.postUserSecret(accountId, encryptedSecret);
    // Stored only after the server accepted it: a secret it does not know is worthless.
    await storage.putUserSecret(accountId, secret);
    return secret;
  }

  /** The account's visitor secret (a JWK), exchanging a new one when none is stored. */
  function ensure(accountId) {
    if (!pending.has(accountId)) {
      const job = (async () => (await storage.getUserSecret(accountId)) || exchange(accountId))();
      pending.set(accountId, job);
      job.then(
        () => pending.delete(accountId),
        () => pending.delete(accountId),
      );
    }
    return pending.get(accountId);
  }

  /** Drop the local secret (the server said it does not know us any more). */
  async function forget(accountId) {
    await storage.deleteUserSecret(accountId);
  }

  return { ensure, forget };
}
