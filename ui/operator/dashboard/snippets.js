// The copyable texts of the dashboard: the embed snippet (reference §3.5), the link to the visitors'
// auditorium and the HTML of the "Let users access their data" image widgets (§6.4). Pure strings, built
// from the instance's origin as the browser sees it, so Node tests check them character for character.

export const WIDGET_STYLES = Object.freeze(["bar", "box", "circle"]);
export const WIDGET_LOCALES = Object.freeze(["en", "de", "fr", "es", "pt", "vi"]);
// Sizes of ui/operator/widgets/*.svg: width and height attributes keep the host page from jumping.
const WIDGET_SIZES = Object.freeze({ bar: [320, 44], box: [140, 140], circle: [140, 140] });

// The alt text of each widget image, in the widget's language (the page around it is the operator's).
const WIDGET_ALT = Object.freeze({
  en: "Access your usage data",
  de: "Zugriff auf deine Nutzungsdaten",
  fr: "Accédez à vos données d'utilisation",
  es: "Accede a tus datos de uso",
  pt: "Acesse seus dados de uso",
  vi: "Truy cập dữ liệu sử dụng của bạn",
});

function attr(text) {
  return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function cleanOrigin(origin) {
  return String(origin).replace(/\/+$/, "");
}

/** `<script async src="<origin>/script.js" data-account-id="<id>"></script>`, Offen's snippet. */
export function embedSnippet(origin, accountId) {
  return `<script async src="${attr(cleanOrigin(origin))}/script.js" data-account-id="${attr(accountId)}"></script>`;
}

/** Where visitors see and manage their own data. */
export function auditoriumLink(origin) {
  return `${cleanOrigin(origin)}/auditorium/`;
}

/** The image URL of one widget. */
export function widgetUrl(origin, style, locale) {
  const s = WIDGET_STYLES.includes(style) ? style : "bar";
  const l = WIDGET_LOCALES.includes(locale) ? locale : "en";
  return `${cleanOrigin(origin)}/user-access-widget-${s}-${l}.svg`;
}

/** The HTML an operator pastes into their site: the widget image, linking to the auditorium in a new tab. */
export function widgetSnippet(origin, style, locale) {
  const l = WIDGET_LOCALES.includes(locale) ? locale : "en";
  const [width, height] = WIDGET_SIZES[WIDGET_STYLES.includes(style) ? style : "bar"];
  return (
    `<a href="${attr(auditoriumLink(origin))}" target="_blank" rel="noopener">` +
    `<img src="${attr(widgetUrl(origin, style, l))}" alt="${attr(WIDGET_ALT[l])}" width="${width}" height="${height}">` +
    `</a>`
  );
}
