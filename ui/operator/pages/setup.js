// First run (/setup/): only on an empty instance (GET /api/setup answers 204); otherwise a message and a
// link home. Creates the first account and its admin, then sends the operator to the login.

import { ApiError } from "../api.js";
import { buildForm, h, pageHeading, translator } from "./kit.js";

export async function mountSetup(el, ctx) {
  const doc = el.ownerDocument;
  const t = translator(ctx);
  el.appendChild(pageHeading(doc, t("setup.title")));
  const status = h(doc, "p", { class: "loading", role: "status", text: t("page.loading") });
  el.appendChild(status);
  let empty = false;
  try {
    await ctx.api.raw("GET", "/api/setup", { redirectOn401: false });
    empty = true;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403) {
      status.remove();
      el.appendChild(h(doc, "p", { class: "error", role: "alert", "data-testid": "setup/error", text: t("errors.network") }));
      return;
    }
  }
  status.remove();
  if (!empty) {
    el.appendChild(
      h(doc, "div", { class: "panel narrow" }, [
        h(doc, "p", { role: "status", "data-testid": "setup/already", text: t("setup.already") }),
        h(doc, "p", {}, [h(doc, "a", { href: "/", "data-testid": "setup/home", text: t("setup.home") })]),
      ]),
    );
    return;
  }
  el.appendChild(h(doc, "p", { class: "intro", text: t("setup.intro") }));
  const panel = h(doc, "div", { class: "panel narrow" });
  el.appendChild(panel);
  buildForm(panel, ctx, {
    id: "setup",
    submitKey: "setup.submit",
    fields: [
      { name: "accountName", testid: "account-name", type: "text", labelKey: "setup.accountName", hintKey: "setup.accountNameHint" },
      { name: "email", type: "email", labelKey: "form.email", autocomplete: "username" },
      { name: "password", type: "password", labelKey: "form.password", autocomplete: "new-password", newPassword: true, hintKey: "form.passwordHint" },
      { name: "repeat", type: "password", labelKey: "form.repeatPassword", autocomplete: "new-password", sameAs: "password" },
    ],
    onSubmit: async (values) => {
      await ctx.api.post("/api/setup", { accountName: values.accountName.trim(), emailAddress: values.email.trim(), password: values.password }, { redirectOn401: false });
      ctx.session.setFlash("flash.setupDone");
      ctx.navigate("/login/");
    },
  });
}
