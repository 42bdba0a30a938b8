// The login page (/login/): email and password, "Forgot password?", the link to the visitor's auditorium.
// After login: the `next` path when it is on this origin, else the first account by name, else /console/.

import { safeNext } from "../api.js";
import { sortedAccounts } from "../session.js";
import { buildForm, h, link, pageHeading, translator } from "./kit.js";

/** Where a fresh login goes (reference §6.6), never off this origin. */
export function afterLogin(login, location) {
  const next = new URLSearchParams(location.search || "").get("next");
  const safe = safeNext(next, location.origin);
  if (safe && !safe.startsWith("/login")) return safe;
  const [first] = sortedAccounts(login);
  return first ? `/auditorium/${encodeURIComponent(first.accountId)}/` : "/console/";
}

export function mountLogin(el, ctx) {
  const doc = el.ownerDocument;
  const t = translator(ctx);
  el.appendChild(pageHeading(doc, t("login.title")));
  el.appendChild(h(doc, "p", { class: "intro", text: t("login.intro") }));
  const panel = h(doc, "div", { class: "panel narrow" });
  el.appendChild(panel);
  buildForm(panel, ctx, {
    id: "login",
    submitKey: "login.submit",
    errorOverrides: { 401: "errors.badCredentials" },
    fields: [
      { name: "email", type: "email", labelKey: "form.email", autocomplete: "username" },
      { name: "password", type: "password", labelKey: "form.password", autocomplete: "current-password" },
    ],
    onSubmit: async (values) => {
      const login = await ctx.api.post("/api/login", { username: values.email.trim(), password: values.password }, { redirectOn401: false });
      ctx.session.set(login);
      ctx.navigate(afterLogin(login, ctx.location));
    },
  });
  panel.appendChild(
    h(doc, "ul", { class: "links" }, [
      h(doc, "li", {}, [link(doc, ctx, "/forgot-password/", t("login.forgot"), { "data-testid": "login/forgot" })]),
      h(doc, "li", {}, [h(doc, "a", { href: "/auditorium/", text: t("login.visitorAuditorium") })]),
    ]),
  );
}
