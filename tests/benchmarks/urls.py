"""URLs of the relying party under measurement, plus the pages every app shares."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from tests.benchmarks import floor


def untouched(request: HttpRequest) -> HttpResponse:
    """Reads neither the session nor the user: what the middleware may cost it is all overhead."""
    return HttpResponse("ok")


def reads_user(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"signed in: {request.user.is_authenticated}")


@login_required
def protected(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"hello {request.user.pk}")


urlpatterns = [
    path("untouched/", untouched),
    path("reads-user/", reads_user),
    path("signed-in/", reads_user),
    path("protected/", protected),
]
if settings.APP == "ours":
    urlpatterns.append(path("scotaccount/", include("scotaccount_django.urls")))
elif settings.APP == "mdo":
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
else:
    urlpatterns += [path("floor/login/", floor.login), path("floor/callback/", floor.callback)]
