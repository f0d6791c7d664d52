"""A small council service: apply for a resident parking permit."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "council/home.html")


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    identity = getattr(request.user, "scotaccount_identity", None)
    return render(request, "council/apply.html", {"identity": identity})
