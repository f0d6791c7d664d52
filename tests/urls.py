import uuid

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from scotaccount_django._internal import sessions
from scotaccount_django._internal.flows import Purpose, start_authorization


def signed_in(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"signed in: {request.user.is_authenticated}")


def step_up(request: HttpRequest) -> HttpResponse:
    """A minimal step-up: a non-sign-in flow started by the signed-in person."""
    return start_authorization(
        request,
        purpose=Purpose.ATTRIBUTES,
        scopes=["openid"],
        next_url="/signed-in/",
        initiating_sub=uuid.UUID(request.session[sessions.SUB]),
    )


urlpatterns = [
    path("admin/", admin.site.urls),
    path("scotaccount/", include("scotaccount_django.urls")),
    path("signed-in/", signed_in),
    path("step-up/", step_up),
]
