"""The example council's pages that need verified attributes, end to end."""

from __future__ import annotations

import pytest

from tests.flow_helpers import complete, sign_in

pytestmark = pytest.mark.django_db


def visit(client, fake, path, persona="morag"):
    """Follow the site's redirects, completing any trip to ScotAccount, until a page."""
    response = client.get(path)
    for _ in range(6):
        if response.status_code != 302:
            return response
        location = response["Location"]
        if location.startswith("/"):
            response = client.get(location)
        else:
            response = complete(client, fake, location, persona)
    raise AssertionError("too many redirects")


def test_permit_page_uses_the_verified_address(client, example_site, fake_scotaccount):
    sign_in(client, fake_scotaccount, "morag")
    page = visit(client, fake_scotaccount, "/permit/")
    assert page.status_code == 200
    assert b"5 EXAMPLE PLACE" in page.content
    assert b"G62 7AA" in page.content


def test_identity_page_and_your_details(client, example_site, fake_scotaccount):
    sign_in(client, fake_scotaccount, "morag")
    page = visit(client, fake_scotaccount, "/identity/")
    assert b"Morag MacDonald" in page.content
    details = visit(client, fake_scotaccount, "/your-details/")
    assert b"Your name and date of birth" in details.content
    assert b"scotaccount.gpg45.medium" not in details.content
    assert b"Share more details" in details.content  # address and email not asked for yet


def test_failed_identity_shows_the_unavailable_page(client, example_site, fake_scotaccount):
    sign_in(client, fake_scotaccount, "idv-failed")
    page = visit(client, fake_scotaccount, "/identity/", persona="idv-failed")
    assert "scotaccount/attributes_unavailable.html" in [t.name for t in page.templates]
