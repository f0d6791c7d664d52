"""The decorator and the mixin: sign in first, step up, come back, never loop."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from scotaccount_django.decorators import verified_attributes_required
from tests.attributes.helpers import ADDRESS, authorize_count
from tests.flow_helpers import complete, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.attributes.urls")]


@pytest.fixture
def signed_in(client, fake_scotaccount):
    assert sign_in(client, fake_scotaccount).status_code == 302
    return client


def follow_to_scotaccount(client, path):
    """Visit ``path`` and follow the app's redirects until one leaves for ScotAccount."""
    response = client.get(path)
    while response.status_code == 302 and response["Location"].startswith("/"):
        response = client.get(response["Location"])
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


@pytest.mark.parametrize("path", ["/needs-address/", "/needs-identity/"])
def test_signed_out_people_sign_in_first_then_step_up_then_come_back(
    client, fake_scotaccount, path
):
    response = client.get(path)
    assert urlsplit(response["Location"]).path == "/scotaccount/login/"
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [path]
    # Sign in, come back, get sent for the attribute, come back again.
    back = complete(client, fake_scotaccount, follow_to_scotaccount(client, path))
    assert back["Location"] == path
    authorize_url = follow_to_scotaccount(client, path)
    assert "scotaccount." in parse_qs(urlsplit(authorize_url).query)["scope"][0]
    back = complete(client, fake_scotaccount, authorize_url)
    assert back["Location"] == path
    assert client.get(path).status_code == 200


def test_missing_attributes_go_through_the_step_up_and_back(signed_in, fake_scotaccount):
    response = signed_in.get("/needs-address/?tab=2")
    location = urlsplit(response["Location"])
    assert location.path == "/scotaccount/attributes/"
    assert parse_qs(location.query) == {"scope": [ADDRESS], "next": ["/needs-address/?tab=2"]}
    back = complete(
        signed_in, fake_scotaccount, follow_to_scotaccount(signed_in, "/needs-address/?tab=2")
    )
    assert back["Location"] == "/needs-address/?tab=2"
    assert signed_in.get("/needs-address/?tab=2").content == b"address page"


def test_held_attributes_let_the_view_run_with_no_flow(signed_in, fake_scotaccount):
    complete(signed_in, fake_scotaccount, follow_to_scotaccount(signed_in, "/needs-address/"))
    before = authorize_count(fake_scotaccount)
    assert signed_in.get("/needs-address/").content == b"address page"
    assert authorize_count(fake_scotaccount) == before


def test_declined_shows_the_built_in_page_with_a_retry_never_a_loop(signed_in, fake_scotaccount):
    complete(
        signed_in,
        fake_scotaccount,
        follow_to_scotaccount(signed_in, "/needs-address/"),
        cancel=True,
    )
    before = authorize_count(fake_scotaccount)
    response = signed_in.get("/needs-address/")
    assert response.status_code == 200
    assert "scotaccount/attributes_unavailable.html" in [t.name for t in response.templates]
    retry_url = response.context["retry_url"]
    assert "retry=1" in retry_url
    assert b"Try sharing your details again" in response.content
    assert authorize_count(fake_scotaccount) == before  # no automatic second request
    # The deliberate retry does ask again, and comes back to the page.
    retried = signed_in.get(retry_url)
    assert retried["Location"].startswith(fake_scotaccount.authorization_endpoint)


@pytest.mark.parametrize(
    ("persona", "path", "help_shown", "help_not_shown"),
    [
        ("no-address", "/needs-address/", "not-held", "not-checked"),
        ("idv-failed", "/needs-identity/", "not-checked", "not-held"),
    ],
)
def test_no_retry_is_offered_when_scotaccount_would_answer_the_same(
    client, fake_scotaccount, persona, path, help_shown, help_not_shown
):
    """Not held, or could not be checked: a retry would come back here, so none is offered."""
    sign_in(client, fake_scotaccount, persona=persona)
    complete(client, fake_scotaccount, follow_to_scotaccount(client, path), persona)
    response = client.get(path)
    assert "scotaccount/attributes_unavailable.html" in [t.name for t in response.templates]
    assert response.context["retry_url"] is None
    page = response.content.decode()
    assert "Try sharing your details again" not in page
    assert "retry=1" not in page
    assert 'data-testid="scotaccount-unavailable-help"' in page
    assert "use its help pages" in page
    # The help that fits the reason, and only that: no "checked by mistake" for an address
    # ScotAccount does not hold.
    assert f'data-testid="scotaccount-unavailable-{help_shown}"' in page
    assert f'data-testid="scotaccount-unavailable-{help_not_shown}"' not in page
    assert 'data-testid="scotaccount-continue"' in page


def test_the_decorators_own_unavailable_handler(signed_in, fake_scotaccount):
    complete(
        signed_in,
        fake_scotaccount,
        follow_to_scotaccount(signed_in, "/needs-address-custom/"),
        cancel=True,
    )
    response = signed_in.get("/needs-address-custom/")
    assert response.content.startswith(b"custom: [('scotaccount.address', 'declined')]")


def test_the_mixins_own_unavailable_handler(signed_in, fake_scotaccount):
    complete(
        signed_in,
        fake_scotaccount,
        follow_to_scotaccount(signed_in, "/needs-identity-own/"),
        cancel=True,
    )
    response = signed_in.get("/needs-identity-own/")
    assert (response.status_code, response.content) == (409, b"mixin handler")


def test_the_decorator_needs_named_known_scopes():
    with pytest.raises(TypeError):
        verified_attributes_required()
    with pytest.raises(TypeError):
        verified_attributes_required(lambda request: None)  # used without parentheses
    with pytest.raises(ValueError, match="gpg-45-medium"):
        verified_attributes_required("gpg-45-medium")


def test_the_mixin_needs_scopes(signed_in):
    from django.views import View

    from scotaccount_django.decorators import VerifiedAttributesRequiredMixin

    class Empty(VerifiedAttributesRequiredMixin, View):
        pass

    with pytest.raises(TypeError, match="required_scopes"):
        Empty.as_view()(signed_in.get("/").wsgi_request)


def test_identity_is_required_verified_not_just_present(client, fake_scotaccount):
    sign_in(client, fake_scotaccount, persona="idv-failed")
    complete(
        client, fake_scotaccount, follow_to_scotaccount(client, "/needs-identity/"), "idv-failed"
    )
    response = client.get("/needs-identity/")
    assert response.context["reasons"] == [
        ("Your name and date of birth, from your identity check", "ScotAccount could not check it")
    ]
    assert response.context["retry_url"] is None  # ScotAccount's check would fail again


@pytest.mark.parametrize(
    ("fault", "path", "page"),
    [
        ("claims_address_self_certified", "/needs-address/", b"address page"),
        ("claims_identity_low", "/needs-identity/", b"identity page"),
    ],
)
def test_l10_weak_evidence_does_not_count_as_verified(
    signed_in, fake_scotaccount, fault, path, page
):
    from django.contrib.auth import get_user_model

    from scotaccount_django.attributes import verified_address, verified_name

    fake_scotaccount.scenarios.add(fault)
    back = complete(signed_in, fake_scotaccount, follow_to_scotaccount(signed_in, path))
    assert back["Location"] == path
    before = authorize_count(fake_scotaccount)
    response = signed_in.get(path)
    assert response.content != page  # the decorator and the mixin do not let it through
    assert authorize_count(fake_scotaccount) == before  # and do not loop back to ScotAccount
    user = get_user_model().objects.get()
    assert verified_address(user) is None
    assert verified_name(user) is None


@pytest.mark.parametrize("path", ["/needs-address/", "/needs-identity/", "/shows-name/"])
def test_l11_pages_showing_verified_attributes_are_not_stored(signed_in, fake_scotaccount, path):
    from tests.attributes.helpers import ALL_SCOPES, step_up

    step_up(signed_in, fake_scotaccount, ALL_SCOPES)
    response = signed_in.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_l11_other_pages_keep_their_caching(signed_in, fake_scotaccount):
    assert "Cache-Control" not in signed_in.get("/shows-nothing/")
