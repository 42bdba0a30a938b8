// Spanish message catalogue.
// REVIEW STATUS: translated by a non-native speaker (machine-assisted), NOT reviewed by a native speaker.
// See REVIEW.md before shipping; keys and placeholders must match en.js (ui/tests/locales.test.mjs).
export default {
  "banner.label": "Consentimiento para recopilar datos de uso",
  "banner.consent": "Solo accedemos a los datos de uso con tu consentimiento.",
  "banner.optOutAnyTime": "Puedes darte de baja y borrar tus datos en cualquier momento.",
  "banner.learnMore": "Más información",
  "banner.learnMoreLabel": "Más información sobre cómo este sitio usa Offen Fair Web Analytics (se abre en una pestaña nueva)",
  "banner.allow": "Acepto",
  "banner.deny": "No acepto",
  "banner.thanks": "Gracias por ayudar a mejorar este sitio web.",
  "banner.manage": "Para gestionar tus datos de uso, abre el Auditorio.",
  "banner.openAuditorium": "abre el Auditorio",
  "banner.openAuditoriumLabel": "Abrir el Auditorio para gestionar tus datos de uso (se abre en una pestaña nueva)",
  "banner.continue": "Continuar",
  "banner.continueLabel": "Continuar y cerrar este mensaje",

  "auditorium.documentTitle": "Tus datos de uso – Offen Fair Web Analytics",
  "auditorium.title": "Tus datos de uso",
  "auditorium.intro":
    "Estás viendo tus datos de uso. Se descifraron en este navegador; nadie más puede leerlos de esta forma.",
  "auditorium.product": "Offen Fair Web Analytics",
  "auditorium.close": "Cerrar",
  "auditorium.closeLabel": "Cerrar el Auditorio",
  "auditorium.loading": "Cargando tus datos de uso…",
  "auditorium.working": "Un momento…",
  "auditorium.error": "No se pudieron cargar tus datos de uso: {message}",
  "auditorium.errorHint": "Vuelve a cargar la página para intentarlo de nuevo.",
  "auditorium.errorTimeout": "la bóveda no respondió a tiempo",
  "auditorium.cookiesBlocked":
    "Parece que tu navegador bloquea las cookies de este sitio. Offen no puede recordar tu decisión ni mostrar tus datos de uso.",
  "auditorium.explainer": "¿Qué significa esto?",

  "privacy.heading": "Privacidad",
  "privacy.statusAllow": "Has aceptado. Este sitio puede recopilar tus datos de uso.",
  "privacy.statusDeny": "Te has dado de baja. No se recopilan datos de uso.",
  "privacy.statusUnknown": "Aún no has decidido. No se recopilan datos de uso hasta que aceptes.",
  "privacy.optOutText": "Darse de baja y borrar los datos de uso",
  "privacy.optOut": "Darse de baja",
  "privacy.deleteText": "Seguir participando, solo borrar los datos de uso",
  "privacy.delete": "Borrar",
  "privacy.optInText": "Participar y dar acceso a tus datos de uso",
  "privacy.optIn": "Participar",
  "privacy.doneOptIn": "Has aceptado.",
  "privacy.doneOptOut": "Te has dado de baja. Tus datos de uso se han borrado del servidor y de este navegador.",
  "privacy.doneDelete": "Tus datos de uso se han borrado. Sigues participando.",
  "privacy.explainer":
    "Darse de baja borra todos tus datos de uso en el servidor y en este navegador y detiene la recopilación. Borrar mantiene tu decisión pero elimina los datos recopilados hasta ahora.",

  "export.heading": "Llévate tus datos",
  "export.text": "Descarga, descifrados, todos los datos de uso que este navegador guarda sobre ti, en un archivo JSON.",
  "export.button": "Descargar mis datos (JSON)",
  "export.done": "Tus datos de uso se guardaron como {filename}.",

  "range.label": "Periodo",
  "range.last24Hours": "Últimas 24 horas",
  "range.yesterday": "Ayer",
  "range.last7Days": "Últimos 7 días",
  "range.last30Days": "Últimos 30 días",
  "range.last6Weeks": "Últimas 6 semanas",
  "range.last12Weeks": "Últimas 12 semanas",
  "range.last6Months": "Últimos 6 meses",
  "range.notAvailable": "{label} (no disponible)",

  "chart.heading": "Páginas vistas y sitios web",
  "chart.summary": "{pageviews} páginas vistas en {websites} sitios web, en {count} periodos",
  "chart.bar": "{date}: {pageviews} páginas vistas, {websites} sitios web",
  "chart.empty": "No hay datos para el periodo seleccionado.",
  "chart.explainer":
    "Cada barra muestra cuántas páginas viste en ese periodo en sitios web que usan esta instalación de Offen.",

  "metrics.heading": "Métricas clave",
  "metrics.pageviews": "Páginas vistas",
  "metrics.websites": "Sitios web únicos",
  "metrics.sessions": "Sesiones únicas",
  "metrics.pageDepth": "Profundidad media",
  "metrics.bounceRate": "Tasa de rebote",
  "metrics.mobile": "Usuario móvil",
  "metrics.pageload": "Tiempo medio de carga",
  "metrics.yes": "Sí",
  "metrics.no": "No",
  "metrics.none": "–",
  "metrics.ms": "{value} ms",
  "metrics.seconds": "{value} s",
  "metrics.explainer":
    "Una sesión es una visita, que termina cuando cierras el navegador. La profundidad es el número de páginas por sesión; la tasa de rebote es la parte de sesiones con una sola página vista.",

  "tables.heading": "Páginas y fuentes principales",
  "tables.pages": "Páginas principales",
  "tables.referrers": "Referentes",
  "tables.campaigns": "Campañas",
  "tables.sources": "Fuentes",
  "tables.landingPages": "Páginas de entrada",
  "tables.exitPages": "Páginas de salida",
  "tables.url": "URL",
  "tables.source": "Fuente",
  "tables.campaign": "Campaña",
  "tables.pageviews": "Páginas vistas",
  "tables.sessions": "Sesiones",
  "tables.pageDepth": "Profundidad",
  "tables.landings": "Entradas",
  "tables.exits": "Salidas",
  "tables.noReferrer": "Directo o desconocido",
  "tables.empty": "Sin datos",
  "tables.filterBy": "Mostrar solo los datos de {value}",
  "tables.filterActive": "Solo se muestran los datos en los que {property} es {value}.",
  "tables.filterEmpty": "Ningún dato coincide con este filtro en el periodo seleccionado.",
  "tables.removeFilter": "Quitar filtro",
  "tables.explainer": "Elige una entrada para ver solo los datos que le corresponden.",
  "filter.href": "la página",
  "filter.referrer": "el referente",
  "filter.campaign": "la campaña",
  "filter.source": "la fuente",
  "filter.landing": "la página de entrada",
  "filter.exit": "la página de salida",
  "filter.geo": "el país",

  "retention.heading": "Retención semanal",
  "retention.caption": "Parte de las semanas en las que volviste",
  "retention.start": "Periodo inicial",
  "retention.initial": "Primeros 7 días",
  "retention.row": "Desde hace {days} días",
  "retention.later": "{days} días después",
  "retention.explainer":
    "Cada fila empieza con un periodo de 7 días de las últimas cuatro semanas y muestra si volviste en los periodos siguientes.",

  "glossary.heading": "Términos básicos",
  "glossary.auditorium": "Auditorio",
  "glossary.auditoriumText":
    "Esta página. Muestra los datos de uso que los sitios web con esta instalación de Offen recopilaron sobre ti y te permite gestionarlos.",
  "glossary.installation": "Instalación de Offen",
  "glossary.installationText":
    "Un servidor que ejecuta Offen Fair Web Analytics para uno o varios sitios web. Lo gestiona el propio operador; ningún tercero recibe los datos.",
  "glossary.operator": "Operador",
  "glossary.operatorText":
    "La persona u organización que gestiona el sitio web y esta instalación de Offen. Ve estadísticas de todos los visitantes que aceptaron.",
  "glossary.cookies": "Cookies",
  "glossary.cookiesText":
    "Pequeños textos que tu navegador guarda para un sitio web. Offen solo los usa para recordar tu decisión, encontrar tus datos cifrados y agrupar las páginas vistas en sesiones.",
  "glossary.uniqueUser": "Usuario único",
  "glossary.uniqueUserText":
    "Un navegador que aceptó, reconocido por un identificador aleatorio. No dice quién eres y es distinto para cada sitio web.",
  "glossary.uniqueSession": "Sesión única",
  "glossary.uniqueSessionText":
    "Una visita a un sitio web. Empieza con tu primera página vista y termina cuando cierras el navegador.",
  "glossary.id": "ID",
  "glossary.idText":
    "Una cadena aleatoria que vincula tus datos de uso con tu navegador. No se deriva de tu nombre, tu dirección ni tu dispositivo.",
  "glossary.encryption": "Cifrado de extremo a extremo",
  "glossary.encryptionText":
    "Tus datos de uso se cifran en tu navegador antes de enviarse. Solo tú y el operador tenéis las claves; el servidor guarda un texto cifrado que no puede leer.",

  "faq.heading": "Preguntas frecuentes",
  "faq.whatQ": "¿Qué es Offen Fair Web Analytics?",
  "faq.whatA":
    "Una herramienta de analítica respetuosa con la privacidad. Los operadores de sitios web saben cómo se usan sus páginas, y tú puedes ver, descargar y borrar aquí exactamente los mismos datos sobre ti.",
  "faq.collectedQ": "¿Qué se recopila?",
  "faq.collectedA":
    "Solo después de que aceptes: la dirección de cada página que ves, la página de la que vienes (sin su consulta), cuánto tardó en cargar la página, si usas un dispositivo móvil, la hora, un ID de sesión y tu país probable, deducido de tu zona horaria.",
  "faq.notCollectedQ": "¿Qué no se recopila?",
  "faq.notCollectedA":
    "Ni dirección IP, ni user agent ni detalles del dispositivo, ni tamaño de pantalla, ni huella digital, ni seguimiento entre sitios. La duración de las visitas no se mide.",
  "faq.encryptionQ": "¿Cómo se protegen mis datos?",
  "faq.encryptionA":
    "Tu navegador cifra cada página vista con una clave que solo tenéis tú y el operador. El servidor solo guarda texto cifrado, y los datos más antiguos que el periodo de conservación se borran.",
  "faq.cookiesQ": "¿Qué cookies se usan?",
  "faq.cookiesA":
    "consent (tu decisión), user (un ID aleatorio para encontrar tus datos cifrados), session-… (uno por sitio web, hasta que cierras el navegador) y una breve cookie de prueba que se borra enseguida. No se guarda ninguna cookie antes de que decidas, salvo consent si rechazas.",
  "faq.deleteQ": "¿Cómo borro mis datos?",
  "faq.deleteA":
    "Usa «Borrar» en la sección Privacidad para eliminar todos los datos de uso y seguir participando, o «Darse de baja» para borrarlos y detener la recopilación.",
  "faq.optOutQ": "¿Qué pasa si me doy de baja?",
  "faq.optOutA":
    "Tus datos de uso se borran del servidor y de este navegador; solo queda una cookie que recuerda tu decisión para no volver a preguntarte.",
  "faq.exportQ": "¿Puedo llevarme mis datos?",
  "faq.exportA":
    "Sí. «Descargar mis datos (JSON)» guarda cada página vista que este navegador puede descifrar para ti en un archivo que puedes abrir con cualquier editor de texto.",
  "faq.perSiteQ": "¿Por qué se me pregunta otra vez en otro sitio web?",
  "faq.perSiteA":
    "El consentimiento se da por sitio web, y tus datos se cifran con una clave distinta para cada sitio, de modo que los sitios no pueden combinar lo que saben de ti.",
};
