"""SECURITY M3, M4, M5 and the front-channel part of M9: where the app meets a deployment.

Everything here goes through HTTP (the test client, the fake ScotAccount) or
through Django's own admin and error-reporting machinery, so it holds whatever
module the code behind it lives in.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone
from django.utils.log import AdminEmailHandler
from django.views.debug import ExceptionReporter, get_default_exception_reporter_filter

from scotaccount_django import reporting
from scotaccount_django import urls as app_urls
from scotaccount_django._internal import sessions
from scotaccount_django._internal.jwtkit import verify_claims_token
from scotaccount_django.conf import conf
from scotaccount_django.exceptions import InvalidClaimsToken
from scotaccount_django.models import (
    AttributeRequest,
    ScotAccountIdentity,
    ScotAccountSession,
    VerifiedAttribute,
)
from scotaccount_django_testing import FAULTS
from tests.flow_helpers import complete, return_to_app, signed_in_client, start_flow
from tests.sign_in.test_account_linking import StarterLinkingBackend, backend

pytestmark = pytest.mark.django_db

APP_LABEL = "scotaccount"
CLAIMS = {"given_name": "Morag", "family_name": "Campbell", "birth_date": "1980-01-02"}


# --- M3: the admin never reveals a hidden value ------------------------------------------

#: Fields whose values the admin keeps hidden: personal data and secrets.
HIDDEN_FIELD_NAMES = {"claims", "sid_hash", "session_key"}
#: Lookups an attacker would add to a changelist URL, with a value for each.
PROBES = {
    "": "{}",
    "__given_name": "Morag",
    "__given_name__regex": "^M",
    "__family_name__startswith": "C",
    "__birth_date__startswith": "1980",
    "__startswith": "a",
    "__istartswith": "a",
    "__regex": ".",
    "__contains": "a",
    "__icontains": "a",
    "__exact": "a",
    "__gt": "",
    "__in": "a,b",
    "__isnull": "False",
    "__has_key": "given_name",
}


def hidden(field: object) -> bool:
    return (
        getattr(field, "name", None) in HIDDEN_FIELD_NAMES or "Encrypted" in type(field).__name__
    )


def hidden_paths(model: type[Model], depth: int = 2) -> list[str]:
    """Every field path (up to two relations away) reaching a hidden value from ``model``."""
    paths = []
    for field in model._meta.get_fields():
        if hidden(field):
            paths.append(field.name)
        elif depth and field.related_model is not None and field.related_model is not model:
            far = hidden_paths(field.related_model, depth - 1)  # type: ignore[arg-type]
            paths += [f"{field.name}__{path}" for path in far]
    return paths


def app_admins() -> list[tuple[type[Model], admin.ModelAdmin]]:  # type: ignore[type-arg]
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == APP_LABEL
    ]


def changelist(model: type[Model]) -> str:
    return reverse(f"admin:{APP_LABEL}_{model._meta.model_name}_changelist")


@pytest.fixture
def records() -> VerifiedAttribute:
    """One row in every table the admin shows, with values worth stealing."""
    person = get_user_model().objects.create(username="resident42")
    identity = ScotAccountIdentity.objects.create(
        user=person, issuer="https://issuer.example", sub=uuid.uuid4(), last_seen=timezone.now()
    )
    request = AttributeRequest.objects.create(
        identity=identity, requested_scopes=["scotaccount.gpg45.medium"], status="completed"
    )
    ScotAccountSession.objects.create(
        issuer=identity.issuer, sid_hash="c" * 64, session_key="secretsessionkey", user=person
    )
    return VerifiedAttribute.objects.create(
        identity=identity,
        scope="scotaccount.gpg45.medium",
        claims=CLAIMS,
        outcome="VERIFIED_SUCCESSFULLY",
        trust_framework="uk_tfida",
        confidence_level="medium",
        verified_at=timezone.now(),
        verifier_organization="DIS",
        txn=uuid.uuid4(),
        request=request,
    )


def staff_client(client: Client, *, values: bool = False, superuser: bool = False) -> Client:
    """Staff who may view every ScotAccount model, with or without the values permission."""
    user = get_user_model().objects.create(
        username=f"staff-{uuid.uuid4().hex[:6]}", is_staff=True, is_superuser=superuser
    )
    codenames = Permission.objects.filter(content_type__app_label=APP_LABEL)
    codenames = codenames.filter(codename__startswith="view_")
    if not values:
        codenames = codenames.exclude(codename="view_attribute_values")
    user.user_permissions.set(codenames)
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["staff without the values permission", "superuser"])
def test_m3_no_admin_changelist_filters_on_a_hidden_value(client, records, who) -> None:
    staff_client(client, superuser=who == "superuser")
    tried = []
    for model, _model_admin in app_admins():
        url = changelist(model)
        assert client.get(url).status_code == 200, url
        for path in hidden_paths(model):
            for suffix, value in PROBES.items():
                response = client.get(url, {f"{path}{suffix}": value})
                # 400: Django's DisallowedModelAdminLookup. A 200 or a redirect
                # would mean the lookup ran, and its row count is the leak.
                assert response.status_code == 400, (url, path + suffix, response.status_code)
                tried.append(f"{model._meta.model_name}.{path}{suffix}")
    assert "verifiedattribute.claims__given_name" in tried
    assert "scotaccountidentity.user__scotaccount_sessions__session_key__startswith" in tried
    assert "scotaccountidentity.verified_attributes__claims__birth_date__startswith" in tried


def test_m3_harmless_filters_still_work(client, records) -> None:
    staff_client(client)
    url = changelist(VerifiedAttribute)
    response = client.get(url, {"scope": "scotaccount.gpg45.medium"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert client.get(url, {"verified_at__year": "1999"}).context["cl"].result_count == 0
    # A relation alone, or with a lookup Django resolves (not a field): both harmless.
    assert client.get(url, {"identity": records.identity_id}).context["cl"].result_count == 1
    assert client.get(url, {"request__isnull": "False"}).context["cl"].result_count == 1
    # Django's own rule still holds: no lookup across two relations it was not given.
    assert client.get(url, {"identity__user__username": "resident42"}).status_code == 400


def test_m3_search_and_ordering_never_reach_a_hidden_value(client, records) -> None:
    staff_client(client)
    for model, model_admin in app_admins():
        request = client.get(changelist(model)).wsgi_request
        searched = [name.lstrip("^=@") for name in model_admin.get_search_fields(request)]
        named = [
            *searched,
            *model_admin.get_list_display(request),
            *(f if isinstance(f, str) else f[0] for f in model_admin.get_list_filter(request)),
            *model_admin.get_ordering(request),
            *(model_admin.get_sortable_by(request) or ()),
            model_admin.date_hierarchy or "",
        ]
        for name in named:
            parts = name.lstrip("-").split("__")
            assert not HIDDEN_FIELD_NAMES & set(parts), (model, name)
        url = changelist(model)
        for value in (*CLAIMS.values(), "secretsessionkey", "c" * 64):
            assert client.get(url, {"q": value}).context["cl"].result_count == 0, (url, value)
        columns = len(model_admin.get_list_display(request))
        for index in range(-columns, columns + 1):
            response = client.get(url, {"o": str(index)})
            assert response.status_code in (200, 302), (url, index)
            assert b"Morag" not in response.content


@pytest.fixture
def audit_records(caplog) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="scotaccount_django.audit"):
        yield caplog


def audit_events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if hasattr(r, "audit_event")]


def test_m3_viewing_values_in_the_admin_is_audited(client, records, audit_records) -> None:
    staff_client(client, values=True)
    user_id = client.session["_auth_user_id"]
    page = reverse(f"admin:{APP_LABEL}_verifiedattribute_change", args=[records.pk])
    response = client.get(page)
    assert "Campbell" in response.content.decode()
    viewed = audit_events(audit_records)
    assert [(r.audit_event, r.user_id, r.attribute_id) for r in viewed] == [
        ("attribute_values_viewed", user_id, str(records.pk))
    ]
    assert "Campbell" not in viewed[0].getMessage()


def test_m3_seeing_a_record_without_its_values_is_not_a_values_event(
    client, records, audit_records
) -> None:
    staff_client(client)
    page = reverse(f"admin:{APP_LABEL}_verifiedattribute_change", args=[records.pk])
    response = client.get(page)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Campbell" not in html
    assert "Hidden: seeing values needs the permission" in html
    assert "uk_tfida" in html, "the rest of the record is still shown"
    assert audit_events(audit_records) == []


def test_admin_title_names_whose_attribute_it_is_not_a_database_id(client, records) -> None:
    staff_client(client)
    page = reverse(f"admin:{APP_LABEL}_verifiedattribute_change", args=[records.pk])
    subtitle = client.get(page).context["subtitle"]
    assert "resident42" in subtitle
    assert f"for {records.identity_id}" not in subtitle


def test_admin_claims_keep_their_indentation(client, records) -> None:
    staff_client(client, values=True)
    page = reverse(f"admin:{APP_LABEL}_verifiedattribute_change", args=[records.pk])
    html = client.get(page).content.decode()
    shown = html[html.find("<pre>") : html.find("</pre>") + 6]
    assert "Hidden: seeing values needs the permission" not in html, "values permission not seen"
    assert shown.startswith("<pre>{\n  &quot;"), f"claims not shown indented: {shown!r}"
    assert "\n  &quot;given_name&quot;: &quot;Morag&quot;" in shown
    assert "\n  &quot;family_name&quot;: &quot;Campbell&quot;" in shown


# --- M4: no forged log line from any request or provider input ---------------------------

#: A value that, written raw, would add a convincing line to the log.
FORGED = (
    "x\r\n2026-03-02 09:00:00 INFO scotaccount_django.audit ScotAccount audit: signed_in"
    "\x1b[0m\u2028\x85"
)
LINE_BREAKERS = {"\r", "\n", "\x1b", "\u2028", "\x85", "\x0b", "\x0c"}

#: Every URL of ``scotaccount_django/urls.py`` (by name, or by route when it has none)
#: -> the query parameters its view reads.
VIEW_PARAMETERS = {
    "login": ["next"],
    "callback": ["state", "code", "error", "error_description", "iss"],
    "attributes": ["scope", "next", "retry"],
    "logout": ["next"],
    "logged_out": ["state"],
    "^logged-out/&state=(?P<appended_state>[^/?#]{1,4096})$": [],
    "session_ended": ["reason", "next"],
    "frontchannel_logout": ["iss", "sid"],
}
#: Headers a proxy or browser sends that a view or middleware could log.
FORGED_HEADERS = {
    "HTTP_USER_AGENT": FORGED,
    "HTTP_REFERER": FORGED,
    "HTTP_X_FORWARDED_FOR": FORGED,
}


class EveryRecord(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def every_record() -> Iterator[EveryRecord]:
    """Every record of every logger at DEBUG, as a handler on the root logger sees it."""
    handler = EveryRecord()
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(n) for n in ("scotaccount_django", "django"))]
    levels = [logger.level for logger in loggers]
    root.addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def assert_no_forged_line(handler: EveryRecord) -> None:
    for record in handler.records:
        message = record.getMessage()
        assert not LINE_BREAKERS & set(message), (record.name, message)


def url_names() -> set[str]:
    patterns = [p for p in app_urls.urlpatterns if isinstance(p, URLPattern)]
    return {p.name or str(p.pattern) for p in patterns}


def test_m4_the_forging_test_knows_every_url_of_the_app() -> None:
    assert url_names() == set(VIEW_PARAMETERS)


def hostile_requests(client: Client, *, callback_state: str) -> Iterator[tuple[str, int]]:
    """Every view, each parameter forged in turn (the others sensible), GET and POST."""
    sensible = {"state": callback_state, "code": "abc", "scope": "scotaccount.email", "next": "/"}
    for name, parameters in VIEW_PARAMETERS.items():
        if "appended_state" in name:
            path = reverse("scotaccount:logged_out") + "&state=" + quote(FORGED)
            yield path, client.get(path, **FORGED_HEADERS).status_code
            continue
        path = reverse(f"scotaccount:{name}")
        for forged in parameters:
            query = {key: value for key, value in sensible.items() if key in parameters}
            query[forged] = FORGED
            yield f"{path} {forged}", client.get(path, query, **FORGED_HEADERS).status_code
            if name == "logout":
                yield f"POST {path}", client.post(path, query, **FORGED_HEADERS).status_code


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed in"])
def test_m4_no_view_parameter_forges_a_log_line(
    client, fake_scotaccount, every_record, signed_in
) -> None:
    if signed_in:
        signed_in_client(client, fake_scotaccount)
    state = parse_qs(urlsplit(start_flow(client)).query)["state"][0]
    answered = dict(hostile_requests(client, callback_state=state))
    assert answered, "no request was made"
    # 502: the token endpoint refused the forged code, a deliberate "not available" page.
    assert all(status != 500 for status in answered.values()), answered
    assert any(r.name.startswith("scotaccount_django") for r in every_record.records)
    assert_no_forged_line(every_record)


def test_m4_a_forged_scope_at_the_step_up_is_logged_escaped(
    client, fake_scotaccount, every_record
) -> None:
    """The reported attack: ``/attributes/?scope=x%0D%0A...`` from a signed-in person."""
    signed_in_client(client, fake_scotaccount)
    response = client.get(reverse("scotaccount:attributes"), {"scope": FORGED})
    assert response.status_code == 400
    assert_no_forged_line(every_record)
    assert any("\\r\\n2026-03-02" in r.getMessage() for r in every_record.records)


#: Faults whose answer the app reads and may quote in a log (slow ones left out).
PROVIDER_FAULTS = sorted(
    name
    for name, spec in FAULTS.items()
    if spec.target in ("authorize", "token", "id_token", "token_response")
    and not name.endswith(("_timeout", "_trickle", "_redirect_other_host"))
)


def test_m4_no_provider_fault_forges_a_log_line(fake_scotaccount, every_record, settings) -> None:
    settings.SCOTACCOUNT_FLOW_RATE_LIMIT = 10_000
    assert "authorize_description_markup" in PROVIDER_FAULTS
    for fault in PROVIDER_FAULTS:
        fake_scotaccount.scenarios.clear()
        fake_scotaccount.scenarios.add(fault)
        browser = Client()
        response = complete(browser, fake_scotaccount, start_flow(browser))
        assert response.status_code != 500, fault
    assert_no_forged_line(every_record)


def test_m4_every_app_logger_escapes_what_it_is_given(every_record) -> None:
    """The central defence itself, on loggers present at start-up and added later."""
    late = logging.getLogger(f"scotaccount_django.added_later_{uuid.uuid4().hex}")
    reporting.escape_app_logs()
    reporting.escape_app_logs()
    assert sum(isinstance(f, reporting.EscapeControlCharacters) for f in late.filters) == 1
    for name in ("scotaccount_django", "scotaccount_django.audit", late.name):
        logging.getLogger(name).warning("value %s at %d%%", FORGED, 5)
        logging.getLogger(name).warning("plain %s", "value")
    forged, plain = every_record.records[0], every_record.records[1]
    assert forged.getMessage() == f"value {reporting.escape(FORGED)} at 5%"
    assert "\\r\\n2026-03-02" in forged.getMessage()
    assert plain.args == ("value",), "a clean record keeps its arguments"
    assert len(every_record.records) == 6
    assert_no_forged_line(every_record)


def test_m4_our_exception_messages_are_escaped() -> None:
    from scotaccount_django.exceptions import BadAttributeRequest

    assert str(BadAttributeRequest("scope 'x\r\ny' is unknown")) == "scope 'x\\r\\ny' is unknown"


# --- M5: error reports carry no secrets ----------------------------------------------------


def callback_that_fails_at_the_token_endpoint(client: Client, fake) -> tuple[str, dict[str, str]]:
    """Start a flow, make the token endpoint fail, and come back to the callback as a
    gunicorn/uWSGI server would present it (``RAW_URI``, ``REQUEST_URI``)."""
    location = fake.complete_authorization(start_flow(client), persona="morag")
    fake.scenarios.add("token_http_503", times=None)
    parts = urlsplit(location)
    uri = f"{parts.path}?{parts.query}"
    secrets = {name: values[0] for name, values in parse_qs(parts.query).items()}
    # The cookies the browser sends with the callback (the sealed flow among them).
    secrets.update({f"cookie {name}": m.value for name, m in client.cookies.items() if m.value})
    assert any(name.startswith("cookie") for name in secrets)
    response = client.get(uri, RAW_URI=uri, REQUEST_URI=uri)
    assert response.status_code == 503
    return uri, secrets


@pytest.fixture
def admins_mailed(settings) -> list[object]:
    settings.ADMINS = [("Council web team", "web@council.example")]
    settings.MANAGERS = settings.ADMINS
    return mail.outbox


def test_m5_m9_a_token_endpoint_failure_mails_no_code_state_or_cookie(
    client, fake_scotaccount, admins_mailed
) -> None:
    _, secrets = callback_that_fails_at_the_token_endpoint(client, fake_scotaccount)
    assert {"code", "state"} <= set(secrets)
    assert len(admins_mailed) == 1, "Django's AdminEmailHandler should have mailed the 503"
    report = admins_mailed[0]
    text = f"{report.subject}\n{report.body}"  # type: ignore[attr-defined]
    assert "503" in text or "Service Unavailable" in text
    for name, value in secrets.items():
        assert value not in text, f"the {name} is in the error e-mail"
    for key in ("RAW_URI", "REQUEST_URI", "HTTP_COOKIE", "QUERY_STRING"):
        assert f"{key} = '" not in text or f"{key} = ''" in text or "****" in text


@pytest.fixture
def reporter_filter(settings) -> Iterator[object]:
    """Set ``DEFAULT_EXCEPTION_REPORTER_FILTER`` (Django caches the instance: clear it)."""

    def use(dotted_path: str) -> None:
        settings.DEFAULT_EXCEPTION_REPORTER_FILTER = dotted_path
        get_default_exception_reporter_filter.cache_clear()

    get_default_exception_reporter_filter.cache_clear()
    yield use
    get_default_exception_reporter_filter.cache_clear()


def report_for(request, *, html_only: bool = False) -> str:
    """What Django's AdminEmailHandler mails (text, then HTML) for an exception in a view,
    or only the HTML page (as ``DEBUG`` shows it, or a reporter that renders HTML alone)."""
    posted = request.POST  # a local the HTML report lists: sensitive_post_parameters apply
    try:
        raise RuntimeError(f"council view failed on {len(posted)} fields")
    except RuntimeError:
        if html_only:
            return str(ExceptionReporter(request, *sys.exc_info()).get_traceback_html())
        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            (request.path,),
            sys.exc_info(),
        )
    record.request = request
    AdminEmailHandler(include_html=True).emit(record)
    message = mail.outbox[-1]
    return str(message.body) + "".join(str(content) for content, _ in message.alternatives)


def test_m5_the_reporter_filter_scrubs_any_views_request(
    rf, reporter_filter, admins_mailed
) -> None:
    def council_request():
        uri = "/council/apply/?code=SECRETCODE123&state=SECRETSTATE456"
        cookie = "__Host-scotaccount_flow=SECRETCOOKIE789"
        request = rf.post(
            uri,
            {"password": "SECRETPASSWORD0"},
            RAW_URI=uri,
            REQUEST_URI=uri,
            HTTP_COOKIE=cookie,
        )
        request.sensitive_post_parameters = ["password"]  # @sensitive_post_parameters
        assert request.COOKIES  # read during the request, as middleware does
        return request

    plain = report_for(council_request())
    assert "SECRETCODE123" in plain, "Django alone prints the query: the test would prove nothing"
    assert "SECRETCOOKIE789" in plain
    reporter_filter("scotaccount_django.reporting.ExceptionReporterFilter")
    filtered = report_for(council_request()) + report_for(council_request(), html_only=True)
    assert "council view failed" in filtered
    assert "PATH_INFO" in filtered, "the rest of the request is still reported"
    for secret in ("SECRETCODE123", "SECRETSTATE456", "SECRETCOOKIE789", "SECRETPASSWORD0"):
        assert secret not in filtered


def test_m5_the_scrub_keeps_cookie_names_so_a_dead_sessions_cookie_is_cleared(
    client, fake_scotaccount, settings
) -> None:
    """Only the values go: Django's session middleware, after the scrubbed callback, still
    sees the session cookie and deletes it when the session behind it is gone."""
    location = fake_scotaccount.complete_authorization(start_flow(client))
    client.cookies[settings.SESSION_COOKIE_NAME] = "gone" * 8  # its session has expired
    response = return_to_app(client, location + "&error=access_denied")  # refused: no sign-in
    assert response.status_code == 400
    cleared = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cleared.value == ""
    assert cleared["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"


# --- M9 (front channel): tests that kill the surviving mutants -----------------------------


def test_m9_an_https_site_never_redirects_to_http_next(client, fake_scotaccount, settings) -> None:
    """``require_https`` in the safe-``next`` check: no https->http downgrade."""
    settings.SECURE_PROXY_SSL_HEADER = None
    downgrade = "http://testserver/signed-in/"
    started = client.get(reverse("scotaccount:login"), {"next": downgrade}, secure=True)
    location = fake_scotaccount.complete_authorization(started["Location"], persona="morag")
    parts = urlsplit(location)
    response = client.get(f"{parts.path}?{parts.query}", secure=True)
    assert response.status_code == 302
    assert client.session.get("_auth_user_id")
    assert response["Location"] != downgrade
    assert not response["Location"].startswith("http:")


def test_m9_the_same_next_over_https_is_kept(client, fake_scotaccount) -> None:
    """The control for the test above: an https ``next`` on this host is followed."""
    kept = "https://testserver/signed-in/"
    started = client.get(reverse("scotaccount:login"), {"next": kept}, secure=True)
    location = fake_scotaccount.complete_authorization(started["Location"], persona="morag")
    parts = urlsplit(location)
    assert client.get(f"{parts.path}?{parts.query}", secure=True)["Location"] == kept


def test_m9_i1_an_identity_from_another_issuer_is_someone_else(client, fake_scotaccount) -> None:
    """Identities are keyed on (issuer, ``sub``): the same ``sub`` from another issuer
    must not sign in as that identity's user."""
    sub = uuid.UUID(fake_scotaccount.personas["morag"].sub)
    elsewhere = get_user_model().objects.create(username="from-another-issuer")
    ScotAccountIdentity.objects.create(
        user=elsewhere, issuer="https://other-issuer.example", sub=sub, last_seen=timezone.now()
    )
    response = complete(client, fake_scotaccount, start_flow(client))
    assert response.status_code == 302, response.content[:300]
    assert client.session["_auth_user_id"] != str(elsewhere.pk)
    assert (
        ScotAccountIdentity.objects.get(issuer=fake_scotaccount.issuer, sub=sub).user != elsewhere
    )


def s256(verifier: str) -> str:
    """RFC 7636 section 4.2, written out here rather than taken from any library."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def test_a2_m9_the_challenge_sent_is_s256_of_the_verifier_sent(client, fake_scotaccount) -> None:
    """Black-box PKCE: what the browser carried vs what our token request sent."""
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B
    )
    authorize_url = start_flow(client)
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    response = return_to_app(
        client, fake_scotaccount.complete_authorization(authorize_url, persona="morag")
    )
    assert response.status_code == 302
    verifier = fake_scotaccount.journal.last("token").params["code_verifier"]
    assert 43 <= len(verifier) <= 128
    assert query["code_challenge"] == [s256(verifier)]


# --- Survivors of `make mutate` in the claimsToken checks (docs/testing.md) ---------------


def claims_token_payload(fake, **fields: object) -> dict[str, object]:
    person = fake.personas["morag"].sub
    return {"iss": fake.attributes_issuer, "sub": person, "iat": int(time.time()), **fields}


def test_m9_a_legacy_claims_token_is_bound_by_its_claims_uuid_too(fake_scotaccount) -> None:
    """The legacy layout names its person in ``claims.uuid``: another person's is refused,
    even when ``sub`` is right."""
    sub = uuid.UUID(fake_scotaccount.personas["morag"].sub)
    other = fake_scotaccount.personas["seonaid"].sub
    legacy = {"verified_claims": {"verification": {}, "claims": {}}}
    theirs = claims_token_payload(fake_scotaccount, **legacy, claims={"uuid": other})
    with pytest.raises(InvalidClaimsToken, match="different person"):
        verify_claims_token(fake_scotaccount.attributes_keys.sign(theirs), sub=sub)
    ours = claims_token_payload(fake_scotaccount, **legacy, claims={"uuid": str(sub)})
    assert verify_claims_token(fake_scotaccount.attributes_keys.sign(ours), sub=sub)


def test_m9_l12_a_claims_token_is_refused_only_past_its_maximum_age(fake_scotaccount) -> None:
    """The boundary itself: exactly ``CLAIMS_TOKEN_MAX_AGE`` + leeway old is still fresh."""
    sub = uuid.UUID(fake_scotaccount.personas["morag"].sub)
    limit = int((conf.CLAIMS_TOKEN_MAX_AGE + conf.CLOCK_LEEWAY).total_seconds())
    with time_machine.travel(int(time.time()), tick=False):
        issued = int(time.time()) - limit
        fresh = claims_token_payload(fake_scotaccount, iat=issued)
        assert verify_claims_token(fake_scotaccount.attributes_keys.sign(fresh), sub=sub)
        stale = claims_token_payload(fake_scotaccount, iat=issued - 1)
        with pytest.raises(InvalidClaimsToken):
            verify_claims_token(fake_scotaccount.attributes_keys.sign(stale), sub=sub)


def test_m2_m9_a_link_to_a_user_already_linked_elsewhere_is_refused(
    client, fake_scotaccount, settings
) -> None:
    """``update_user``'s identity check: a hook that names a user already linked to another
    ``sub`` (same issuer) must not sign that user in with this one."""
    backend(settings, StarterLinkingBackend)
    staff = get_user_model().objects.create(username="linked-staff", is_staff=True)
    ScotAccountIdentity.objects.create(
        user=staff, issuer=fake_scotaccount.issuer, sub=uuid.uuid4(), last_seen=timezone.now()
    )
    client.force_login(staff)
    morag = fake_scotaccount.personas["morag"].sub
    complete(client, fake_scotaccount, start_flow(client), persona="morag")
    assert client.session.get(sessions.SUB) != morag
    assert not ScotAccountIdentity.objects.filter(sub=morag).exists()


def test_a_returning_persons_last_seen_moves_on(client, fake_scotaccount) -> None:
    """``update_user`` records when someone signs in again (the admin's "last seen")."""
    signed_in_client(client, fake_scotaccount)
    first = ScotAccountIdentity.objects.get().last_seen
    client.logout()
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=1)):
        signed_in_client(Client(), fake_scotaccount)
    assert ScotAccountIdentity.objects.get().last_seen > first
