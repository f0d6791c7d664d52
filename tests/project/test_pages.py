"""The package's pages: template names on the views, one base, the design system's markup,
and words for people (second person, no codes, retries that keep ``next``)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.template import engines
from django.urls import reverse

import scotaccount_django
from scotaccount_django import decorators, views
from tests.attributes.helpers import ADDRESS, start_step_up
from tests.flow_helpers import complete, return_to_app, signed_in_client, start_flow

pytestmark = pytest.mark.django_db
TEMPLATES = Path(scotaccount_django.__file__).parent / "templates" / "scotaccount"
#: Every view that renders a page, and the attributes naming its templates.
PAGE_VIEWS = [
    (views.FlowView, ["template_name"]),
    (views.LoginView, ["template_name"]),
    (views.CallbackView, ["template_name"]),
    (views.AttributesView, ["template_name"]),
    (views.LogoutView, ["template_name", "logged_out_template_name"]),
    (views.LoggedOutView, ["template_name", "still_signed_in_template_name"]),
    (views.SessionEndedView, ["template_name"]),
    (views.FrontChannelLogoutView, ["template_name"]),
    (decorators.AttributesUnavailablePage, ["template_name"]),
]
CODES = re.compile(
    r"scotaccount\.(gpg45|address|email)|access_denied|unknown_flow|\b[a-z]+_[a-z_]+\b"
)


def visible_text(response) -> str:
    body = response.content.decode()
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


@pytest.mark.parametrize(
    ("view", "attributes"), PAGE_VIEWS, ids=lambda v: getattr(v, "__name__", "")
)
def test_every_page_template_is_a_view_attribute_that_extends_the_base(view, attributes):
    for attribute in attributes:
        name = getattr(view, attribute)
        assert name.startswith("scotaccount/")
        source = (TEMPLATES / name.removeprefix("scotaccount/")).read_text(encoding="utf-8")
        assert source.startswith('{% extends "scotaccount/base.html" %}')


def test_every_package_template_is_used_by_a_view():
    used = {getattr(view, a) for view, attributes in PAGE_VIEWS for a in attributes}
    shipped = {f"scotaccount/{path.name}" for path in TEMPLATES.glob("*.html")}
    assert shipped - {"scotaccount/base.html"} == used


def test_base_places_the_documented_blocks_and_a_main_landmark():
    source = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    for block in ("title", "scotaccount_styles", "back_link", "content"):
        assert f"{{% block {block} %}}" in source
    assert '<main id="main-content"' in source
    assert 'name="viewport"' in source
    # The fallback style gives focus a visible indicator.
    assert ":focus" in source


def test_templates_use_the_design_systems_classes():
    error = (TEMPLATES / "error.html").read_text(encoding="utf-8")
    assert "ds_page-header__title" in error
    assert "ds_button" in error
    assert "ds_notification" in (TEMPLATES / "logged_out.html").read_text(encoding="utf-8")


def test_all_strings_in_templates_are_translated():
    for path in TEMPLATES.glob("*.html"):
        source = path.read_text(encoding="utf-8")
        source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", source, flags=re.S)
        source = re.sub(r"<style>.*?</style>", "", source, flags=re.S)
        source = re.sub(r"{%\s*blocktranslate.*?endblocktranslate\s*%}", "", source, flags=re.S)
        source = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", "", source, flags=re.S)
        stray = [text.strip() for text in re.split(r"<[^>]*>", source) if text.strip()]
        assert stray == [], f"{path.name}: {stray}"


def test_login_error_retry_keeps_next(client, fake_scotaccount):
    fake_scotaccount.scenarios.add("discovery_http_503")
    response = client.get("/scotaccount/login/", {"next": "/one/"})
    assert response.status_code == 503
    assert response.context["retry_url"] == "/scotaccount/login/?next=%2Fone%2F"
    assert b"Try signing in again" in response.content


def test_callback_error_retry_keeps_the_flows_next(client, fake_scotaccount):
    authorize_url = start_flow(client, next="/one/")
    response = complete(client, fake_scotaccount, authorize_url, cancel=True)
    assert response.status_code == 200
    assert 'href="/scotaccount/login/?next=%2Fone%2F"' in response.content.decode()
    text = visible_text(response)
    assert "You cancelled" in text
    assert not CODES.search(text)


def test_step_up_failure_offers_try_again_or_continue_without(client, fake_scotaccount):
    signed_in_client(client, fake_scotaccount)
    fake_scotaccount.scenarios.add("claims_bad_signature")
    response = complete(client, fake_scotaccount, start_step_up(client, [ADDRESS]))
    page = response.content.decode()
    assert 'data-testid="scotaccount-retry">Try again<' in page
    assert 'data-testid="scotaccount-continue">Continue without sharing your details<' in page
    assert "sign in again" not in page.lower()
    assert response.context["continue_url"] == "/signed-in/"
    assert "_auth_user_id" in client.session  # still signed in
    assert not CODES.search(visible_text(response))


def test_a_replayed_callback_while_signed_in_just_continues(client, fake_scotaccount):
    location = fake_scotaccount.complete_authorization(start_flow(client, next="/one/"))
    assert return_to_app(client, location)["Location"] == "/one/"
    again = return_to_app(client, location)  # Back, or Refresh
    assert again.status_code == 302
    assert again["Location"] == "/signed-in/"
    assert len(fake_scotaccount.journal.for_endpoint("token")) == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"reason": "lifetime", "next": "/apply/"}, "your session ended after 4 hours"),
        ({"reason": "something-else"}, "For your security, you were signed out."),
        ({}, "For your security, you were signed out."),
    ],
)
def test_session_ended_page_says_why_and_the_way_back(client, query, expected):
    response = client.get(reverse("scotaccount:session_ended"), query)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert expected in " ".join(visible_text(response).split())
    sign_in = response.context["sign_in_url"]
    if "next" in query:
        assert sign_in == "/scotaccount/login/?next=%2Fapply%2F"
    else:
        assert sign_in == "/scotaccount/login/"


def test_session_ended_page_refuses_an_offsite_next(client):
    response = client.get(reverse("scotaccount:session_ended"), {"next": "https://evil.example/"})
    assert response.context["sign_in_url"] == "/scotaccount/login/"


def test_session_ended_page_names_the_idle_timeout(client, settings):
    settings.SCOTACCOUNT_SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    response = client.get(reverse("scotaccount:session_ended"), {"reason": "idle"})
    assert "you had not done anything for 30 minutes" in " ".join(visible_text(response).split())


def test_the_fallback_style_is_replaced_by_a_councils_base(settings, tmp_path):
    """A council's own scotaccount/base.html wins, and the fallback style goes with it."""
    (tmp_path / "scotaccount").mkdir()
    (tmp_path / "scotaccount" / "base.html").write_text(
        "<main>{% block content %}{% endblock %}</main>", encoding="utf-8"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    html = engines["django"].get_template("scotaccount/session_ended.html").render({})
    assert "<style>" not in html
    assert "ds_page-header__title" in html


def test_every_design_system_class_used_exists_in_the_design_system():
    """The markup is the Scottish Government Design System's own, not look-alike names."""
    example = Path(__file__).resolve().parents[2] / "example_project" / "council"
    vendor = example / "static" / "council" / "vendor"
    css = (vendor / "design-system" / "design-system.min.css").read_text(encoding="utf-8")
    templates = [*TEMPLATES.glob("*.html"), *(example / "templates").rglob("*.html")]
    used = {
        name
        for path in templates
        for name in re.findall(r"\bds_[a-z0-9_-]+", path.read_text(encoding="utf-8"))
    }
    assert {"ds_page-header", "ds_button", "ds_site-header", "ds_back-link"} <= used
    assert [name for name in sorted(used) if f".{name}" not in css] == []


def test_the_example_vendors_the_design_system_with_its_licences():
    vendor = Path(__file__).resolve().parents[2] / "example_project/council/static/council/vendor"
    assert "4.2.0" in (vendor / "design-system" / "VERSION").read_text(encoding="utf-8")
    assert "MIT" in (vendor / "design-system" / "LICENSE.txt").read_text(encoding="utf-8")
    assert (vendor / "roboto" / "LICENSE.txt").exists()
    assert list((vendor / "roboto").glob("*.woff2"))
