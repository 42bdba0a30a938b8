"""The one shared generator of realistic pageview events for the benchmarks.

Owns the plaintext event shape the vault encrypts (reference §1.3 and §1.10:
`type, href, rawHref, referrer, pageload, isMobile, timestamp, sessionId, geo`)
and the versioned AES-GCM cipher the vault sends (`{1,} <b64 ct+tag> <b64 nonce>`,
§2.2), so every benchmark posts bodies of the size real visitors send: about
400 bytes of ciphertext typically, about 1.5 KB in the stress case (long
canonical URLs with a raw URL carrying campaign parameters, long referrers).

The payloads are deterministic for a seed; keys and nonces come from the OS
random source, as in the browser. Run `python -m bench.generate` to print the
ciphertext sizes.

`plan_visits` and `visitor_events` lay out a whole site's history for the
dashboard benchmark (bench/dataset.py): a fixed number of visitors and events
over N days, sessions of 1-10 pageviews, a share of returning visitors,
weekday and time-of-day rhythm. Each visitor's events depend only on the seed
and the visitor's index, so workers can make them in any order.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "make_payloads",
    "encrypt_payload",
    "new_user_secret",
    "make_bodies",
    "cipher_sizes",
    "plan_visits",
    "visitor_events",
    "visitor_user_id",
]

# A handful of sites with the paths their visitors actually hit (home page most).
SITES: dict[str, list[str]] = {
    "https://www.baeckerei-sonnenschein.de": [
        "/",
        "/",
        "/",
        "/brot/",
        "/kuchen/",
        "/filialen/",
        "/kontakt/",
        "/ueber-uns/",
        "/bestellen/",
    ],
    "https://blog.fieldnotes.example": [
        "/",
        "/",
        "/posts/2026/why-we-dropped-google-analytics/",
        "/posts/2026/self-hosting-on-a-raspberry-pi/",
        "/posts/2025/a-year-of-privacy-friendly-metrics/",
        "/tags/privacy/",
        "/about/",
    ],
    "https://docs.tinytool.dev": [
        "/",
        "/getting-started/",
        "/getting-started/installation/",
        "/reference/configuration/",
        "/reference/cli/",
        "/guides/deploying-behind-nginx/",
        "/faq/",
    ],
    "https://shop.alpaca-wool.example": [
        "/",
        "/",
        "/collections/scarves/",
        "/collections/socks/",
        "/products/alpaca-scarf-grey/",
        "/products/hiking-socks-3-pack/",
        "/cart/",
        "/checkout/",
    ],
}

# Referrers as the vault sends them: query stripped, "" for direct visits.
SEARCH_REFERRERS = [
    "https://www.google.com/",
    "https://www.google.de/",
    "https://duckduckgo.com/",
    "https://www.bing.com/",
    "https://www.ecosia.org/",
    "https://www.qwant.com/",
]
SOCIAL_REFERRERS = [
    "https://t.co/",
    "https://news.ycombinator.com/",
    "https://www.reddit.com/r/selfhosted/comments/abc123/privacy_friendly_analytics/",
    "https://www.linkedin.com/",
    "https://l.facebook.com/",
]
OTHER_REFERRERS = [
    "https://de.wikipedia.org/wiki/Web_Analytics",
    "https://github.com/offen/offen",
    "https://www.heise.de/news/Datenschutz-Analyse-ohne-Cookies-123456.html",
]
COUNTRIES = ["DE", "DE", "DE", "AT", "CH", "NL", "FR", "GB", "US", "US", "SE", "PL", "IT", "ES", "JP", "BR"]
CAMPAIGNS = ["newsletter", "spring_sale", "launch", "mastodon", "podcast"]

# Stress case: what a shop or docs site with long slugs, tracking parameters and
# deep-linked referrers produces; sized so the ciphertext is about 1.5 KB.
_LONG_SLUGS = [
    "/products/limited-edition-hand-knitted-alpaca-wool-scarf-in-natural-undyed-grey-"
    "from-small-family-farms-in-the-peruvian-andes-extra-long-200cm/",
    "/guides/deploying-behind-nginx/configuring-tls-termination-with-automatic-certificate-"
    "renewal-and-http2-push-for-static-assets-on-a-single-board-computer/",
    "/posts/2026/what-we-learned-from-a-year-of-consent-based-analytics-numbers-mistakes-"
    "and-the-surprising-effect-on-conversion-rates-for-small-shops/",
]


def _iso(ts: datetime) -> str:
    # JavaScript's Date.prototype.toISOString(): milliseconds and a "Z".
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _referrer(rng: random.Random, site: str, stress: bool) -> str:
    if stress:
        # A deep-linked discussion thread: the longest referrers seen in practice.
        return (
            "https://www.reddit.com/r/privacy/comments/1k2j3h4/"
            "finally_an_analytics_tool_that_asks_for_consent_first_and_encrypts_everything_"
            "end_to_end_so_the_site_owner_cannot_read_individual_visits/"
            f"{rng.randrange(10**6, 10**7)}/"
        )
    roll = rng.random()
    if roll < 0.42:
        return ""
    if roll < 0.72:
        return rng.choice(SEARCH_REFERRERS)
    if roll < 0.85:
        return rng.choice(SOCIAL_REFERRERS)
    if roll < 0.93:
        return rng.choice(OTHER_REFERRERS)
    return site + rng.choice(SITES[site])


def _pageview(
    rng: random.Random,
    site: str,
    first: bool,
    ts: datetime,
    session: str,
    geo: str | None,
    mobile: bool,
    stress: bool,
) -> dict:
    path = rng.choice(_LONG_SLUGS) if stress else rng.choice(SITES[site])
    href = site + path
    raw_href = None
    if stress or (first and rng.random() < 0.12):
        # A canonical link differs from location.href, e.g. campaign parameters.
        raw_href = (
            f"{href}?utm_source={rng.choice(CAMPAIGNS)}&utm_medium=email&utm_campaign={rng.choice(CAMPAIGNS)}"
        )
        if stress:
            raw_href += (
                "&utm_content=hero_banner_variant_b_with_product_carousel_and_seasonal_discount_code"
                f"&fbclid=IwAR{rng.getrandbits(256):064x}&gclid=Cj0KCQ{rng.getrandbits(300):075x}"
                f"&msclkid={rng.getrandbits(128):032x}"
            )
    return {
        "type": "PAGEVIEW",
        "href": href,
        "rawHref": raw_href,
        "referrer": _referrer(rng, site, stress) if first or stress else (site + rng.choice(SITES[site])),
        # Only the first view of a page load has a timing; later views are null.
        "pageload": int(rng.lognormvariate(6.6, 0.5)) if first else None,
        "isMobile": mobile,
        "timestamp": _iso(ts),
        "sessionId": session,
        "geo": geo,
    }


def make_payloads(n: int, *, seed: int, stress: bool = False) -> list[dict]:
    """`n` decrypted event payloads from visitors in sessions of 1-8 pageviews."""
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    payloads: list[dict] = []
    while len(payloads) < n:
        site = rng.choice(list(SITES))
        mobile = rng.random() < 0.4
        geo = rng.choice(COUNTRIES) if rng.random() < 0.95 else None
        ts = start + timedelta(seconds=rng.uniform(0, 28 * 86400))
        for _session_no in range(rng.choice([1, 1, 1, 2, 3])):
            session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            for view in range(min(rng.choice([1, 1, 2, 3, 4, 5, 8]), n - len(payloads))):
                payloads.append(_pageview(rng, site, view == 0, ts, session, geo, mobile, stress))
                ts += timedelta(seconds=rng.uniform(5, 240))
            if len(payloads) >= n:
                break
            ts += timedelta(hours=rng.uniform(2, 96))
    return payloads


def new_user_secret() -> bytes:
    """A visitor's AES-128 key, as WebCrypto `generateKey({name:'AES-GCM', length:128})` makes it."""
    return os.urandom(16)


def encrypt_payload(user_secret: bytes, payload: dict) -> str:
    """`payload` as the vault sends it: `{1,} <b64 ciphertext+tag> <b64 12-byte nonce>`."""
    nonce = os.urandom(12)
    # JSON.stringify: no spaces, non-ASCII kept as is.
    plaintext = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    sealed = AESGCM(user_secret).encrypt(nonce, plaintext, None)
    return "{1,} " + base64.b64encode(sealed).decode() + " " + base64.b64encode(nonce).decode()


def make_bodies(n: int, *, seed: int, account_id: str, stress: bool = False) -> list[tuple[bytes, str]]:
    """`n` (user secret, JSON body of `POST /api/events`) pairs, one distinct visitor each."""
    bodies = []
    for payload in make_payloads(n, seed=seed, stress=stress):
        secret = new_user_secret()
        body = json.dumps({"accountId": account_id, "payload": encrypt_payload(secret, payload)})
        bodies.append((secret, body))
    return bodies


def cipher_sizes(n: int, *, seed: int, stress: bool = False) -> dict[str, float]:
    """Median, 95th percentile and maximum length of the versioned cipher strings."""
    key = new_user_secret()
    lengths = sorted(len(encrypt_payload(key, p)) for p in make_payloads(n, seed=seed, stress=stress))
    p95 = lengths[min(len(lengths) - 1, int(0.95 * len(lengths)))]
    return {"n": len(lengths), "median": statistics.median(lengths), "p95": p95, "max": lengths[-1]}


# -- a site's history (dashboard benchmark) ------------------------------------------

# Pageviews per session, 1..10: most sessions are short (mean about 3.2).
_SESSION_WEIGHTS = [30, 18, 13, 10, 8, 6, 5, 4, 3, 3]
# Relative traffic per UTC hour (a European site: quiet nights, busy evenings).
_HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 7, 7, 7, 8, 9, 9, 8, 6, 4, 2]
# Monday..Sunday: weekends are quieter.
_WEEKDAY_WEIGHTS = [1.0, 1.0, 1.0, 1.0, 0.95, 0.7, 0.7]


def plan_visits(events: int, visitors: int, *, seed: int) -> list[list[int]]:
    """Per visitor, the pageview counts of their sessions, summing to exactly `events`.

    A share of visitors return (2-8 sessions), chosen so the expected total
    is near `events` (about 14 % at 5 events per visitor); the rest come
    once. The draw is then nudged one pageview at a time (keeping every session within
    1..10) until the total is exact, so any events/visitors ratio from 1 to
    about 30 works.
    """
    if visitors <= 0 or events < visitors:
        raise ValueError("need at least one visitor and at least one event per visitor")
    rng = random.Random(f"plan:{seed}")
    sizes = list(range(1, 11))
    # Scale the returning share so the expected total is near the target before nudging.
    mean_views = sum(w * n for w, n in zip(_SESSION_WEIGHTS, sizes, strict=True)) / sum(_SESSION_WEIGHTS)
    returning = min(0.9, max(0.05, (events / visitors / mean_views - 1) / 4))
    plan: list[list[int]] = []
    for _ in range(visitors):
        sessions = rng.randint(2, 8) if rng.random() < returning else 1
        plan.append(rng.choices(sizes, _SESSION_WEIGHTS, k=sessions))
    total = sum(map(sum, plan))
    # Bounded nudging: each step moves the total by one; a full sweep adds a session if stuck.
    guard = 0
    while total != events:
        guard += 1
        if guard > 50 * (abs(events - total) + visitors):
            raise RuntimeError("could not reach the requested number of events")
        visit = plan[rng.randrange(visitors)]
        index = rng.randrange(len(visit))
        if total < events:
            if visit[index] < 10:
                visit[index] += 1
                total += 1
            elif len(visit) < 40:
                visit.append(1)
                total += 1
        elif visit[index] > 1:
            visit[index] -= 1
            total -= 1
        elif len(visit) > 1:
            visit.pop(index)
            total -= 1
    return plan


def visitor_user_id(seed: int, index: int) -> str:
    """The `user` cookie value (a UUIDv4) of visitor `index`: deterministic per seed."""
    return str(uuid.UUID(int=random.Random(f"user:{seed}:{index}").getrandbits(128), version=4))


def _pick_moment(rng: random.Random, start: datetime, days: int) -> datetime:
    while True:  # rejection sampling on the weekday weight; ends quickly (acceptance >= 0.7)
        day = rng.randrange(days)
        moment = start + timedelta(days=day)
        if rng.random() <= _WEEKDAY_WEIGHTS[moment.weekday()]:
            break
    hour = rng.choices(range(24), _HOUR_WEIGHTS)[0]
    return moment + timedelta(hours=hour, seconds=rng.uniform(0, 3600))


def visitor_events(
    sessions: list[int], *, seed: int, index: int, start: datetime, end: datetime
) -> list[tuple[datetime, dict]]:
    """Visitor `index`'s pageviews as (time, payload), in time order, all within [start, end).

    One site, device and country per visitor; a referrer (and now and then a
    campaign) on each session's first view; returning sessions follow hours
    to weeks later.
    """
    rng = random.Random(f"visitor:{seed}:{index}")
    days = max(1, (end - start).days)
    site = rng.choice(list(SITES))
    mobile = rng.random() < 0.4
    geo = rng.choice(COUNTRIES) if rng.random() < 0.95 else None
    # The whole visit history must fit before `end`: a rough upper bound of its length.
    ts = _pick_moment(rng, start, days)
    out: list[tuple[datetime, dict]] = []
    for views in sessions:
        session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        for view in range(views):
            if ts >= end:
                # Out of time: squeeze the rest into the last hour before `end`.
                ts = end - timedelta(seconds=rng.uniform(1, 3600))
            out.append((ts, _pageview(rng, site, view == 0, ts, session, geo, mobile, False)))
            ts += timedelta(seconds=rng.uniform(5, 240))
        ts += timedelta(hours=min(rng.expovariate(1 / 72), 24 * 30) + 0.5)
    out.sort(key=lambda item: item[0])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="events per case (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", action="store_true", help="print one payload of each case")
    args = parser.parse_args(argv)
    for stress in (False, True):
        sizes = cipher_sizes(args.n, seed=args.seed, stress=stress)
        name = "stress" if stress else "typical"
        print(
            f"{name:8s} n={sizes['n']}  ciphertext length median {sizes['median']:.0f} B,"
            f" p95 {sizes['p95']} B, max {sizes['max']} B"
        )
        if args.show:
            print(json.dumps(make_payloads(1, seed=args.seed, stress=stress)[0], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
