"""Drive the fake's real sign-in and consent forms over HTTP, as a person's browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

TIMEOUT = 10.0


class FakeProviderError(Exception):
    """Raised when the fake refuses to show a page (for example an unregistered redirect URI)."""


@dataclass
class _Form:
    action: str
    hidden: dict[str, str] = field(default_factory=dict)
    checkboxes: list[str] = field(default_factory=list)


class _FormFinder(HTMLParser):
    """Collects forms by ``data-testid``: hidden fields and checkbox values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, _Form] = {}
        self._current: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._current = _Form(attributes.get("action", ""))
            self.forms[attributes.get("data-testid", "")] = self._current
        elif tag == "input" and self._current is not None:
            if attributes.get("type") == "hidden":
                self._current.hidden[attributes["name"]] = attributes.get("value", "")
            elif attributes.get("type") == "checkbox":
                self._current.checkboxes.append(attributes.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _form(response: requests.Response, testid: str) -> _Form:
    if response.status_code != 200:
        raise FakeProviderError(f"Expected the {testid} page, got {response.status_code}.")
    finder = _FormFinder()
    finder.feed(response.text)
    if testid not in finder.forms:
        raise FakeProviderError(f"No {testid} on the page.")
    return finder.forms[testid]


def _location(response: requests.Response) -> str:
    if not response.is_redirect:
        raise FakeProviderError(
            f"Expected a redirect, got {response.status_code}: {response.text}"
        )
    return response.headers["Location"]


def complete_authorization(
    authorize_url: str,
    *,
    persona: str,
    release: list[str] | None = None,
    cancel: bool = False,
    verify: bool | str = True,
) -> str:
    """Open ``authorize_url``, sign in as ``persona``, consent; return the redirect's Location.

    ``release=None`` ticks every requested attribute; a list ticks only those.
    ``cancel=True`` presses Cancel on the consent page (``error=access_denied``).
    """
    with requests.Session() as session:
        response = session.get(
            authorize_url, allow_redirects=False, timeout=TIMEOUT, verify=verify
        )
        if response.is_redirect:
            return _location(response)
        if 'data-testid="sign-in-form"' in response.text:
            sign_in = _form(response, "sign-in-form")
            response = session.post(
                urljoin(authorize_url, sign_in.action),
                data={**sign_in.hidden, "persona": persona},
                allow_redirects=False,
                timeout=TIMEOUT,
                verify=verify,  # per request: a session's verify loses to REQUESTS_CA_BUNDLE
            )
            # The fake redirects after the POST (as ScotAccount does), keeping its cookie.
            response = session.get(
                urljoin(authorize_url, _location(response)),
                allow_redirects=False,
                timeout=TIMEOUT,
                verify=verify,
            )
        consent = _form(response, "consent-form")
        ticked = consent.checkboxes if release is None else list(release)
        unknown = set(ticked) - set(consent.checkboxes)
        if unknown:
            raise ValueError(f"Not requested, so not offered: {sorted(unknown)}.")
        response = session.post(
            urljoin(authorize_url, consent.action),
            data={
                **consent.hidden,
                "release": ticked,
                "action": "cancel" if cancel else "allow",
            },
            allow_redirects=False,
            timeout=TIMEOUT,
            verify=verify,  # per request: a session's verify loses to REQUESTS_CA_BUNDLE
        )
        return _location(response)
