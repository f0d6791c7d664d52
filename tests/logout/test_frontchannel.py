"""Front-channel logout: ScotAccount ends exactly the sessions its ``sid`` created."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.test import Client

from scotaccount_django.models import ScotAccountSession
from tests.flow_helpers import complete, session_sid, signed_in_client, start_flow

pytestmark = pytest.mark.django_db

FRONTCHANNEL = "/scotaccount/frontchannel-logout/"
ENGINES = [
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
]


@pytest.fixture(params=ENGINES, ids=lambda engine: engine.rsplit(".", 1)[1])
def engine(request, settings):
    settings.SESSION_ENGINE = request.param
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    return request.param


@pytest.fixture
def morag(engine, fake_scotaccount):
    return signed_in_client(Client(), fake_scotaccount, "morag")


@pytest.fixture
def seonaid(engine, fake_scotaccount):
    return signed_in_client(Client(), fake_scotaccount, "seonaid")


@pytest.fixture
def sign_outs():
    received = []

    def receiver(sender, request, user, **kwargs):
        received.append(user.pk)

    user_logged_out.connect(receiver)
    yield received
    user_logged_out.disconnect(receiver)


def is_signed_in(client):
    return client.get("/signed-in/").content == b"signed in: True"


def front_channel(fake, client=None, **params):
    """ScotAccount's hidden iframe: a fresh browser context without our cookies by default."""
    return (client or Client()).get(FRONTCHANNEL, params)


def test_only_the_matching_session_ends(
    morag, seonaid, fake_scotaccount, sign_outs, django_capture_on_commit_callbacks
):
    sid = session_sid(morag.session)
    morag_pk = get_user_model().objects.get(pk=morag.session["_auth_user_id"]).pk
    with django_capture_on_commit_callbacks(execute=True):
        response = front_channel(fake_scotaccount, iss=fake_scotaccount.issuer, sid=sid)
    assert response.status_code == 200
    assert b'data-testid="scotaccount-frontchannel-logout"' in response.content
    assert response["Cache-Control"] == "no-store"
    assert "X-Frame-Options" not in response  # ScotAccount loads it in an iframe
    assert not is_signed_in(morag)
    assert is_signed_in(seonaid)
    assert sign_outs == [morag_pk]
    assert ScotAccountSession.objects.count() == 1


def test_other_pages_still_refuse_framing(morag):
    assert morag.get("/signed-in/")["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "params",
    [
        {"iss": "https://evil.example"},
        {"iss": "{issuer}/"},
        {"iss": ""},  # sid alone is accepted (issue 14); an iss, when sent, must be ours
        {"sid": None},
        {"sid": "not-a-sid-we-issued"},
        {"sid": ""},
    ],
    ids=["foreign-iss", "iss-with-slash", "empty-iss", "no-sid", "unknown-sid", "empty-sid"],
)
def test_anything_else_does_nothing(
    morag, seonaid, fake_scotaccount, sign_outs, params, django_capture_on_commit_callbacks
):
    query = {"iss": fake_scotaccount.issuer, "sid": session_sid(morag.session)}
    for name, value in params.items():
        if value is None:
            del query[name]
        else:
            query[name] = value.format(issuer=fake_scotaccount.issuer)
    with django_capture_on_commit_callbacks(execute=True):
        response = front_channel(fake_scotaccount, **query)
    assert response.status_code == 200  # the same answer: no oracle for sids
    assert is_signed_in(morag)
    assert is_signed_in(seonaid)
    assert sign_outs == []


def test_a_repeated_parameter_does_nothing(morag, fake_scotaccount):
    sid = session_sid(morag.session)
    response = Client().get(f"{FRONTCHANNEL}?iss={fake_scotaccount.issuer}&sid={sid}&sid=other")
    assert response.status_code == 200
    assert is_signed_in(morag)


def test_in_the_persons_own_browser(frozen_clock, morag, fake_scotaccount, settings):
    # The idle timestamp is written during this very request: the deleted session
    # must not be saved back (nor fail with SessionInterrupted).
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = 900
    frozen_clock.shift(120)
    sid = session_sid(morag.session)
    response = front_channel(fake_scotaccount, morag, iss=fake_scotaccount.issuer, sid=sid)
    assert response.status_code == 200
    assert not is_signed_in(morag)


def test_front_channel_after_a_step_up_still_finds_the_session(morag, fake_scotaccount):
    complete(morag, fake_scotaccount, start_flow(morag, "/step-up/"))
    sid = session_sid(morag.session)
    front_channel(fake_scotaccount, iss=fake_scotaccount.issuer, sid=sid)
    assert not is_signed_in(morag)


def test_a_deleted_user_takes_their_session_records_with_them(morag):
    get_user_model().objects.all().delete()
    assert ScotAccountSession.objects.count() == 0
