// /join/<token>/: the invitation link for a new operator. Email and a password twice ("Accept invite");
// then the login, where the shared accounts' keys arrive.

import { mountTokenPasswordPage } from "./token-password.js";

export function mountJoin(el, ctx) {
  mountTokenPasswordPage(el, ctx, {
    id: "join",
    endpoint: "/api/join",
    titleKey: "join.title",
    introKey: "join.intro",
    submitKey: "join.submit",
    passwordLabelKey: "form.password",
    flashKey: "flash.joined",
    footerHref: "/login/",
    footerKey: "join.haveAccount",
  });
}
