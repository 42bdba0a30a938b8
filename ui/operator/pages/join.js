// /join/<token>/: the invitation link for a new operator. Email and a password twice ("Accept invite");
// then the login, where the shared accounts' keys arrive.

import { buildForm, h, link, pageHeading, translator } from "./kit.js";

export function mountJoin(el, ctx) {
  const doc = el.ownerDocument;
  const t = translator(ctx);
  el.appendChild(pageHeading(doc, t("join.title")));
  el.appendChild(h(doc, "p", { class: "intro", text: t("join.intro") }));
  const panel = h(doc, "div", { class: "panel narrow" });
  el.appendChild(panel);
  buildForm(panel, ctx, {
    id: "join",
    submitKey: "join.submit",
    fields: [
      { name: "email", type: "email", labelKey: "form.email", autocomplete: "username" },
      { name: "password", type: "password", labelKey: "form.password", autocomplete: "new-password", newPassword: true, hintKey: "form.passwordHint" },
      { name: "repeat", type: "password", labelKey: "form.repeatPassword", autocomplete: "new-password", sameAs: "password" },
    ],
    onSubmit: async (values) => {
      await ctx.api.post("/api/join", { emailAddress: values.email.trim(), password: values.password, token: ctx.params.token }, { redirectOn401: false });
      ctx.session.clear();
      ctx.session.setFlash("flash.joined");
      ctx.navigate("/login/");
    },
  });
  panel.appendChild(h(doc, "p", {}, [link(doc, ctx, "/login/", t("join.haveAccount"))]));
}
