"""mozilla-django-oidc's hook chain is ScotAccountBackend's API: every hook is reached.

A council subclasses the backend as mozilla-django-oidc's docs describe; these
tests prove each documented hook is called, in the parent's order, with the
verified claims, and that its answer is used.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import checks

from scotaccount_django.backends import ScotAccountBackend
from scotaccount_django.models import ScotAccountIdentity
from tests.flow_helpers import sign_in

pytestmark = pytest.mark.django_db

User = get_user_model()
CALLS: list[tuple[str, object]] = []


class RecordingBackend(ScotAccountBackend):
    """Overrides every documented hook, recording the call (and its claims) first."""

    def get_or_create_user(self, access_token, id_token, payload):
        CALLS.append(("get_or_create_user", payload))
        return super().get_or_create_user(access_token, id_token, payload)

    def get_userinfo(self, access_token, id_token, payload):
        CALLS.append(("get_userinfo", (access_token, id_token)))
        return {**payload, "council_ref": "C-1"}

    def verify_claims(self, claims):
        CALLS.append(("verify_claims", claims))
        return super().verify_claims(claims)

    def filter_users_by_claims(self, claims):
        CALLS.append(("filter_users_by_claims", claims))
        return super().filter_users_by_claims(claims)

    def link_existing_user(self, request, claims):
        CALLS.append(("link_existing_user", claims))
        return super().link_existing_user(request, claims)

    def create_user(self, claims):
        CALLS.append(("create_user", claims))
        user = super().create_user(claims)
        user.first_name = claims["council_ref"]  # a claim added by get_userinfo
        user.save()
        return user

    def get_username(self, claims):
        CALLS.append(("get_username", claims))
        return super().get_username(claims)

    def update_user(self, user, claims):
        CALLS.append(("update_user", claims))
        return super().update_user(user, claims)


class RefusingBackend(ScotAccountBackend):
    def verify_claims(self, claims):
        return False


class EmailClaimBackend(ScotAccountBackend):
    """As if the provider sent an email claim: it must still never match an account."""

    def get_userinfo(self, access_token, id_token, payload):
        return {**payload, "email": "morag.macdonald@example.com"}


@pytest.fixture
def backend(settings):
    def use(cls: type) -> None:
        settings.AUTHENTICATION_BACKENDS = [f"{__name__}.{cls.__name__}"]

    CALLS.clear()
    return use


def called() -> list[str]:
    return [name for name, _ in CALLS]


def test_first_sign_in_runs_the_create_branch_of_the_chain(client, fake_scotaccount, backend):
    backend(RecordingBackend)
    assert sign_in(client, fake_scotaccount, "morag").status_code == 302
    assert called() == [
        "get_or_create_user",
        "get_userinfo",
        "verify_claims",
        "filter_users_by_claims",
        "link_existing_user",
        "create_user",
        "get_username",
    ]
    access_token, id_token = dict(CALLS)["get_userinfo"]
    assert id_token == client.session["_scotaccount_id_token"]
    assert access_token
    assert access_token != id_token
    claims = dict(CALLS)["verify_claims"]
    assert claims["sub"] == ScotAccountIdentity.objects.get().sub
    assert claims["council_ref"] == "C-1"  # every later hook sees get_userinfo's answer
    assert ScotAccountIdentity.objects.get().user.first_name == "C-1"


def test_returning_sign_in_runs_the_update_branch(client, fake_scotaccount, backend):
    backend(RecordingBackend)
    sign_in(client, fake_scotaccount, "morag")
    CALLS.clear()
    client.logout()
    assert sign_in(client, fake_scotaccount, "morag").status_code == 302
    assert called() == [
        "get_or_create_user",
        "get_userinfo",
        "verify_claims",
        "filter_users_by_claims",
        "update_user",
    ]
    assert dict(CALLS)["update_user"]["council_ref"] == "C-1"
    assert User.objects.count() == 1


def test_verify_claims_refusal_refuses_the_sign_in(client, fake_scotaccount, backend):
    backend(RefusingBackend)
    response = sign_in(client, fake_scotaccount, "morag")
    assert response.status_code == 403
    assert response.context["error_code"] == "sign_in_refused"
    assert not User.objects.exists()


def test_an_email_claim_never_matches_an_existing_account(client, fake_scotaccount, backend):
    backend(EmailClaimBackend)
    existing = User.objects.create_user("someone", email="morag.macdonald@example.com")
    assert sign_in(client, fake_scotaccount, "morag").status_code == 302
    assert ScotAccountIdentity.objects.get().user != existing


def test_mdo_runs_its_own_authenticate_and_get_or_create_user():
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    for name in ("authenticate", "get_or_create_user"):
        assert getattr(ScotAccountBackend, name) is getattr(OIDCAuthenticationBackend, name)


def test_no_method_exists_only_to_raise():
    import inspect

    assert "NotImplementedError" not in inspect.getsource(ScotAccountBackend)


def test_mdo_settings_are_answered_from_ours(settings):
    settings.SCOTACCOUNT_CREATE_USERS = False
    backend = ScotAccountBackend()  # MDO's __init__ runs, and reads nothing it lacks
    assert backend.OIDC_RP_CLIENT_ID == settings.SCOTACCOUNT_CLIENT_ID
    assert backend.OIDC_RP_CLIENT_SECRET is None
    assert backend.get_settings("OIDC_CREATE_USER") is False
    assert backend.get_settings("OIDC_STORE_ACCESS_TOKEN") is False
    assert backend.get_settings("OIDC_SOMETHING_ELSE", "default") == "default"


def test_a_drf_style_access_token_call_is_a_clean_refusal():
    """MDO's DRF ``OIDCAuthentication`` calls ``get_or_create_user(token, None, None)``."""
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        ScotAccountBackend().get_or_create_user("an-access-token", None, None)
    assert not User.objects.exists()


def test_without_a_flow_nothing_is_exchanged_or_verified(rf):
    backend = ScotAccountBackend()
    backend.request = rf.get("/elsewhere/", {"code": "c", "state": "s"})
    assert backend.get_token({"code": "c", "code_verifier": "v"}) == {}
    assert backend.verify_token("a.b.c", nonce="n") is None
    assert backend.authenticate(backend.request, nonce="n", code_verifier="v") is None


def test_other_logins_are_not_ours():
    assert ScotAccountBackend().authenticate(None, username="x", password="y") is None


def wiring_errors() -> list[str]:
    return [message.id for message in checks.run_checks() if message.id == "scotaccount.E005"]


def test_the_wiring_check_accepts_a_councils_subclass(backend, settings):
    backend(RecordingBackend)
    assert wiring_errors() == []
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    assert wiring_errors() == ["scotaccount.E005"]
