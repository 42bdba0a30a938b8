// The two pages a mailed link opens (/join/<token>/ and /reset-password/<token>/): email and a password
// twice, sent with the link's token; an expired or forged token is refused by the server (400) and its
// reason is shown. On success the stored login is dropped and the operator logs in afresh.

import { buildForm, h, link, pageHeading, translator } from "./kit.js";

/**
 * `page = {id, endpoint, titleKey, introKey, submitKey, passwordLabelKey, flashKey, footerHref, footerKey}`.
 */
export function mountTokenPasswordPage(el, ctx, page) {
  const doc = el.ownerDocument;
  const t = translator(ctx);
  el.appendChild(pageHeading(doc, t(page.titleKey)));
  el.appendChild(h(doc, "p", { class: "intro", text: t(page.introKey) }));
  const panel = h(doc, "div", { class: "panel narrow" });
  el.appendChild(panel);
  buildForm(panel, ctx, {
    id: page.id,
    submitKey: page.submitKey,
    fields: [
      { name: "email", type: "email", labelKey: "form.email", autocomplete: "username" },
      { name: "password", type: "password", labelKey: page.passwordLabelKey, autocomplete: "new-password", newPassword: true, hintKey: "form.passwordHint" },
      { name: "repeat", type: "password", labelKey: "form.repeatPassword", autocomplete: "new-password", sameAs: "password" },
    ],
    onSubmit: async (values) => {
      const body = { emailAddress: values.email.trim(), password: values.password, token: ctx.params.token };
      await ctx.api.post(page.endpoint, body, { redirectOn401: false });
      ctx.session.clear();
      ctx.session.setFlash(page.flashKey);
      ctx.navigate("/login/");
    },
  });
  panel.appendChild(h(doc, "p", {}, [link(doc, ctx, page.footerHref, t(page.footerKey))]));
}
