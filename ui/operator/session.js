// The operator's login state in the browser (contract 1): the JSON answer of POST /api/login, kept in
// sessionStorage under "offen.operator.login" so it dies with the tab, and removed at logout (Offen kept it
// until the tab closed, reference §10.16). Also a one-shot "flash" message key shown by the next page
// (e.g. "log in again" after a password change). No DOM; the storage is passed in so tests use a fake.

export const LOGIN_KEY = "offen.operator.login";
export const FLASH_KEY = "offen.operator.flash";

/** True for a value shaped like the login answer (what the rest of the code relies on). */
export function isLoginShape(value) {
  return (
    value != null &&
    typeof value === "object" &&
    typeof value.accountUserId === "string" &&
    Array.isArray(value.accounts) &&
    value.accounts.every((a) => a && typeof a.accountId === "string")
  );
}

/** The accounts of a login sorted by name (then id), as the account picker and the redirect use them. */
export function sortedAccounts(login) {
  if (!login || !Array.isArray(login.accounts)) return [];
  return [...login.accounts].sort((a, b) => {
    const byName = String(a.accountName || "").localeCompare(String(b.accountName || ""), "en", { sensitivity: "base" });
    return byName !== 0 ? byName : String(a.accountId).localeCompare(String(b.accountId));
  });
}

/** adminLevel 1 is Offen's "super admin": share, create, retire, banner styles. */
export function isAdmin(login) {
  return Boolean(login) && login.adminLevel === 1;
}

/**
 * The session over a Storage-like object (`getItem`, `setItem`, `removeItem`). Storage that throws
 * (disabled by the browser) behaves as empty: the operator simply has to log in again.
 */
export function createSession(storage) {
  const read = (key) => {
    try {
      return storage ? storage.getItem(key) : null;
    } catch {
      return null;
    }
  };
  const write = (key, value) => {
    try {
      if (storage) storage.setItem(key, value);
    } catch {
      /* quota or privacy mode: nothing we can do, the page still works for this view */
    }
  };
  const remove = (key) => {
    try {
      if (storage) storage.removeItem(key);
    } catch {
      /* see write */
    }
  };
  return {
    /** The stored login answer, or null (absent, unreadable or not shaped like one). */
    get() {
      const text = read(LOGIN_KEY);
      if (!text) return null;
      try {
        const value = JSON.parse(text);
        return isLoginShape(value) ? value : null;
      } catch {
        return null;
      }
    },
    set(login) {
      if (!isLoginShape(login)) throw new TypeError("not a login answer");
      write(LOGIN_KEY, JSON.stringify(login));
    },
    /** Forget the login, and with it the key-encryption keys it holds. */
    clear() {
      remove(LOGIN_KEY);
    },
    /** Remember a catalogue key for the next page to show (never free text). */
    setFlash(key) {
      write(FLASH_KEY, String(key));
    },
    /** The flash key, removed as it is read. */
    takeFlash() {
      const key = read(FLASH_KEY);
      remove(FLASH_KEY);
      return key || null;
    },
  };
}
