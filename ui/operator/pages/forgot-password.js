// /forgot-password/: asks for the email address; the server mails a reset link built from its own public
// URL (never from the page) and answers the same for unknown addresses, so nothing leaks here either.

import { buildForm, h, link, pageHeading, translator } from "./kit.js";

export function mountForgotPassword(el, ctx) {
  const doc = el.ownerDocument;
  const t = translator(ctx);
  el.appendChild(pageHeading(doc, t("forgot.title")));
  el.appendChild(h(doc, "p", { class: "intro", text: t("forgot.intro") }));
  const panel = h(doc, "div", { class: "panel narrow" });
  el.appendChild(panel);
  buildForm(panel, ctx, {
    id: "forgot",
    submitKey: "forgot.submit",
    resetOnSuccess: true,
    fields: [{ name: "email", type: "email", labelKey: "form.email", autocomplete: "username" }],
    onSubmit: async (values) => {
      await ctx.api.post("/api/forgot-password", { emailAddress: values.email.trim() }, { redirectOn401: false });
      return "forgot.sent";
    },
  });
  panel.appendChild(h(doc, "p", {}, [link(doc, ctx, "/login/", t("page.backToLogin"))]));
}
