"""The simulator's control API, for tests in any language: ``/config`` and ``/journal``.

As the GOV.UK One Login simulator does, ``POST /config`` changes at run time what the fake
does next: the client's registration, the person it signs in as (or the interactive pages),
strict or lax checking, the faults armed, the documented variants and a staged signing-key
rotation. ``GET /journal``
shows what the relying party sent. Control requests are never journaled themselves.

A request body with an unknown key, fault or persona is refused with a 400 naming it, never
ignored: a typo must not quietly test the happy path.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from typing import Any

import jwt

from scotaccount_django_testing.fake.assertions import load_client_keys
from scotaccount_django_testing.fake.keys import KeySet, KeyState
from scotaccount_django_testing.fake.messages import Request, Response, json_response
from scotaccount_django_testing.fake.personas import PERSONAS
from scotaccount_django_testing.fake.scenarios import FAULTS, ONE_LOGIN_ERRORS, one_login_fault
from scotaccount_django_testing.fake.state import ProviderState, Registration
from scotaccount_django_testing.fake.variants import VARIANTS, check_variants

#: Stages of a key rotation, applied to one issuer's keys: publish a new key beside the
#: active one, sign with it (the old one stays published), then stop publishing old keys.
KEY_STAGES = ("publish", "use", "remove_old")

#: What ``POST /config`` accepts, each key optional, with what it does.
CONFIG_KEYS: dict[str, str] = {
    "client": 'the registration, as One Login\'s clientConfiguration: {"client_id", '
    '"public_keys" (PEM or JWKS texts), "redirect_uris", "post_logout_redirect_uris"}, '
    "each optional",
    "persona": "sign in as this persona without pages (non-interactive); null: interactive",
    "mode": '"strict" (every documented check) or "lax" (the mock service\'s checks)',
    "faults": "faults to arm, replacing those armed: a list (each always) or "
    '{"name": times} (times null: always)',
    "errors": 'One Login error names by group, e.g. {"id_token": ["INVALID_ISS"]}, '
    'armed always, like "faults" (and together with them)',
    "variants": "documented variants switched on, replacing the current set",
    "signing_keys": 'a key-rotation stage for the sign-in issuer: "publish", "use" or '
    '"remove_old"',
    "attributes_keys": "the same for the attributes issuer (claimsToken)",
}


class ConfigError(ValueError):
    """Raised for a ``/config`` body this fake cannot apply; the message says why."""


def describe(state: ProviderState) -> dict[str, Any]:
    """The current configuration, as ``GET /config`` answers it."""
    registration = state.registration
    return {
        "client_id": registration.client_id,
        "public_keys": [{"kid": key.kid, "algorithm": key.algorithm} for key in registration.keys],
        "redirect_uris": list(registration.redirect_uris),
        "post_logout_redirect_uris": list(registration.post_logout_redirect_uris),
        "persona": state.auto_approve,
        "interactive": state.auto_approve is None,
        "mode": state.mode,
        "faults": state.scenarios.active(),
        "variants": sorted(state.variants),
        "signing_keys": _key_states(state.signing_keys),
        "attributes_keys": _key_states(state.attributes_keys),
        "available": {
            "personas": sorted(PERSONAS),
            "faults": sorted(FAULTS),
            "errors": {group: sorted(names) for group, names in ONE_LOGIN_ERRORS.items()},
            "variants": sorted(VARIANTS),
            "config": CONFIG_KEYS,
        },
    }


def _key_states(keys: KeySet) -> list[dict[str, str]]:
    return [{"kid": kid, "state": keys.state_of(kid).value} for kid in keys.kids]


def _known_object(value: Any, known: list[str], what: str, names: str) -> None:
    """``ConfigError`` unless ``value`` is a JSON object holding only ``known`` keys."""
    if not isinstance(value, dict):
        raise ConfigError(f"{what} must be a JSON object.")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ConfigError(f"Unknown {names} {unknown}; known: {known}.")


def apply(state: ProviderState, body: Any) -> None:
    """Apply a ``/config`` body; ``ConfigError`` before anything changes if any part is bad."""
    _known_object(body, sorted(CONFIG_KEYS), "The body", "keys")
    changes: list[Callable[[], None]] = []
    if "client" in body:
        registration = _registration(state.registration, body["client"])
        changes.append(lambda: setattr(state, "registration", registration))
    if "persona" in body:
        persona = body["persona"]
        if persona is not None and persona not in PERSONAS:
            raise ConfigError(f"Unknown persona {persona!r}; choose from {sorted(PERSONAS)}.")
        changes.append(lambda: setattr(state, "auto_approve", persona))
    if "mode" in body:
        mode = body["mode"]
        if mode not in ("strict", "lax"):
            raise ConfigError('"mode" is "strict" or "lax".')
        changes.append(lambda: setattr(state, "mode", mode))
    if "faults" in body or "errors" in body:
        armed = _faults(body.get("faults", [])) | _errors(body.get("errors", {}))
        changes.append(lambda: _arm(state, armed))
    if "variants" in body:
        variants = _variants(body["variants"])
        changes.append(lambda: setattr(state, "variants", variants))
    for field, keys in (
        ("signing_keys", state.signing_keys),
        ("attributes_keys", state.attributes_keys),
    ):
        if field in body:
            stage = body[field]
            if stage not in KEY_STAGES:
                raise ConfigError(f'"{field}" is one of {list(KEY_STAGES)}.')
            if stage == "use" and _newest_added(keys) is None:
                raise ConfigError(f'"{field}": "publish" a new key before you "use" it.')
            changes.append(functools.partial(rotate, keys, stage))
    for change in changes:
        change()


#: What ``client`` may hold; ``public_keys`` replaces the registration's ``keys``.
CLIENT_FIELDS = ("client_id", "public_keys", "redirect_uris", "post_logout_redirect_uris")


def _registration(current: Registration, value: Any) -> Registration:
    """A new registration: ``current`` with the fields ``value`` names replaced."""
    _known_object(value, list(CLIENT_FIELDS), '"client"', '"client" fields')
    client_id = value.get("client_id", current.client_id)
    if not isinstance(client_id, str) or not client_id:
        raise ConfigError('"client_id" is a non-empty string.')
    uris = {}
    for field in ("redirect_uris", "post_logout_redirect_uris"):
        uris[field] = value.get(field, list(getattr(current, field)))
        if not isinstance(uris[field], list) or not all(isinstance(u, str) for u in uris[field]):
            raise ConfigError(f'"{field}" is a list of URIs.')
    keys = current.keys
    if "public_keys" in value:
        if not isinstance(value["public_keys"], list):
            raise ConfigError('"public_keys" is a list of PEM or JWKS texts.')
        try:
            keys = load_client_keys(value["public_keys"])
        except (ValueError, TypeError, jwt.PyJWTError) as error:
            raise ConfigError(f'"public_keys": {error}') from None
    return Registration(
        client_id=client_id,
        keys=keys,
        redirect_uris=tuple(uris["redirect_uris"]),
        post_logout_redirect_uris=tuple(uris["post_logout_redirect_uris"]),
    )


def _faults(value: Any) -> dict[str, int | None]:
    if isinstance(value, list):
        value = dict.fromkeys(value)
    if not isinstance(value, dict):
        raise ConfigError('"faults" is a list of names or an object of name: times.')
    unknown = sorted(str(name) for name in value if name not in FAULTS)
    if unknown:
        raise ConfigError(f"Unknown faults {unknown}; GET /config lists them.")
    for name, times in value.items():
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ConfigError(f'"faults": {name} fires a positive whole number of times, or null.')
    return dict(value)


def _errors(value: Any) -> dict[str, int | None]:
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise ConfigError('"errors" is an object of group: [One Login error names].')
    try:
        return {
            one_login_fault(group, name): None for group, names in value.items() for name in names
        }
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _variants(value: Any) -> frozenset[str]:
    if not isinstance(value, list):
        raise ConfigError('"variants" is a list of names.')
    try:
        return check_variants(value)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _arm(state: ProviderState, armed: dict[str, int | None]) -> None:
    state.scenarios.clear()
    for name, times in armed.items():
        state.scenarios.add(name, times)


def _newest_added(keys: KeySet) -> str | None:
    added = [kid for kid in keys.kids if keys.state_of(kid) is KeyState.ADDED]
    return added[-1] if added else None


def rotate(keys: KeySet, stage: str) -> None:
    """One stage of a staged rotation (One Login's publish-then-use, and the clean-up)."""
    if stage == "publish":
        if _newest_added(keys) is None:
            keys.add()
    elif stage == "use":
        kid = _newest_added(keys)
        if kid is not None:
            keys.activate(kid)
    else:
        for kid in keys.kids:
            if keys.state_of(kid) is KeyState.RETIRED:
                keys.remove(kid)


def journal(state: ProviderState, request: Request) -> Response:
    """``GET /journal[?endpoint=token]``: every request received, oldest first, as JSON."""
    endpoint = request.arg("endpoint")
    entries = [
        dataclasses.asdict(entry)
        for entry in state.journal
        if endpoint is None or entry.endpoint == endpoint
    ]
    return Response(
        200,
        json.dumps(entries, default=str).encode(),
        [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
    )


def clear_journal(state: ProviderState, request: Request) -> Response:
    """``DELETE /journal``: start a test with an empty journal."""
    state.journal.clear()
    return Response(204)


def get_config(state: ProviderState, request: Request) -> Response:
    return json_response(200, describe(state))


def post_config(state: ProviderState, request: Request) -> Response:
    """``POST /config`` with a JSON body; answers the new configuration, or 400 and why."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return json_response(400, {"error": "invalid_config", "error_description": "Not JSON."})
    try:
        apply(state, body)
    except ConfigError as error:
        return json_response(400, {"error": "invalid_config", "error_description": str(error)})
    return json_response(200, describe(state))


ControlHandler = Callable[[ProviderState, Request], Response]

#: Served on the sign-in origin beside ScotAccount's own endpoints.
CONTROL_ROUTES: dict[tuple[str, str], ControlHandler] = {
    ("GET", "/config"): get_config,
    ("POST", "/config"): post_config,
    ("GET", "/journal"): journal,
    ("DELETE", "/journal"): clear_journal,
}
