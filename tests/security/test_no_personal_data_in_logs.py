"""SECURITY I3 (and I4): no token, assertion, code, state, nonce or personal data in any log.

Every log record at DEBUG, from every logger, is captured across a complete
sign-in, a step-up for all three scopes, logout, and error flows; then every
secret the flows carried and every piece of the person's data is looked for.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from scotaccount_django._internal import sessions
from scotaccount_django_testing import PERSONAS
from tests.attributes.helpers import ALL_SCOPES, start_step_up
from tests.flow_helpers import complete, return_to_app, start_flow

pytestmark = pytest.mark.django_db


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("urllib3") and '"GET /authorize' in record.getMessage():
            return  # the test itself, playing the person's browser at the fake's pages
        self.lines.append(f"{record.name} {record.getMessage()} {record.exc_text or ''}")


@pytest.fixture
def captured():
    handler = Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("scotaccount_django", "django", "urllib3")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def secrets_of(fake, locations: list[str]) -> set[str]:
    """Every secret the flows carried: codes, states, nonces, tokens, assertions."""
    found: set[str] = set()
    for url in locations:
        for name, values in parse_qs(urlsplit(url).query).items():
            if name in ("code", "state", "nonce", "code_challenge", "id_token_hint"):
                found.update(values)
    for entry in fake.journal:
        for name, value in (entry.params or {}).items():
            if name in ("code", "state", "nonce", "code_verifier", "client_assertion"):
                found.update(value if isinstance(value, list) else [value])
        for name in ("authorization", "dis-client-assertion"):
            header = (entry.headers or {}).get(name)
            if header:
                found.add(header.split()[-1])
        issued = getattr(entry, "issued", None) or {}
        found.update(v for v in issued.values() if isinstance(v, str) and len(v) > 16)
    return {value for value in found if isinstance(value, str) and len(value) >= 8}


def personal_data(persona) -> set[str]:
    values = {persona.given_name, persona.family_name, persona.birth_date}
    values.update(v for v in (persona.address or {}).values() if len(v) >= 4)
    if persona.email:
        values.add(persona.email)
    return values


def test_i3_no_secret_or_personal_data_reaches_any_log(fake_scotaccount, captured):
    persona = PERSONAS["morag"]
    browser = Client()
    locations = []
    # Sign-in; a step-up refused (forged claimsToken); a step-up for all three scopes.
    authorize = start_flow(browser)
    locations.append(authorize)
    back = fake_scotaccount.complete_authorization(authorize, persona="morag")
    locations.append(back)
    assert return_to_app(browser, back).status_code == 302
    id_token = browser.session[sessions.ID_TOKEN]
    fake_scotaccount.scenarios.add("claims_bad_signature")
    locations.append(start_step_up(browser, ALL_SCOPES))
    complete(browser, fake_scotaccount, locations[-1], persona="morag")
    step_up = start_step_up(browser, ALL_SCOPES)
    locations.append(step_up)
    back = fake_scotaccount.complete_authorization(step_up, persona="morag")
    locations.append(back)
    assert return_to_app(browser, back).status_code == 302
    # Error flows: a replayed callback, a forged ID token, a cancel.
    return_to_app(browser, back)
    fake_scotaccount.scenarios.add("id_token_bad_signature")
    other = Client()
    locations.append(start_flow(other))
    complete(other, fake_scotaccount, locations[-1], persona="morag")
    fake_scotaccount.scenarios.add("authorize_access_denied")
    locations.append(start_flow(other))
    complete(other, fake_scotaccount, locations[-1], persona="morag")
    # Logout, and the return from ScotAccount.
    response = browser.post("/scotaccount/logout/")
    locations.append(response["Location"])
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    assert browser.get("/scotaccount/logged-out/", {"state": state}).status_code == 200

    text = "\n".join(captured.lines)
    assert captured.lines  # the flows did log: the checks below mean something
    for value in {id_token, *secrets_of(fake_scotaccount, locations)}:
        leaks = [line for line in captured.lines if value in line]
        assert not leaks, f"a secret ({value}) reached the log: {[line[:120] for line in leaks]}"
    for value in personal_data(persona):
        assert value not in text, "personal data reached the log"
