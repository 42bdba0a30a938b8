// /console/ (logged in): "You are logged in as operator.", the account picker, sharing all accounts and
// creating an account (admins only: hidden for viewers, refused by the server anyway), changing email and
// password, and logout.

import { isAdmin } from "../session.js";
import { h, pageHeading, translator } from "./kit.js";
import {
  mountAccountPicker,
  mountChangeEmailForm,
  mountChangePasswordForm,
  mountCreateAccountForm,
  mountLogoutButton,
  mountShareForm,
} from "./forms.js";

export function mountConsole(el, ctx) {
  const doc = el.ownerDocument;
  const t = translator(ctx);
  const admin = isAdmin(ctx.login);
  el.appendChild(pageHeading(doc, t("console.title")));
  el.appendChild(
    h(doc, "p", { class: "intro", "data-testid": "console/role", "data-admin": admin ? "1" : "0", text: t(admin ? "console.introAdmin" : "console.introViewer") }),
  );
  // Two columns on wide screens, one below 900 px (operator.css).
  const grid = h(doc, "div", { class: "console-grid" });
  el.appendChild(grid);
  const panel = (testid) => {
    const section = h(doc, "section", { class: "panel", "data-testid": testid });
    grid.appendChild(section);
    return section;
  };
  mountAccountPicker(panel("console/accounts"), { ...ctx, accountId: null }, { headingKey: "accounts.open" });
  if (admin) {
    mountShareForm(panel("console/share"), { ...ctx, accountId: null });
    mountCreateAccountForm(panel("console/create"), ctx);
  }
  mountChangeEmailForm(panel("console/email"), ctx);
  mountChangePasswordForm(panel("console/password"), ctx);
  const out = panel("console/logout");
  out.appendChild(h(doc, "h2", { text: t("logout.title") }));
  mountLogoutButton(out, ctx);
}
