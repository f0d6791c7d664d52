"""The fake's HTML: plain forms that work without JavaScript, with stable ``data-testid`` hooks.

Every page says loudly that it is a fake, so nobody mistakes it for ScotAccount.
"""

from __future__ import annotations

from html import escape

from scotaccount_django.testing.fake_provider.personas import Persona

_STYLE = (
    "body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}"
    ".fake{background:#ffdd00;border:4px solid #0b0c0c;padding:.5rem 1rem;font-weight:bold}"
    "label{display:block;margin:.5rem 0}button{margin:1rem .5rem 0 0;padding:.5rem 1rem}"
)


def page(title: str, body: str) -> str:
    """Wrap ``body`` (already escaped) in a page carrying the fake banner."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - FAKE ScotAccount</title><style>{_STYLE}</style></head><body>"
        '<p class="fake" data-testid="fake-banner">FAKE ScotAccount for testing only.'
        " This is not the real ScotAccount; never enter real personal data here.</p>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def sign_in_page(request_id: str, personas: list[Persona], default: str) -> str:
    """Choose who to sign in as."""
    choices = "".join(
        f'<label><input type="radio" name="persona" value="{escape(persona.id)}"'
        f' data-testid="persona-{escape(persona.id)}"'
        f"{' checked' if persona.id == default else ''}>"
        f" <strong>{escape(persona.given_name)} {escape(persona.family_name)}</strong>"
        f" ({escape(persona.id)}): {escape(persona.summary)}</label>"
        for persona in personas
    )
    form = (
        '<form method="post" action="/authorize/sign-in" data-testid="sign-in-form">'
        f"{_hidden('request_id', request_id)}<fieldset><legend>Sign in as</legend>{choices}"
        '</fieldset><button type="submit" data-testid="sign-in-submit">Sign in</button></form>'
    )
    return page("Sign in", form)


def consent_page(request_id: str, persona: Persona, requested: list[str]) -> str:
    """Tick which requested attributes to release; Cancel returns ``access_denied``."""
    boxes = "".join(
        f'<label><input type="checkbox" name="release" value="{escape(scope)}"'
        f' data-testid="release-{escape(scope)}" checked> {escape(scope)}'
        f"{'' if persona.has(scope) else ' (nothing held for this person)'}</label>"
        for scope in requested
    )
    question = (
        f"<fieldset><legend>Share these verified attributes?</legend>{boxes}</fieldset>"
        if requested
        else "<p>The service asks only to sign you in.</p>"
    )
    form = (
        '<form method="post" action="/authorize/consent" data-testid="consent-form">'
        f"{_hidden('request_id', request_id)}{_hidden('persona', persona.id)}"
        f'<p>Signed in as <strong data-testid="signed-in-as">{escape(persona.id)}</strong>'
        f" ({escape(persona.sub)}).</p>{question}"
        '<button type="submit" name="action" value="allow" data-testid="consent-allow">'
        "Continue</button>"
        '<button type="submit" name="action" value="cancel" data-testid="consent-cancel">'
        "Cancel</button></form>"
    )
    return page("Share your information", form)


def error_page(title: str, message: str) -> str:
    """A refusal that must not be redirected (unregistered client or redirect URI)."""
    return page(title, f'<p data-testid="error">{escape(message)}</p>')


def signed_out_page() -> str:
    return page("Signed out", '<p data-testid="signed-out">You have signed out.</p>')
