// German message catalogue.
// REVIEW STATUS: translated by a non-native speaker (machine-assisted), NOT reviewed by a native speaker.
// See REVIEW.md before shipping; keys and placeholders must match en.js (ui/tests/locales.test.mjs).
export default {
  "banner.label": "Einwilligung zur Erhebung von Nutzungsdaten",
  "banner.consent": "Wir greifen nur mit deiner Einwilligung auf Nutzungsdaten zu.",
  "banner.optOutAnyTime": "Du kannst jederzeit widersprechen und deine Daten löschen.",
  "banner.learnMore": "Mehr erfahren",
  "banner.learnMoreLabel": "Mehr darüber erfahren, wie diese Website Offen Fair Web Analytics nutzt (öffnet einen neuen Tab)",
  "banner.allow": "Ich stimme zu",
  "banner.deny": "Ich stimme nicht zu",
  "banner.thanks": "Danke, dass du hilfst, diese Website besser zu machen.",
  "banner.manage": "Um deine Nutzungsdaten zu verwalten, öffne das Auditorium.",
  "banner.openAuditorium": "öffne das Auditorium",
  "banner.openAuditoriumLabel": "Das Auditorium öffnen, um deine Nutzungsdaten zu verwalten (öffnet einen neuen Tab)",
  "banner.continue": "Weiter",
  "banner.continueLabel": "Weiter und diese Nachricht schließen",

  "auditorium.documentTitle": "Deine Nutzungsdaten – Offen Fair Web Analytics",
  "auditorium.title": "Deine Nutzungsdaten",
  "auditorium.intro":
    "Du siehst deine Nutzungsdaten. Sie wurden in diesem Browser entschlüsselt; niemand sonst kann sie in dieser Form lesen.",
  "auditorium.product": "Offen Fair Web Analytics",
  "auditorium.close": "Schließen",
  "auditorium.closeLabel": "Das Auditorium schließen",
  "auditorium.loading": "Deine Nutzungsdaten werden geladen…",
  "auditorium.working": "Einen Moment…",
  "auditorium.error": "Deine Nutzungsdaten konnten nicht geladen werden: {message}",
  "auditorium.errorHint": "Lade die Seite neu, um es noch einmal zu versuchen.",
  "auditorium.errorTimeout": "der Tresor hat nicht rechtzeitig geantwortet",
  "auditorium.cookiesBlocked":
    "Dein Browser scheint Cookies für diese Website zu blockieren. Offen kann sich deine Entscheidung nicht merken und deine Nutzungsdaten nicht anzeigen.",
  "auditorium.explainer": "Was bedeutet das?",

  "privacy.heading": "Datenschutz",
  "privacy.statusAllow": "Du hast zugestimmt. Diese Website darf deine Nutzungsdaten erheben.",
  "privacy.statusDeny": "Du hast widersprochen. Es werden keine Nutzungsdaten erhoben.",
  "privacy.statusUnknown": "Du hast noch nicht entschieden. Bis zu deiner Zustimmung werden keine Nutzungsdaten erhoben.",
  "privacy.optOutText": "Widersprechen und Nutzungsdaten löschen",
  "privacy.optOut": "Widersprechen",
  "privacy.deleteText": "Zustimmung behalten, nur Nutzungsdaten löschen",
  "privacy.delete": "Löschen",
  "privacy.optInText": "Zustimmen und Zugriff auf deine Nutzungsdaten gewähren",
  "privacy.optIn": "Zustimmen",
  "privacy.doneOptIn": "Du hast zugestimmt.",
  "privacy.doneOptOut": "Du hast widersprochen. Deine Nutzungsdaten wurden auf dem Server und in diesem Browser gelöscht.",
  "privacy.doneDelete": "Deine Nutzungsdaten wurden gelöscht. Deine Zustimmung bleibt bestehen.",
  "privacy.explainer":
    "Ein Widerspruch löscht alle Nutzungsdaten über dich auf dem Server und in diesem Browser und beendet die Erhebung. Löschen behält deine Entscheidung, entfernt aber die bisher erhobenen Daten.",

  "export.heading": "Nimm deine Daten mit",
  "export.text": "Lade alle Nutzungsdaten, die dieser Browser über dich hat, entschlüsselt als JSON-Datei herunter.",
  "export.button": "Meine Daten herunterladen (JSON)",
  "export.done": "Deine Nutzungsdaten wurden als {filename} gespeichert.",

  "range.label": "Zeitraum",
  "range.last24Hours": "Letzte 24 Stunden",
  "range.yesterday": "Gestern",
  "range.last7Days": "Letzte 7 Tage",
  "range.last30Days": "Letzte 30 Tage",
  "range.last6Weeks": "Letzte 6 Wochen",
  "range.last12Weeks": "Letzte 12 Wochen",
  "range.last6Months": "Letzte 6 Monate",
  "range.notAvailable": "{label} (nicht verfügbar)",

  "chart.heading": "Seitenaufrufe und Websites",
  "chart.summary": "{pageviews} Seitenaufrufe auf {websites} Websites, in {count} Zeitabschnitten",
  "chart.bar": "{date}: {pageviews} Seitenaufrufe, {websites} Websites",
  "chart.empty": "Für den gewählten Zeitraum sind keine Daten vorhanden.",
  "chart.explainer":
    "Jeder Balken zeigt, wie viele Seiten du in diesem Zeitabschnitt auf Websites aufgerufen hast, die diese Offen-Installation nutzen.",

  "metrics.heading": "Kennzahlen",
  "metrics.pageviews": "Seitenaufrufe",
  "metrics.websites": "Einzelne Websites",
  "metrics.sessions": "Einzelne Sitzungen",
  "metrics.pageDepth": "Durchschn. Seitentiefe",
  "metrics.bounceRate": "Absprungrate",
  "metrics.mobile": "Mobile Nutzung",
  "metrics.pageload": "Durchschn. Ladezeit",
  "metrics.yes": "Ja",
  "metrics.no": "Nein",
  "metrics.none": "–",
  "metrics.ms": "{value} ms",
  "metrics.seconds": "{value} s",
  "metrics.explainer":
    "Eine Sitzung ist ein Besuch; sie endet, wenn du den Browser schließt. Die Seitentiefe ist die Zahl der Seiten pro Sitzung; die Absprungrate ist der Anteil der Sitzungen mit nur einem Seitenaufruf.",

  "tables.heading": "Meistbesuchte Seiten und Quellen",
  "tables.pages": "Meistbesuchte Seiten",
  "tables.referrers": "Verweise",
  "tables.campaigns": "Kampagnen",
  "tables.sources": "Quellen",
  "tables.landingPages": "Einstiegsseiten",
  "tables.exitPages": "Ausstiegsseiten",
  "tables.url": "URL",
  "tables.source": "Quelle",
  "tables.campaign": "Kampagne",
  "tables.pageviews": "Seitenaufrufe",
  "tables.sessions": "Sitzungen",
  "tables.pageDepth": "Seitentiefe",
  "tables.landings": "Einstiege",
  "tables.exits": "Ausstiege",
  "tables.noReferrer": "Direkt oder unbekannt",
  "tables.empty": "Keine Daten",
  "tables.filterBy": "Nur Daten für {value} zeigen",
  "tables.filterActive": "Es werden nur Daten gezeigt, bei denen {property} {value} ist.",
  "tables.filterEmpty": "Im gewählten Zeitraum passen keine Daten zu diesem Filter.",
  "tables.removeFilter": "Filter entfernen",
  "tables.explainer": "Wähle einen Eintrag, um nur die dazugehörigen Daten zu sehen.",
  "filter.href": "die Seite",
  "filter.referrer": "der Verweis",
  "filter.campaign": "die Kampagne",
  "filter.source": "die Quelle",
  "filter.landing": "die Einstiegsseite",
  "filter.exit": "die Ausstiegsseite",
  "filter.geo": "das Land",

  "retention.heading": "Wöchentliche Wiederkehr",
  "retention.caption": "Anteil der Wochen, in denen du wiedergekommen bist",
  "retention.start": "Anfangszeitraum",
  "retention.initial": "Erste 7 Tage",
  "retention.row": "Beginn vor {days} Tagen",
  "retention.later": "{days} Tage später",
  "retention.explainer":
    "Jede Zeile beginnt mit einem 7-Tage-Zeitraum der letzten vier Wochen und zeigt, ob du in den folgenden Zeiträumen wiedergekommen bist.",

  "glossary.heading": "Grundbegriffe",
  "glossary.auditorium": "Auditorium",
  "glossary.auditoriumText":
    "Diese Seite. Sie zeigt die Nutzungsdaten, die Websites mit dieser Offen-Installation über dich erhoben haben, und lässt dich sie verwalten.",
  "glossary.installation": "Offen-Installation",
  "glossary.installationText":
    "Ein Server, auf dem Offen Fair Web Analytics für eine oder mehrere Websites läuft. Der Betreiber betreibt ihn selbst; kein Dritter erhält die Daten.",
  "glossary.operator": "Betreiber",
  "glossary.operatorText":
    "Die Person oder Organisation, die die Website und diese Offen-Installation betreibt. Sie sieht Statistiken über alle Besucher, die zugestimmt haben.",
  "glossary.cookies": "Cookies",
  "glossary.cookiesText":
    "Kleine Textstücke, die dein Browser für eine Website speichert. Offen nutzt sie nur, um sich deine Entscheidung zu merken, deine verschlüsselten Daten zuzuordnen und Seitenaufrufe zu Sitzungen zusammenzufassen.",
  "glossary.uniqueUser": "Einzelner Nutzer",
  "glossary.uniqueUserText":
    "Ein Browser, der zugestimmt hat, erkannt an einer zufälligen ID. Sie verrät nicht, wer du bist, und ist für jede Website eine andere.",
  "glossary.uniqueSession": "Einzelne Sitzung",
  "glossary.uniqueSessionText":
    "Ein Besuch einer Website. Er beginnt mit deinem ersten Seitenaufruf und endet, wenn du den Browser schließt.",
  "glossary.id": "ID",
  "glossary.idText":
    "Eine zufällige Zeichenfolge, die deine Nutzungsdaten mit deinem Browser verbindet. Sie wird nicht aus deinem Namen, deiner Adresse oder deinem Gerät abgeleitet.",
  "glossary.encryption": "Ende-zu-Ende-Verschlüsselung",
  "glossary.encryptionText":
    "Deine Nutzungsdaten werden in deinem Browser verschlüsselt, bevor sie gesendet werden. Nur du und der Betreiber haben die Schlüssel; der Server speichert Chiffretext, den er nicht lesen kann.",

  "faq.heading": "Häufige Fragen",
  "faq.whatQ": "Was ist Offen Fair Web Analytics?",
  "faq.whatA":
    "Ein datenschutzfreundliches Analysewerkzeug. Website-Betreiber erfahren, wie ihre Seiten genutzt werden, und du kannst hier genau dieselben Daten über dich ansehen, herunterladen und löschen.",
  "faq.collectedQ": "Was wird erhoben?",
  "faq.collectedA":
    "Nur nach deiner Zustimmung: die Adresse jeder aufgerufenen Seite, die Seite, von der du kamst (ohne Abfrageteil), die Ladezeit der Seite, ob du ein Mobilgerät nutzt, die Uhrzeit, eine Sitzungs-ID und dein wahrscheinliches Land, abgeleitet aus deiner Zeitzoneneinstellung.",
  "faq.notCollectedQ": "Was wird nicht erhoben?",
  "faq.notCollectedA":
    "Keine IP-Adresse, kein User-Agent und keine Gerätedetails, keine Bildschirmgröße, kein Fingerprinting und kein websiteübergreifendes Tracking. Die Dauer von Besuchen wird nicht gemessen.",
  "faq.encryptionQ": "Wie werden meine Daten geschützt?",
  "faq.encryptionA":
    "Dein Browser verschlüsselt jeden Seitenaufruf mit einem Schlüssel, den nur du und der Betreiber haben. Der Server speichert nur Chiffretext, und Daten, die älter als die Aufbewahrungsfrist sind, werden gelöscht.",
  "faq.cookiesQ": "Welche Cookies werden verwendet?",
  "faq.cookiesA":
    "consent (deine Entscheidung), user (eine zufällige ID, um deine verschlüsselten Daten zu finden), session-… (eines pro Website, bis du den Browser schließt) und ein kurzes Test-Cookie, das sofort gelöscht wird. Vor deiner Entscheidung wird kein Cookie gesetzt, außer consent, wenn du ablehnst.",
  "faq.deleteQ": "Wie lösche ich meine Daten?",
  "faq.deleteA":
    "Nutze „Löschen“ im Bereich Datenschutz, um alle Nutzungsdaten zu entfernen und die Zustimmung zu behalten, oder „Widersprechen“, um sie zu löschen und die Erhebung zu beenden.",
  "faq.optOutQ": "Was passiert, wenn ich widerspreche?",
  "faq.optOutA":
    "Deine Nutzungsdaten werden auf dem Server und in diesem Browser gelöscht; nur ein Cookie mit deiner Entscheidung bleibt, damit du nicht erneut gefragt wirst.",
  "faq.exportQ": "Kann ich meine Daten mitnehmen?",
  "faq.exportA":
    "Ja. „Meine Daten herunterladen (JSON)“ speichert jeden Seitenaufruf, den dieser Browser für dich entschlüsseln kann, in einer Datei, die du mit jedem Texteditor öffnen kannst.",
  "faq.perSiteQ": "Warum werde ich auf einer anderen Website erneut gefragt?",
  "faq.perSiteA":
    "Die Zustimmung gilt pro Website, und deine Daten werden für jede Website mit einem anderen Schlüssel verschlüsselt, sodass Websites nicht zusammenführen können, was sie über dich wissen.",
};
