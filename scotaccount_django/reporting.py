"""What reaches logs and error reports: no forged log lines (SECURITY M4), no secrets (M5)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseBase, QueryDict
from django.views.debug import SafeExceptionReporterFilter

#: C0 and C1 control characters, DEL, and Unicode's line and paragraph separators.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: The app's loggers: this one and its children (``scotaccount_django.audit``).
APP_LOGGER = "scotaccount_django"
#: Where a WSGI server repeats the URL's query (gunicorn ``RAW_URI``, uWSGI ``REQUEST_URI``).
SECRET_META = ("QUERY_STRING", "RAW_URI", "REQUEST_URI", "HTTP_COOKIE")


def escape(text: str) -> str:
    """``text`` with each control character written as its Python escape (``\\n``)."""
    return CONTROL_CHARACTERS.sub(
        lambda match: match.group().encode("unicode_escape").decode("ascii"), text
    )


class EscapeControlCharacters(logging.Filter):
    """Escape a record's formatted message, whatever its arguments were; drop nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = escape(message)
        if escaped != message:
            record.msg, record.args = escaped, ()
        return True


def escape_app_logs() -> None:
    """Put the filter on every app logger (``AppConfig.ready``): a logger's filter
    sees only its own records, not its children's."""
    names = [name for name in logging.root.manager.loggerDict if name.startswith(f"{APP_LOGGER}.")]
    for name in (APP_LOGGER, *names):
        logger = logging.getLogger(name)
        if not any(isinstance(known, EscapeControlCharacters) for known in logger.filters):
            logger.addFilter(EscapeControlCharacters())


def scrub_request(request: HttpRequest) -> None:
    """Drop what error reports print: the query, the cookie header, the cookies' values.

    Cookie names stay: the session middleware, after the view, looks for its cookie.
    """
    for key in SECRET_META:
        request.META.pop(key, None)
    request.GET = QueryDict()
    request.COOKIES = dict.fromkeys(request.COOKIES, "")  # names kept, values gone


def scrubbed_before_reporting(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Scrub the view's request once it has answered or raised: Django reports a 5xx
    answer or an exception only after that, so the report never sees the secrets."""

    @wraps(view)
    def scrubbing_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        finally:
            scrub_request(request)

    return scrubbing_view


class ExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, and no query, raw URI, cookie value or CSRF secret in any report
    (``DEFAULT_EXCEPTION_REPORTER_FILTER``: docs/deployment.md)."""

    hidden_settings = re.compile(
        f"{SafeExceptionReporterFilter.hidden_settings.pattern}|CSRF|{'|'.join(SECRET_META)}",
        flags=re.IGNORECASE,
    )

    # Django prints request.GET, the URL and the request's repr without asking the
    # filter: the two hooks it calls first with the request scrub it.

    def get_traceback_frame_variables(self, request: HttpRequest, tb_frame: Any) -> Any:
        if request is not None:
            scrub_request(request)
        return super().get_traceback_frame_variables(request, tb_frame)

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        scrub_request(request)
        return super().get_safe_request_meta(request)
