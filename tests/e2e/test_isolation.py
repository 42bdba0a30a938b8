"""A script on the host page cannot read the visitor's keys, ids or data (reference §1.2's trust boundary).

The "injected script" is `page.evaluate` on the host page: it runs with
exactly the powers of any third-party script the operator embeds.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.browsing import VAULT_FRAME, allow, offen_cookies, settle
from tests.e2e.sites import OffenServer, Setup

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Posts one message to the vault the way script.js does (a MessageChannel, target origin = the vault's),
# and returns the first reply, or {timeout: true}.
ASK_VAULT = """async ([selector, origin, message]) => {
  const frame = document.querySelector(selector)
  const { port1, port2 } = new MessageChannel()
  const reply = new Promise((resolve) => {
    port1.onmessage = (event) => { if (event.data && event.data.type !== 'STYLES') resolve(event.data) }
    setTimeout(() => resolve({ timeout: true }), 3000)
  })
  frame.contentWindow.postMessage(message, origin, [port2])
  return reply
}"""

READ_EVERYTHING = """(selector) => {
  const frame = document.querySelector(selector)
  let vaultDocument
  try { vaultDocument = frame.contentWindow.document.documentElement.outerHTML } catch (err) { vaultDocument = err.name }
  let vaultStorage
  try { vaultStorage = JSON.stringify(frame.contentWindow.localStorage) } catch (err) { vaultStorage = err.name }
  const api = window.__offen__ || {}
  return {
    vaultDocument, vaultStorage,
    hostCookie: document.cookie,
    hostStorage: JSON.stringify(localStorage) + JSON.stringify(sessionStorage),
    hostHtml: document.documentElement.outerHTML,
    apiMembers: Object.getOwnPropertyNames(api).map((name) => [name, typeof api[name]]),
    apiText: Object.getOwnPropertyNames(api).map((name) => String(api[name])).join('\\n'),
  }
}"""


def test_a_host_page_script_cannot_read_the_vault(
    setup: Setup, account: str, context: Any, offen: OffenServer
):
    page = context.new_page()
    page.goto(setup.page_url(account, "start"))
    allow(page)
    assert offen.wait_for_events(account, 1) == 1
    settle(page, 300)
    cookies = offen_cookies(context)
    user_id = cookies["user"]["value"]
    session_id = next(c["value"] for name, c in cookies.items() if name.startswith("session-"))

    seen = page.evaluate(READ_EVERYTHING, VAULT_FRAME)
    # The vault is another origin: its document and storage are out of reach.
    assert seen["vaultDocument"] == "SecurityError"
    assert seen["vaultStorage"] == "SecurityError"
    # No Offen cookie, id or key is visible on the host page, and the JS API holds only functions.
    for text in (seen["hostCookie"], seen["hostStorage"], seen["hostHtml"], seen["apiText"]):
        for secret in (user_id, session_id, "consent=", "USER_SECRET", '"kty"'):
            assert secret not in text
    assert all(kind == "function" for _, kind in seen["apiMembers"]), seen["apiMembers"]

    # Messages that read or change the visitor's data are refused when they come from the host page.
    for message in (
        {"type": "QUERY", "payload": {"query": None}},
        {"type": "EXPORT", "payload": None},
        {"type": "CONSENT_STATUS", "payload": None},
        {"type": "PURGE", "payload": None},
        {"type": "EXPRESS_CONSENT", "payload": {"status": "deny"}},
    ):
        reply = page.evaluate(ASK_VAULT, [VAULT_FRAME, setup.offen_origin, message])
        assert reply.get("type") == "ERROR", f"{message['type']} from the host page answered {reply}"
        flat = json.dumps(reply)
        assert user_id not in flat and '"kty"' not in flat and "PAGEVIEW" not in flat

    # And none of them had an effect: still opted in, data still there.
    assert offen_cookies(context)["consent"]["value"] == "allow"
    assert offen.count_events(account) == 1


def test_a_host_page_script_cannot_opt_the_visitor_in(
    setup: Setup, account: str, context: Any, offen: OffenServer
):
    """Before any answer, EXPRESS_CONSENT from the host page must not silently give consent."""
    page = context.new_page()
    page.goto(setup.page_url(account, "start"))
    page.frame_locator(VAULT_FRAME).get_by_test_id("banner").wait_for(state="visible")
    reply = page.evaluate(
        ASK_VAULT,
        [VAULT_FRAME, setup.offen_origin, {"type": "EXPRESS_CONSENT", "payload": {"status": "allow"}}],
    )
    assert reply.get("type") == "ERROR", reply
    page.get_by_test_id("push-1").click()
    settle(page)
    assert "consent" not in offen_cookies(context)
    assert offen.count_events(account) == 0
