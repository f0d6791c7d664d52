"""The fake's HTML: plain forms that work without JavaScript, with stable ``data-testid`` hooks.

Every page says loudly that it is a fake, so nobody mistakes it for ScotAccount.
Pages are written for people (names and labels, never persona ids, ``sub`` or
scope names) and meet WCAG 2.2 AA: a ``main`` landmark, labelled controls,
visible focus, and no horizontal scrolling at 320 CSS pixels.
"""

from __future__ import annotations

from html import escape

from scotaccount_django_testing.fake.personas import SCOPE_LABELS, Persona

_STYLE = (
    "*{box-sizing:border-box}"
    "body{font-family:Arial,Helvetica,sans-serif;font-size:1.1875rem;line-height:1.5;"
    "color:#0b0c0c;max-width:40rem;margin:0 auto;padding:0 1rem 2rem;overflow-wrap:anywhere}"
    ".fake{background:#ffdd00;border:4px solid #0b0c0c;padding:.5rem 1rem;font-weight:bold;"
    "margin:1rem 0}"
    "h1{font-size:2rem;line-height:1.25;margin:1.5rem 0 1rem}"
    "fieldset{border:0;padding:0;margin:0 0 1rem}legend{font-weight:bold;margin-bottom:.5rem}"
    ".choice{display:flex;gap:.75rem;align-items:flex-start;margin:0 0 1rem}"
    ".choice input{flex:none;width:1.5rem;height:1.5rem;margin:.1rem 0 0}"
    ".hint{display:block;color:#505a5f}"
    "button{font:inherit;font-weight:bold;padding:.6rem 1.25rem;margin:0 1rem 1rem 0;"
    "border:2px solid #0065bd;cursor:pointer;background:#0065bd;color:#fff}"
    "button.secondary{background:#fff;color:#0065bd}"
    "a{color:#0065bd}"
    ":focus{outline:3px solid #0b0c0c;outline-offset:0;box-shadow:0 0 0 6px #ffdd00}"
)


def page(title: str, body: str) -> str:
    """Wrap ``body`` (already escaped) in a page carrying the fake banner."""
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} - FAKE ScotAccount</title><style>{_STYLE}</style></head><body>"
        '<p class="fake" data-testid="fake-banner">FAKE ScotAccount for testing only.'
        " This is not the real ScotAccount; never enter real personal data here.</p>"
        f"<main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def full_name(persona: Persona) -> str:
    return f"{persona.given_name} {persona.family_name}"


def sign_in_page(request_id: str, personas: list[Persona], default: str) -> str:
    """Choose who to sign in as (ScotAccount would ask for an email and password)."""
    choices = "".join(
        f'<div class="choice"><input type="radio" name="persona" value="{escape(persona.id)}"'
        f' id="persona-{escape(persona.id)}" data-testid="persona-{escape(persona.id)}"'
        f' aria-describedby="persona-{escape(persona.id)}-hint"'
        f"{' checked' if persona.id == default else ''}>"
        f'<label for="persona-{escape(persona.id)}"><strong>{escape(full_name(persona))}</strong>'
        f'<span class="hint" id="persona-{escape(persona.id)}-hint">'
        f"{escape(persona.summary)}</span></label></div>"
        for persona in personas
    )
    form = (
        '<form method="post" action="/authorize/sign-in" data-testid="sign-in-form">'
        f"{_hidden('request_id', request_id)}"
        f"<fieldset><legend>Who do you want to sign in as?</legend>{choices}</fieldset>"
        '<button type="submit" data-testid="sign-in-submit">Sign in</button></form>'
    )
    return page("Sign in to ScotAccount", form)


def consent_page(request_id: str, persona: Persona, requested: list[str]) -> str:
    """Tick which requested details to share; Cancel returns ``access_denied``."""
    boxes = "".join(
        f'<div class="choice"><input type="checkbox" name="release" value="{escape(scope)}"'
        f' id="release-{escape(scope)}" data-testid="release-{escape(scope)}" checked>'
        f'<label for="release-{escape(scope)}">{escape(SCOPE_LABELS.get(scope, scope))}'
        + (
            ""
            if persona.has(scope)
            else '<span class="hint">ScotAccount does not hold this for you yet.</span>'
        )
        + "</label></div>"
        for scope in requested
    )
    question = (
        "<fieldset><legend>The service you came from is asking for these details."
        f" Which do you want to share?</legend>{boxes}</fieldset>"
        if requested
        else "<p>The service you came from is asking only to sign you in.</p>"
    )
    form = (
        '<form method="post" action="/authorize/consent" data-testid="consent-form">'
        f"{_hidden('request_id', request_id)}"
        f'<p>You are signed in to ScotAccount as <strong data-testid="signed-in-as">'
        f"{escape(full_name(persona))}</strong>.</p>{question}"
        '<button type="submit" name="action" value="allow" data-testid="consent-allow">'
        "Continue</button>"
        '<button type="submit" name="action" value="cancel" class="secondary"'
        ' data-testid="consent-cancel">Cancel and go back</button></form>'
    )
    return page("Share your details", form)


def error_page(title: str, message: str) -> str:
    """A refusal that must not be redirected (unregistered client or redirect URI)."""
    return page(title, f'<p data-testid="error">{escape(message)}</p>')


def signed_out_page() -> str:
    return page("Signed out", '<p data-testid="signed-out">You have signed out.</p>')
