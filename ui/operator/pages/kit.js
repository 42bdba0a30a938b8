// Building blocks of the operator pages: a tiny element helper and an accessible form builder. Every form
// gets labelled fields, per-field errors linked with aria-describedby, one summary in a role="alert" region
// (announced by screen readers), a role="status" region for success, and a busy state while the request
// runs (aria-busy, the button marked aria-disabled rather than disabled so keyboard focus stays on it).
// Test ids follow contract 6: `<form id>/<field>`, `<form id>/submit`, `<form id>/error`, `<form id>/success`.

import { describeError } from "../api.js";

/** Create an element: attrs (text, on<event>, booleans, the rest as attributes) and children. */
export function h(doc, tag, attrs = {}, children = []) {
  const node = doc.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child == null || child === false) continue;
    node.appendChild(typeof child === "string" ? doc.createTextNode(child) : child);
  }
  return node;
}

/** The translate function of a ctx (callable, or an object with .t). */
export function translator(ctx) {
  const i18n = ctx.i18n || ctx.t;
  if (typeof i18n === "function") return i18n;
  if (i18n && typeof i18n.t === "function") return (key, params) => i18n.t(key, params);
  return (key) => key;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
export const MIN_PASSWORD = 8; // appliance/credentials.py MIN_PASSWORD_BYTES
export const MAX_PASSWORD = 64;

/** An error whose text is a catalogue key (client-side checks, or a page's own reading of a status). */
export class FormError extends Error {
  constructor(key, params, field) {
    super(key);
    this.key = key;
    this.params = params;
    this.field = field || null;
  }
}

/** The busy/working state of a submit button, shared by forms and single buttons (logout). */
export function setBusy(button, busy, t, labelKey) {
  button.setAttribute("aria-disabled", busy ? "true" : "false");
  button.classList.toggle("busy", busy);
  button.textContent = busy ? t("form.working") : t(labelKey);
}

/**
 * Build a form into `el` and return `{form, fields, setError, setSuccess, reset}`.
 * spec = { id, titleKey?, introKey?, fields, submitKey, onSubmit(values) → Promise<string|void> }
 * field = { name, type: "text"|"email"|"password"|"checkbox", labelKey, hintKey?, autocomplete?,
 *           required (default true except checkboxes), newPassword?, sameAs?: fieldName,
 *           check?: (value, values) => catalogue key | null, group?: legend key of a fieldset }
 * onSubmit may return a catalogue key (or [key, params]) shown in the success region (the fields are
 * cleared first when spec.resetOnSuccess); it may throw FormError or ApiError.
 * `errorOverrides` maps HTTP statuses to catalogue keys for describeError.
 */
export function buildForm(el, ctx, spec) {
  const doc = el.ownerDocument;
  const t = translator(ctx);
  const id = spec.id;
  const prefix = `${id}-`;
  const fields = {};
  const parts = [];
  const groups = new Map();

  for (const field of spec.fields) {
    const inputId = prefix + field.name;
    const hintId = field.hintKey ? `${inputId}-hint` : null;
    const errorId = `${inputId}-error`;
    const isCheckbox = field.type === "checkbox";
    const required = field.required ?? !isCheckbox;
    const input = h(doc, "input", {
      id: inputId,
      name: field.name,
      type: field.type || "text",
      autocomplete: field.autocomplete || (isCheckbox ? null : "off"),
      required: required && !isCheckbox,
      "aria-required": required && !isCheckbox ? "true" : null,
      "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
      "data-testid": `${id}/${field.testid || field.name}`,
      spellcheck: field.type === "text" ? null : "false",
      autocapitalize: field.type === "email" ? "none" : null,
    });
    const label = h(doc, "label", { for: inputId, text: t(field.labelKey) });
    const hint = hintId ? h(doc, "p", { id: hintId, class: "hint", text: t(field.hintKey) }) : null;
    const error = h(doc, "p", { id: errorId, class: "field-error" });
    const wrapper = isCheckbox
      ? h(doc, "div", { class: "field checkbox" }, [input, label, hint, error])
      : h(doc, "div", { class: "field" }, [label, hint, input, error]);
    fields[field.name] = { spec: field, input, error };
    if (field.group) {
      if (!groups.has(field.group)) {
        const fieldset = h(doc, "fieldset", {}, [h(doc, "legend", { text: t(field.group) })]);
        groups.set(field.group, fieldset);
        parts.push(fieldset);
      }
      groups.get(field.group).appendChild(wrapper);
    } else {
      parts.push(wrapper);
    }
  }

  const alert = h(doc, "div", { class: "error", role: "alert", "data-testid": `${id}/error` });
  const status = h(doc, "p", { class: "success", role: "status", "data-testid": `${id}/success` });
  const button = h(doc, "button", { type: "submit", class: spec.danger ? "danger" : "primary", "data-testid": `${id}/submit`, text: t(spec.submitKey) });
  const form = h(doc, "form", { id: `${id}-form`, novalidate: true, "aria-labelledby": spec.titleKey ? `${id}-title` : null, "data-testid": `${id}/form` }, [
    spec.titleKey ? h(doc, spec.titleLevel || "h2", { id: `${id}-title`, text: t(spec.titleKey) }) : null,
    spec.introKey ? h(doc, "p", { class: "intro", text: t(spec.introKey, spec.introParams) }) : null,
    ...parts,
    alert,
    h(doc, "div", { class: "actions" }, [button]),
    status,
  ]);
  el.appendChild(form);

  let busy = false;
  const values = () => {
    const out = {};
    for (const [name, { spec: f, input }] of Object.entries(fields)) out[name] = f.type === "checkbox" ? input.checked : input.value;
    return out;
  };
  const clearErrors = () => {
    alert.textContent = "";
    for (const { input, error } of Object.values(fields)) {
      input.removeAttribute("aria-invalid");
      error.textContent = "";
    }
  };
  const setFieldError = (name, text) => {
    const f = fields[name];
    if (!f) return;
    f.input.setAttribute("aria-invalid", "true");
    f.error.textContent = text;
  };
  const setError = (text, fieldName) => {
    status.textContent = "";
    alert.textContent = text;
    if (fieldName) setFieldError(fieldName, text);
  };
  const setSuccess = (text) => {
    alert.textContent = "";
    status.textContent = text;
  };

  const validate = (vals) => {
    const problems = [];
    for (const [name, { spec: f }] of Object.entries(fields)) {
      if (f.type === "checkbox") continue;
      const value = vals[name];
      const label = t(f.labelKey);
      let key = null;
      let params = { label };
      if ((f.required ?? true) && !value.trim()) key = "errors.required";
      else if (value && f.type === "email" && !EMAIL.test(value.trim())) key = "errors.email";
      else if (value && f.newPassword && value.length < MIN_PASSWORD) (key = "errors.passwordShort"), (params = { min: MIN_PASSWORD });
      else if (value && f.newPassword && new TextEncoder().encode(value).length > MAX_PASSWORD) (key = "errors.passwordLong"), (params = { max: MAX_PASSWORD });
      else if (f.sameAs && value !== vals[f.sameAs]) key = "errors.mismatch";
      else if (f.check) key = f.check(value, vals);
      if (key) problems.push([name, t(key, params)]);
    }
    return problems;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    status.textContent = "";
    const vals = values();
    const problems = validate(vals);
    if (problems.length) {
      for (const [name, text] of problems) setFieldError(name, text);
      alert.textContent = problems.length === 1 ? problems[0][1] : t("errors.several", { count: problems.length, first: problems[0][1] });
      fields[problems[0][0]].input.focus();
      return;
    }
    busy = true;
    form.setAttribute("aria-busy", "true");
    setBusy(button, true, t, spec.submitKey);
    try {
      const done = await spec.onSubmit(vals);
      if (done && spec.resetOnSuccess) {
        form.reset();
        clearErrors();
      }
      if (typeof done === "string") setSuccess(t(done));
      else if (Array.isArray(done)) setSuccess(t(done[0], done[1]));
    } catch (err) {
      if (err && err.redirected) return; // the page is already on its way to the login
      if (err instanceof FormError) {
        setError(t(err.key, err.params), err.field);
        if (err.field && fields[err.field]) fields[err.field].input.focus();
      } else {
        setError(describeError(err, t, spec.errorOverrides || {}));
      }
    } finally {
      busy = false;
      form.removeAttribute("aria-busy");
      setBusy(button, false, t, spec.submitKey);
    }
  });

  return {
    form,
    fields,
    setError,
    setSuccess,
    reset: () => {
      form.reset();
      clearErrors();
    },
  };
}

/** A page's heading (h1), focusable so the router can move focus to it after a navigation. */
export function pageHeading(doc, text) {
  return h(doc, "h1", { tabindex: "-1", text });
}

/** An internal link that the router handles without a full page load. */
export function link(doc, ctx, href, text, attrs = {}) {
  return h(doc, "a", {
    href,
    ...attrs,
    text,
    onclick: (event) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      if (typeof ctx.navigate !== "function") return;
      event.preventDefault();
      ctx.navigate(href);
    },
  });
}
