"""Rough edges a new user met (issue 21): each one, as the person or developer saw it."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.urls import reverse

from scotaccount_django.views import describe_duration
from tests.attributes.test_example_project import visit
from tests.flow_helpers import sign_in, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("folder", ["secrets", "secrets/"])
@pytest.mark.parametrize("force", [[], ["--force"]])
def test_keygen_given_a_folder_says_to_name_the_file(tmp_path, monkeypatch, folder, force):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secrets").mkdir()
    with pytest.raises(CommandError) as raised:
        call_command("scotaccount_keygen", folder, *force, stdout=io.StringIO())
    message = str(raised.value)
    assert "is a folder: name the key file, for example secrets/scotaccount.pem" in message
    assert "--force" not in message
    assert list((tmp_path / "secrets").iterdir()) == []


def test_keygen_given_a_new_folder_with_a_slash_writes_no_file_named_after_it(tmp_path):
    with pytest.raises(CommandError, match="is a folder"):
        call_command("scotaccount_keygen", f"{tmp_path}/new/", stdout=io.StringIO())
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (20, "20 seconds"),
        (1, "1 second"),
        (0.2, "1 second"),
        (90, "2 minutes"),
        (14400, "4 hours"),
    ],
)
def test_durations_are_never_zero_hours(seconds, words):
    assert describe_duration(seconds) == words


def test_the_session_ended_page_names_a_short_lifetime(client, settings):
    settings.SCOTACCOUNT_SESSION_LIFETIME = timedelta(seconds=20)
    response = client.get(reverse("scotaccount:session_ended"), {"reason": "lifetime"})
    text = " ".join(response.content.decode().split())
    assert "your session ended after 20 seconds." in text
    assert "0 hours" not in text


def test_the_session_ended_page_names_no_idle_timeout_that_is_off(client, settings):
    """?reason=idle with no idle timeout set said "you had not done anything for ." (walk)."""
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = None
    response = client.get(reverse("scotaccount:session_ended"), {"reason": "idle"})
    text = " ".join(response.content.decode().split())
    assert "For your security, you were signed out." in text
    assert "had not done anything for" not in text


def test_the_sign_out_page_has_a_way_back(client, fake_scotaccount, settings):
    settings.LOGIN_REDIRECT_URL = "/signed-in/"
    client = signed_in_client(client, fake_scotaccount)
    page = client.get(reverse("scotaccount:logout"), {"next": "/apply/"}).content.decode()
    assert 'href="/apply/" data-testid="scotaccount-logout-cancel">Stay signed in<' in page
    # An unsafe next is not offered; the default page is.
    page = client.get(reverse("scotaccount:logout"), {"next": "https://evil.example/"})
    assert page.context["cancel_url"] == "/signed-in/"


def test_no_page_asks_for_a_favicon_that_is_not_there(client):
    page = client.get(reverse("scotaccount:session_ended")).content.decode()
    assert '<link rel="icon" href="data:,">' in page


def test_the_demos_continue_buttons_go_forward_and_the_email_is_shown(
    client, example_site, fake_scotaccount
):
    sign_in(client, fake_scotaccount, "morag")
    permit = visit(client, fake_scotaccount, "/permit/").content.decode()
    assert 'href="/identity/" data-testid="continue">Continue<' in permit
    identity = visit(client, fake_scotaccount, "/identity/").content.decode()
    assert 'href="/your-details/" data-testid="continue">Continue<' in identity
    share_email = "/scotaccount/attributes/?scope=scotaccount.email&next=/your-details/"
    details = visit(client, fake_scotaccount, share_email).content.decode()
    assert 'data-testid="verified-email">morag.macdonald@example.com<' in details


def test_the_demo_offers_to_ask_again_only_what_was_declined(
    client, example_site, fake_scotaccount
):
    sign_in(client, fake_scotaccount, "idv-failed")
    visit(client, fake_scotaccount, "/identity/", persona="idv-failed")
    details = visit(client, fake_scotaccount, "/your-details/", persona="idv-failed")
    page = details.content.decode()
    assert 'data-testid="unavailable"' in page
    assert 'data-testid="share-again"' not in page
    assert 'data-testid="unavailable-help"' in page


def test_the_demo_has_its_favicon(client, example_site):
    page = client.get("/").content.decode()
    assert 'council/favicon.svg" type="image/svg+xml">' in page
    assert finders.find("council/favicon.svg")


def test_the_readme_quickstart_lands_on_a_page_after_sign_in(rf, settings):
    """A new project that follows the README word for word has a page to come back to."""
    from django.contrib.auth.models import AnonymousUser

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    code = re.findall(r"```python\n(.*?)```", readme, re.S)
    settings_block = next(block for block in code if "LOGIN_URL" in block)
    assert 'LOGIN_REDIRECT_URL = "home"' in settings_block
    namespace: dict = {}
    exec(next(block for block in code if "urlpatterns" in block), namespace)
    assert "home" in [getattr(pattern, "name", None) for pattern in namespace["urlpatterns"]]
    request = rf.get("/")
    request.user = AnonymousUser()
    settings.LOGIN_URL = "/scotaccount/login/"
    assert namespace["home"](request)["Location"] == "/scotaccount/login/?next=/"


def test_the_fakes_sign_in_only_consent_page_is_not_headed_share_your_details():
    from scotaccount_django_testing.fake import pages
    from scotaccount_django_testing.fake.personas import PERSONAS

    sign_in_only = pages.consent_page("r1", PERSONAS["morag"], [])
    assert "<h1>Continue to the service</h1>" in sign_in_only
    assert "Share your details" not in sign_in_only
    sharing = pages.consent_page("r2", PERSONAS["morag"], ["scotaccount.address"])
    assert "<h1>Share your details</h1>" in sharing
    assert '<link rel="icon" href="data:,">' in sharing
