// /reset-password/<token>/: the mailed link. Email and a new password twice; an expired or forged token
// is refused by the server (400) and its reason is shown.

import { buildForm, h, link, pageHeading, translator } from "./kit.js";

export function mountResetPassword(el, ctx) {
  const doc = el.ownerDocument;
  const t = translator(ctx);
  el.appendChild(pageHeading(doc, t("reset.title")));
  el.appendChild(h(doc, "p", { class: "intro", text: t("reset.intro") }));
  const panel = h(doc, "div", { class: "panel narrow" });
  el.appendChild(panel);
  buildForm(panel, ctx, {
    id: "reset",
    submitKey: "reset.submit",
    fields: [
      { name: "email", type: "email", labelKey: "form.email", autocomplete: "username" },
      { name: "password", type: "password", labelKey: "form.newPassword", autocomplete: "new-password", newPassword: true, hintKey: "form.passwordHint" },
      { name: "repeat", type: "password", labelKey: "form.repeatPassword", autocomplete: "new-password", sameAs: "password" },
    ],
    onSubmit: async (values) => {
      await ctx.api.post("/api/reset-password", { emailAddress: values.email.trim(), password: values.password, token: ctx.params.token }, { redirectOn401: false });
      ctx.session.clear();
      ctx.session.setFlash("flash.passwordReset");
      ctx.navigate("/login/");
    },
  });
  panel.appendChild(h(doc, "p", {}, [link(doc, ctx, "/forgot-password/", t("reset.newLink"))]));
}
