// The account-management forms, exported as mount functions so the console and the dashboard (H4b) place
// them in their own panels: share (one account or all), retire, create account, change email, change
// password, logout, and the account picker. Each takes `(el, ctx)` with ctx = {accountId?, login, api,
// i18n, navigate, session?}. Roles are enforced by the server; these forms only hide what a viewer cannot
// use. Forms that change credentials or keys end with a forced re-login: the server clears the `auth`
// cookie, and the stored login (with its key-encryption keys) is removed here too.

import { ApiError } from "../api.js";
import { createSession, isAdmin, sortedAccounts } from "../session.js";
import { FormError, buildForm, h, link, setBusy, translator } from "./kit.js";

function sessionOf(ctx) {
  return ctx.session || createSession(globalThis.sessionStorage);
}

const normalizeEmail = (value) => String(value || "").trim().toLowerCase();

/** Log out on the server, forget the login here, and go to the login page with a message. */
export async function forceRelogin(ctx, flashKey) {
  try {
    await ctx.api.post("/api/logout", undefined, { redirectOn401: false });
  } catch {
    /* the cookie may already be gone (the server clears it after credential changes) */
  }
  const session = sessionOf(ctx);
  session.clear();
  if (flashKey) session.setFlash(flashKey);
  ctx.navigate("/login/");
}

/**
 * For the routes that re-check email and password: their 401 means "wrong credentials", unless the
 * session itself is gone — GET /api/login tells which (and redirects to the login when it is).
 */
async function checkingCredentials(ctx, call) {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      await ctx.api.get("/api/login");
      throw new FormError("errors.badCredentials", null, "password");
    }
    throw err;
  }
}

function accountName(ctx, accountId) {
  const found = ((ctx.login && ctx.login.accounts) || []).find((a) => a.accountId === accountId);
  return found ? String(found.accountName || "") : "";
}

const confirmFields = (group) => [
  { name: "emailAddress", type: "email", labelKey: "form.yourEmail", autocomplete: "username", group },
  { name: "password", type: "password", labelKey: "form.yourPassword", autocomplete: "current-password", group },
];

/** Share one account (ctx.accountId) or, without it, all of the admin's accounts. Admins only. */
export function mountShareForm(el, ctx) {
  const all = !ctx.accountId;
  const id = all ? "share-all" : "share";
  return buildForm(el, ctx, {
    id,
    titleKey: all ? "share.titleAll" : "share.title",
    introKey: all ? "share.introAll" : "share.intro",
    introParams: { name: accountName(ctx, ctx.accountId) },
    submitKey: "share.submit",
    resetOnSuccess: true,
    fields: [
      { name: "invitee", type: "email", labelKey: "share.invitee", autocomplete: "off", group: "share.whom",
        check: (value, values) => (values.emailAddress && normalizeEmail(value) === normalizeEmail(values.emailAddress) ? "share.errorSelf" : null) },
      { name: "grantAdmin", testid: "grant-admin", type: "checkbox", labelKey: "share.grantAdmin", hintKey: "share.grantAdminHint", group: "share.whom" },
      ...confirmFields("form.confirmWithCredentials"),
    ],
    onSubmit: async (values) => {
      const path = all ? "/api/share-account" : `/api/share-account/${encodeURIComponent(ctx.accountId)}`;
      await checkingCredentials(ctx, () =>
        ctx.api.post(path, {
          invitee: values.invitee.trim(),
          grantAdminPrivileges: Boolean(values.grantAdmin),
          emailAddress: values.emailAddress.trim(),
          password: values.password,
        }, { redirectOn401: false }),
      );
      return ["share.sent", { email: values.invitee.trim() }];
    },
  });
}

/** Retire the account: type its name to confirm, then log in again (the account's keys are gone). */
export function mountRetireForm(el, ctx) {
  const name = accountName(ctx, ctx.accountId);
  return buildForm(el, ctx, {
    id: "retire",
    titleKey: "retire.title",
    introKey: "retire.intro",
    introParams: { name },
    submitKey: "retire.submit",
    danger: true,
    fields: [
      { name: "confirmName", testid: "name", type: "text", labelKey: "retire.confirmName", hintKey: "retire.confirmHint",
        check: (value) => (value !== name ? "retire.errorName" : null) },
    ],
    onSubmit: async () => {
      await ctx.api.del(`/api/accounts/${encodeURIComponent(ctx.accountId)}`);
      await forceRelogin(ctx, "flash.retired");
    },
  });
}

/** A new account for the admin; then a re-login, because the new account's key arrives with a login. */
export function mountCreateAccountForm(el, ctx) {
  return buildForm(el, ctx, {
    id: "create-account",
    titleKey: "createAccount.title",
    introKey: "createAccount.intro",
    submitKey: "createAccount.submit",
    fields: [
      { name: "accountName", testid: "name", type: "text", labelKey: "createAccount.name", autocomplete: "off" },
      ...confirmFields("form.confirmWithCredentials"),
    ],
    onSubmit: async (values) => {
      await checkingCredentials(ctx, () =>
        ctx.api.post("/api/accounts", {
          accountName: values.accountName.trim(),
          emailAddress: values.emailAddress.trim(),
          password: values.password,
        }, { redirectOn401: false }),
      );
      await forceRelogin(ctx, "flash.accountCreated");
    },
  });
}

export function mountChangeEmailForm(el, ctx) {
  return buildForm(el, ctx, {
    id: "change-email",
    titleKey: "changeEmail.title",
    introKey: "changeEmail.intro",
    submitKey: "changeEmail.submit",
    fields: [
      { name: "newEmail", testid: "new-email", type: "email", labelKey: "changeEmail.newEmail", autocomplete: "email",
        check: (value, values) => (normalizeEmail(value) === normalizeEmail(values.emailCurrent) ? "changeEmail.errorSame" : null) },
      { name: "emailCurrent", testid: "current-email", type: "email", labelKey: "changeEmail.currentEmail", autocomplete: "username", group: "form.confirmWithCredentials" },
      { name: "password", type: "password", labelKey: "form.yourPassword", autocomplete: "current-password", group: "form.confirmWithCredentials" },
    ],
    onSubmit: async (values) => {
      await ctx.api.post("/api/change-email", {
        emailAddress: values.newEmail.trim(),
        emailCurrent: values.emailCurrent.trim(),
        password: values.password,
      });
      await forceRelogin(ctx, "flash.emailChanged");
    },
  });
}

export function mountChangePasswordForm(el, ctx) {
  return buildForm(el, ctx, {
    id: "change-password",
    titleKey: "changePassword.title",
    submitKey: "changePassword.submit",
    fields: [
      { name: "currentPassword", testid: "current", type: "password", labelKey: "changePassword.current", autocomplete: "current-password" },
      { name: "changedPassword", testid: "new", type: "password", labelKey: "changePassword.new", autocomplete: "new-password", newPassword: true, hintKey: "form.passwordHint" },
      { name: "repeat", type: "password", labelKey: "changePassword.repeat", autocomplete: "new-password", sameAs: "changedPassword" },
    ],
    onSubmit: async (values) => {
      await ctx.api.post("/api/change-password", { currentPassword: values.currentPassword, changedPassword: values.changedPassword });
      await forceRelogin(ctx, "flash.passwordChanged");
    },
  });
}

/** A log-out button (data-testid "logout/submit"). */
export function mountLogoutButton(el, ctx) {
  const t = translator(ctx);
  const doc = el.ownerDocument;
  let busy = false;
  const button = h(doc, "button", { type: "button", class: "secondary", "data-testid": "logout/submit", text: t("logout.submit") });
  button.addEventListener("click", async () => {
    if (busy) return;
    busy = true;
    setBusy(button, true, t, "logout.submit");
    await forceRelogin(ctx, "flash.loggedOut");
  });
  el.appendChild(button);
  return { button };
}

/**
 * Links to every account of the login, sorted by name; `current` is marked with aria-current.
 * `translate` lets a caller whose `headingKey` lives in its own catalogue pass its translate function.
 */
export function mountAccountPicker(el, ctx, { current = ctx.accountId, headingKey = "accounts.title", translate } = {}) {
  const t = translate || translator(ctx);
  const doc = el.ownerDocument;
  const accounts = sortedAccounts(ctx.login);
  const nav = h(doc, "nav", { class: "account-picker", "aria-labelledby": "account-picker-title", "data-testid": "accounts/picker" }, [
    h(doc, "h2", { id: "account-picker-title", text: t(headingKey) }),
  ]);
  if (!accounts.length) {
    nav.appendChild(h(doc, "p", { text: t(isAdmin(ctx.login) ? "accounts.noneAdmin" : "accounts.none") }));
  } else {
    const list = h(doc, "ul");
    for (const account of accounts) {
      const a = link(doc, ctx, `/auditorium/${encodeURIComponent(account.accountId)}/`, account.accountName || account.accountId, {
        "data-testid": "accounts/open",
        "data-account-id": account.accountId,
        "aria-current": account.accountId === current ? "page" : null,
      });
      list.appendChild(h(doc, "li", {}, [a]));
    }
    nav.appendChild(list);
  }
  el.appendChild(nav);
  return { nav };
}
