// English message catalogue: the source language. Every other catalogue has exactly these keys
// (checked by ui/tests/locales.test.mjs). Placeholders are written {name}.
export default {
  // Consent banner (rendered by the vault, reference §1.8 items 5-6).
  "banner.label": "Consent to usage data collection",
  "banner.consent": "We only access usage data with your consent.",
  "banner.optOutAnyTime": "You can opt out and delete any time.",
  "banner.learnMore": "Learn more",
  "banner.learnMoreLabel": "Learn more about how this website uses Offen Fair Web Analytics (opens in a new tab)",
  "banner.allow": "I allow",
  "banner.deny": "I don't allow",
  "banner.thanks": "Thanks for your help to make this website better.",
  "banner.manage": "To manage your usage data open the Auditorium.",
  "banner.openAuditorium": "open the Auditorium",
  "banner.openAuditoriumLabel": "Open the Auditorium to manage your usage data (opens in a new tab)",
  "banner.continue": "Continue",
  "banner.continueLabel": "Continue and close this message",

  // Visitor auditorium: page frame.
  "auditorium.documentTitle": "Your usage data – Offen Fair Web Analytics",
  "auditorium.title": "Your usage data",
  "auditorium.intro":
    "You are viewing your usage data. It was decrypted in this browser; nobody else can read it in this form.",
  "auditorium.product": "Offen Fair Web Analytics",
  "auditorium.close": "Close",
  "auditorium.closeLabel": "Close the Auditorium",
  "auditorium.loading": "Loading your usage data…",
  "auditorium.working": "Working…",
  "auditorium.error": "Your usage data could not be loaded: {message}",
  "auditorium.errorHint": "Reload the page to try again.",
  "auditorium.errorTimeout": "the vault did not answer in time",
  "auditorium.cookiesBlocked":
    "It seems like your browser is blocking cookies for this site. Offen can neither remember your decision nor show your usage data.",
  "auditorium.explainer": "What does this mean?",

  // Privacy panel.
  "privacy.heading": "Privacy",
  "privacy.statusAllow": "You have opted in. This website may collect your usage data.",
  "privacy.statusDeny": "You have opted out. No usage data is collected.",
  "privacy.statusUnknown": "You have not decided yet. No usage data is collected until you opt in.",
  "privacy.optOutText": "Opt out and delete usage data",
  "privacy.optOut": "Opt out",
  "privacy.deleteText": "Stay opted in, only delete usage data",
  "privacy.delete": "Delete",
  "privacy.optInText": "Opt in and grant access to your usage data",
  "privacy.optIn": "Opt in",
  "privacy.doneOptIn": "You have opted in.",
  "privacy.doneOptOut": "You have opted out. Your usage data has been deleted from the server and this browser.",
  "privacy.doneDelete": "Your usage data has been deleted. You are still opted in.",
  "privacy.explainer":
    "Opting out deletes all usage data about you on the server and in this browser and stops collection. Deleting keeps your decision but removes the data collected so far.",

  // Export.
  "export.heading": "Take your data with you",
  "export.text": "Download all usage data this browser holds about you, decrypted, as a JSON file.",
  "export.button": "Download my data (JSON)",
  "export.done": "Your usage data was saved as {filename}.",

  // Range selector.
  "range.label": "Time range",
  "range.last24Hours": "Last 24 hours",
  "range.yesterday": "Yesterday",
  "range.last7Days": "Last 7 days",
  "range.last30Days": "Last 30 days",
  "range.last6Weeks": "Last 6 weeks",
  "range.last12Weeks": "Last 12 weeks",
  "range.last6Months": "Last 6 months",
  "range.notAvailable": "{label} (not available)",

  // Chart.
  "chart.heading": "Page views and websites",
  "chart.summary": "{pageviews} page views on {websites} websites, in {count} periods",
  "chart.bar": "{date}: {pageviews} page views, {websites} websites",
  "chart.empty": "No data available for the selected time range.",
  "chart.explainer":
    "Each bar shows how many pages you viewed in that period on websites that use this Offen installation.",

  // Key metrics.
  "metrics.heading": "Key metrics",
  "metrics.pageviews": "Page views",
  "metrics.websites": "Unique websites",
  "metrics.sessions": "Unique sessions",
  "metrics.pageDepth": "Avg. page depth",
  "metrics.bounceRate": "Bounce rate",
  "metrics.mobile": "Mobile user",
  "metrics.pageload": "Avg. page load time",
  "metrics.yes": "Yes",
  "metrics.no": "No",
  "metrics.none": "–",
  "metrics.ms": "{value} ms",
  "metrics.seconds": "{value} s",
  "metrics.explainer":
    "A session is one visit, ending when you close the browser. Page depth is the number of pages per session; bounce rate is the share of sessions with a single page view.",

  // URL tables and filters.
  "tables.heading": "Top pages and sources",
  "tables.pages": "Top pages",
  "tables.referrers": "Referrers",
  "tables.campaigns": "Campaigns",
  "tables.sources": "Sources",
  "tables.landingPages": "Landing pages",
  "tables.exitPages": "Exit pages",
  "tables.url": "URL",
  "tables.source": "Source",
  "tables.campaign": "Campaign",
  "tables.pageviews": "Page views",
  "tables.sessions": "Sessions",
  "tables.pageDepth": "Page depth",
  "tables.landings": "Landings",
  "tables.exits": "Exits",
  "tables.noReferrer": "Direct or unknown",
  "tables.empty": "No data",
  "tables.filterBy": "Show only data for {value}",
  "tables.filterActive": "Showing only data where {property} is {value}.",
  "tables.filterEmpty": "No data matches this filter in the selected time range.",
  "tables.removeFilter": "Remove filter",
  "tables.explainer": "Select an entry to show only the data that belongs to it.",
  "filter.href": "the page",
  "filter.referrer": "the referrer",
  "filter.campaign": "the campaign",
  "filter.source": "the source",
  "filter.landing": "the landing page",
  "filter.exit": "the exit page",
  "filter.geo": "the country",

  // Retention.
  "retention.heading": "Weekly retention",
  "retention.caption": "Share of the weeks in which you returned",
  "retention.start": "Starting period",
  "retention.initial": "Initial 7 days",
  "retention.row": "Starting {days} days ago",
  "retention.later": "{days} days later",
  "retention.explainer":
    "Each row starts with a 7-day period of the last four weeks and shows whether you came back in the periods after it.",

  // Glossary.
  "glossary.heading": "Basic terms",
  "glossary.auditorium": "Auditorium",
  "glossary.auditoriumText":
    "This page. It shows the usage data that websites using this Offen installation collected about you, and lets you manage it.",
  "glossary.installation": "Offen installation",
  "glossary.installationText":
    "A server running Offen Fair Web Analytics for one or more websites. The operator runs it themselves; no third party receives the data.",
  "glossary.operator": "Operator",
  "glossary.operatorText":
    "The person or organisation that runs the website and this Offen installation. They see statistics across all visitors who opted in.",
  "glossary.cookies": "Cookies",
  "glossary.cookiesText":
    "Small pieces of text your browser stores for a website. Offen uses them only to remember your decision, to recognise your encrypted data and to group page views into sessions.",
  "glossary.uniqueUser": "Unique user",
  "glossary.uniqueUserText":
    "A browser that opted in, identified by a random ID. It does not tell who you are, and it differs for every website.",
  "glossary.uniqueSession": "Unique session",
  "glossary.uniqueSessionText":
    "One visit to a website. It starts with your first page view and ends when you close the browser.",
  "glossary.id": "ID",
  "glossary.idText":
    "A random string that links your usage data to your browser. It is not derived from your name, address or device.",
  "glossary.encryption": "End-to-end encryption",
  "glossary.encryptionText":
    "Your usage data is encrypted in your browser before it is sent. Only you and the operator hold the keys; the server stores ciphertext it cannot read.",

  // FAQ.
  "faq.heading": "Frequently asked questions",
  "faq.whatQ": "What is Offen Fair Web Analytics?",
  "faq.whatA":
    "A privacy-friendly analytics tool. Website operators learn how their pages are used, and you can see, download and delete exactly the same data about yourself here.",
  "faq.collectedQ": "What is collected?",
  "faq.collectedA":
    "Only after you opt in: the address of each page you view, the page you came from (without its query), how long the page took to load, whether you use a mobile device, the time, a session ID and your probable country derived from your time zone setting.",
  "faq.notCollectedQ": "What is not collected?",
  "faq.notCollectedA":
    "No IP address, no user agent or device details, no screen size, no fingerprinting and no tracking across websites. The length of visits is not measured.",
  "faq.encryptionQ": "How is my data protected?",
  "faq.encryptionA":
    "Your browser encrypts every page view with a key that only you and the operator hold. The server only stores ciphertext, and data older than the retention period is deleted.",
  "faq.cookiesQ": "Which cookies are used?",
  "faq.cookiesA":
    "consent (your decision), user (a random ID to find your encrypted data), session-… (one per website, until you close the browser) and a short test cookie that is deleted right away. No cookie is set before you decide, except consent when you decline.",
  "faq.deleteQ": "How do I delete my data?",
  "faq.deleteA":
    "Use Delete in the Privacy section to remove all usage data and stay opted in, or Opt out to delete it and stop collection.",
  "faq.optOutQ": "What happens when I opt out?",
  "faq.optOutA":
    "Your usage data is deleted on the server and in this browser, and only a cookie remembering your decision stays so that you are not asked again.",
  "faq.exportQ": "Can I take my data with me?",
  "faq.exportA":
    "Yes. Download my data (JSON) saves every page view this browser can decrypt for you in a file you can open with any text editor.",
  "faq.perSiteQ": "Why am I asked again on another website?",
  "faq.perSiteA":
    "Consent is given per website, and your data for each website is encrypted with a different key, so websites cannot combine what they know about you.",
};
