"""Benchmarks: this app against stock mozilla-django-oidc and a framework floor.

Not part of the test run (no ``test_*`` files here). Run ``make bench``, or
``python -m tests.benchmarks.run --help``; ``docs/performance.md`` explains the method.
"""

#: How the MDO set-up (``mdo.py``) differs from this app; printed with the figures.
DIFFERENCES = (
    "client authentication: private_key_jwt (ES256 assertion) instead of client_secret "
    "(get_token override)",
    "userinfo: none (ScotAccount has none); claims come from the ID token (get_userinfo)",
    "users keyed on sub (username = sub) instead of email (filter_users_by_claims, create_user)",
    "ID token: MDO checks signature, exp and nonce only (no iss/aud), and fetches the JWKS "
    "on every sign-in (one extra outbound request)",
    "each MDO request opens a new connection (module-level requests.get/post)",
    "no session-lifetime middleware, no flow cookie, no front-channel logout registry",
)

#: Where each app's sign-in starts.
LOGIN_PATHS = {
    "ours": "/scotaccount/login/",
    "mdo": "/oidc/authenticate/",
    "floor": "/floor/login/",
}
