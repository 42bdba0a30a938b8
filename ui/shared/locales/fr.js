// French message catalogue.
// REVIEW STATUS: translated by a non-native speaker (machine-assisted), NOT reviewed by a native speaker.
// See REVIEW.md before shipping; keys and placeholders must match en.js (ui/tests/locales.test.mjs).
export default {
  "banner.label": "Consentement à la collecte de données d'utilisation",
  "banner.consent": "Nous n'accédons aux données d'utilisation qu'avec votre consentement.",
  "banner.optOutAnyTime": "Vous pouvez vous désinscrire et supprimer vos données à tout moment.",
  "banner.learnMore": "En savoir plus",
  "banner.learnMoreLabel": "En savoir plus sur l'utilisation d'Offen Fair Web Analytics par ce site (s'ouvre dans un nouvel onglet)",
  "banner.allow": "J'accepte",
  "banner.deny": "Je refuse",
  "banner.thanks": "Merci de nous aider à améliorer ce site.",
  "banner.manage": "Pour gérer vos données d'utilisation, ouvrez l'Auditorium.",
  "banner.openAuditorium": "ouvrez l'Auditorium",
  "banner.openAuditoriumLabel": "Ouvrir l'Auditorium pour gérer vos données d'utilisation (s'ouvre dans un nouvel onglet)",
  "banner.continue": "Continuer",
  "banner.continueLabel": "Continuer et fermer ce message",

  "auditorium.documentTitle": "Vos données d'utilisation – Offen Fair Web Analytics",
  "auditorium.title": "Vos données d'utilisation",
  "auditorium.intro":
    "Vous consultez vos données d'utilisation. Elles ont été déchiffrées dans ce navigateur ; personne d'autre ne peut les lire sous cette forme.",
  "auditorium.product": "Offen Fair Web Analytics",
  "auditorium.close": "Fermer",
  "auditorium.closeLabel": "Fermer l'Auditorium",
  "auditorium.loading": "Chargement de vos données d'utilisation…",
  "auditorium.working": "Un instant…",
  "auditorium.error": "Vos données d'utilisation n'ont pas pu être chargées : {message}",
  "auditorium.errorHint": "Rechargez la page pour réessayer.",
  "auditorium.errorTimeout": "le coffre n'a pas répondu à temps",
  "auditorium.cookiesBlocked":
    "Votre navigateur semble bloquer les cookies pour ce site. Offen ne peut ni mémoriser votre choix ni afficher vos données d'utilisation.",
  "auditorium.explainer": "Qu'est-ce que cela signifie ?",

  "privacy.heading": "Confidentialité",
  "privacy.statusAllow": "Vous avez accepté. Ce site peut collecter vos données d'utilisation.",
  "privacy.statusDeny": "Vous avez refusé. Aucune donnée d'utilisation n'est collectée.",
  "privacy.statusUnknown": "Vous n'avez pas encore décidé. Aucune donnée d'utilisation n'est collectée tant que vous n'acceptez pas.",
  "privacy.optOutText": "Se désinscrire et supprimer les données d'utilisation",
  "privacy.optOut": "Se désinscrire",
  "privacy.deleteText": "Rester inscrit, supprimer seulement les données d'utilisation",
  "privacy.delete": "Supprimer",
  "privacy.optInText": "S'inscrire et donner accès à vos données d'utilisation",
  "privacy.optIn": "S'inscrire",
  "privacy.doneOptIn": "Vous avez accepté.",
  "privacy.doneOptOut": "Vous vous êtes désinscrit. Vos données d'utilisation ont été supprimées du serveur et de ce navigateur.",
  "privacy.doneDelete": "Vos données d'utilisation ont été supprimées. Vous restez inscrit.",
  "privacy.explainer":
    "Se désinscrire supprime toutes vos données d'utilisation sur le serveur et dans ce navigateur et arrête la collecte. Supprimer conserve votre choix mais efface les données collectées jusqu'ici.",

  "export.heading": "Emportez vos données",
  "export.text": "Téléchargez, déchiffrées, toutes les données d'utilisation que ce navigateur détient sur vous, dans un fichier JSON.",
  "export.button": "Télécharger mes données (JSON)",
  "export.done": "Vos données d'utilisation ont été enregistrées sous {filename}.",

  "range.label": "Période",
  "range.last24Hours": "Dernières 24 heures",
  "range.yesterday": "Hier",
  "range.last7Days": "7 derniers jours",
  "range.last30Days": "30 derniers jours",
  "range.last6Weeks": "6 dernières semaines",
  "range.last12Weeks": "12 dernières semaines",
  "range.last6Months": "6 derniers mois",
  "range.notAvailable": "{label} (non disponible)",

  "chart.heading": "Pages vues et sites web",
  "chart.summary": "{pageviews} pages vues sur {websites} sites web, en {count} périodes",
  "chart.bar": "{date} : {pageviews} pages vues, {websites} sites web",
  "chart.empty": "Aucune donnée disponible pour la période choisie.",
  "chart.explainer":
    "Chaque barre indique combien de pages vous avez consultées pendant cette période sur les sites qui utilisent cette installation d'Offen.",

  "metrics.heading": "Indicateurs clés",
  "metrics.pageviews": "Pages vues",
  "metrics.websites": "Sites web uniques",
  "metrics.sessions": "Sessions uniques",
  "metrics.pageDepth": "Profondeur moy. de visite",
  "metrics.bounceRate": "Taux de rebond",
  "metrics.mobile": "Utilisateur mobile",
  "metrics.pageload": "Temps de chargement moy.",
  "metrics.yes": "Oui",
  "metrics.no": "Non",
  "metrics.none": "–",
  "metrics.ms": "{value} ms",
  "metrics.seconds": "{value} s",
  "metrics.explainer":
    "Une session est une visite, qui se termine quand vous fermez le navigateur. La profondeur de visite est le nombre de pages par session ; le taux de rebond est la part des sessions avec une seule page vue.",

  "tables.heading": "Pages et sources principales",
  "tables.pages": "Pages principales",
  "tables.referrers": "Référents",
  "tables.campaigns": "Campagnes",
  "tables.sources": "Sources",
  "tables.landingPages": "Pages d'entrée",
  "tables.exitPages": "Pages de sortie",
  "tables.url": "URL",
  "tables.source": "Source",
  "tables.campaign": "Campagne",
  "tables.pageviews": "Pages vues",
  "tables.sessions": "Sessions",
  "tables.pageDepth": "Profondeur",
  "tables.landings": "Entrées",
  "tables.exits": "Sorties",
  "tables.noReferrer": "Direct ou inconnu",
  "tables.empty": "Aucune donnée",
  "tables.filterBy": "Afficher seulement les données pour {value}",
  "tables.filterActive": "Seules les données où {property} est {value} sont affichées.",
  "tables.filterEmpty": "Aucune donnée ne correspond à ce filtre pour la période choisie.",
  "tables.removeFilter": "Retirer le filtre",
  "tables.explainer": "Choisissez une entrée pour n'afficher que les données qui la concernent.",
  "filter.href": "la page",
  "filter.referrer": "le référent",
  "filter.campaign": "la campagne",
  "filter.source": "la source",
  "filter.landing": "la page d'entrée",
  "filter.exit": "la page de sortie",
  "filter.geo": "le pays",

  "retention.heading": "Fidélité hebdomadaire",
  "retention.caption": "Part des semaines où vous êtes revenu",
  "retention.start": "Période de départ",
  "retention.initial": "7 premiers jours",
  "retention.row": "Début il y a {days} jours",
  "retention.later": "{days} jours plus tard",
  "retention.explainer":
    "Chaque ligne commence par une période de 7 jours des quatre dernières semaines et montre si vous êtes revenu dans les périodes suivantes.",

  "glossary.heading": "Notions de base",
  "glossary.auditorium": "Auditorium",
  "glossary.auditoriumText":
    "Cette page. Elle montre les données d'utilisation que les sites utilisant cette installation d'Offen ont collectées sur vous, et vous permet de les gérer.",
  "glossary.installation": "Installation d'Offen",
  "glossary.installationText":
    "Un serveur qui fait fonctionner Offen Fair Web Analytics pour un ou plusieurs sites. L'opérateur l'exploite lui-même ; aucun tiers ne reçoit les données.",
  "glossary.operator": "Opérateur",
  "glossary.operatorText":
    "La personne ou l'organisation qui exploite le site et cette installation d'Offen. Elle voit des statistiques sur tous les visiteurs qui ont accepté.",
  "glossary.cookies": "Cookies",
  "glossary.cookiesText":
    "De petits textes que votre navigateur conserve pour un site. Offen les utilise seulement pour mémoriser votre choix, retrouver vos données chiffrées et regrouper les pages vues en sessions.",
  "glossary.uniqueUser": "Utilisateur unique",
  "glossary.uniqueUserText":
    "Un navigateur qui a accepté, reconnu par un identifiant aléatoire. Il ne dit pas qui vous êtes et diffère pour chaque site.",
  "glossary.uniqueSession": "Session unique",
  "glossary.uniqueSessionText":
    "Une visite d'un site. Elle commence avec votre première page vue et se termine quand vous fermez le navigateur.",
  "glossary.id": "Identifiant",
  "glossary.idText":
    "Une chaîne aléatoire qui relie vos données d'utilisation à votre navigateur. Elle n'est dérivée ni de votre nom, ni de votre adresse, ni de votre appareil.",
  "glossary.encryption": "Chiffrement de bout en bout",
  "glossary.encryptionText":
    "Vos données d'utilisation sont chiffrées dans votre navigateur avant d'être envoyées. Seuls vous et l'opérateur détenez les clés ; le serveur stocke un texte chiffré qu'il ne peut pas lire.",

  "faq.heading": "Questions fréquentes",
  "faq.whatQ": "Qu'est-ce qu'Offen Fair Web Analytics ?",
  "faq.whatA":
    "Un outil d'analyse respectueux de la vie privée. Les opérateurs de sites apprennent comment leurs pages sont utilisées, et vous pouvez ici consulter, télécharger et supprimer exactement les mêmes données vous concernant.",
  "faq.collectedQ": "Qu'est-ce qui est collecté ?",
  "faq.collectedA":
    "Seulement après votre accord : l'adresse de chaque page consultée, la page d'où vous venez (sans sa requête), le temps de chargement de la page, si vous utilisez un appareil mobile, l'heure, un identifiant de session et votre pays probable, déduit du fuseau horaire réglé.",
  "faq.notCollectedQ": "Qu'est-ce qui n'est pas collecté ?",
  "faq.notCollectedA":
    "Aucune adresse IP, aucun user agent ni détail de l'appareil, aucune taille d'écran, aucune empreinte numérique et aucun suivi entre sites. La durée des visites n'est pas mesurée.",
  "faq.encryptionQ": "Comment mes données sont-elles protégées ?",
  "faq.encryptionA":
    "Votre navigateur chiffre chaque page vue avec une clé que seuls vous et l'opérateur détenez. Le serveur ne stocke que du texte chiffré, et les données plus anciennes que la durée de conservation sont supprimées.",
  "faq.cookiesQ": "Quels cookies sont utilisés ?",
  "faq.cookiesA":
    "consent (votre choix), user (un identifiant aléatoire pour retrouver vos données chiffrées), session-… (un par site, jusqu'à la fermeture du navigateur) et un bref cookie de test supprimé aussitôt. Aucun cookie n'est déposé avant votre choix, sauf consent si vous refusez.",
  "faq.deleteQ": "Comment supprimer mes données ?",
  "faq.deleteA":
    "Utilisez « Supprimer » dans la section Confidentialité pour effacer toutes les données d'utilisation en restant inscrit, ou « Se désinscrire » pour les effacer et arrêter la collecte.",
  "faq.optOutQ": "Que se passe-t-il si je me désinscris ?",
  "faq.optOutA":
    "Vos données d'utilisation sont supprimées sur le serveur et dans ce navigateur ; seul un cookie mémorisant votre choix reste, pour qu'on ne vous redemande pas.",
  "faq.exportQ": "Puis-je emporter mes données ?",
  "faq.exportA":
    "Oui. « Télécharger mes données (JSON) » enregistre chaque page vue que ce navigateur peut déchiffrer pour vous dans un fichier lisible avec n'importe quel éditeur de texte.",
  "faq.perSiteQ": "Pourquoi me demande-t-on à nouveau sur un autre site ?",
  "faq.perSiteA":
    "Le consentement est donné site par site, et vos données sont chiffrées avec une clé différente pour chaque site, afin que les sites ne puissent pas combiner ce qu'ils savent de vous.",
};
