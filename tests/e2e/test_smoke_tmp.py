import pytest
pytestmark = [pytest.mark.e2e, pytest.mark.slow]

def test_smoke(setup, account, context, offen):
    page = context.new_page()
    page.goto(setup.page_url(account, "start", "campaign=x"))
    print(setup.name, page.evaluate("isSecureContext"), page.title())
    p2 = context.new_page(); r = p2.goto(offen.origin + "/script.js"); print(r.status, r.headers.get("content-encoding"), len(r.body()))
    print(offen.decrypted_events(account), offen.count_secrets())
