// /reset-password/<token>/: the mailed link. Email and a new password twice; an expired or forged token
// is refused by the server (400) and its reason is shown.

import { mountTokenPasswordPage } from "./token-password.js";

export function mountResetPassword(el, ctx) {
  mountTokenPasswordPage(el, ctx, {
    id: "reset",
    endpoint: "/api/reset-password",
    titleKey: "reset.title",
    introKey: "reset.intro",
    submitKey: "reset.submit",
    passwordLabelKey: "form.newPassword",
    flashKey: "flash.passwordReset",
    footerHref: "/forgot-password/",
    footerKey: "reset.newLink",
  });
}
