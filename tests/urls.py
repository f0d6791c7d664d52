from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def signed_in(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"signed in: {request.user.is_authenticated}")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("scotaccount/", include("scotaccount_django.urls")),
    path("signed-in/", signed_in),
]
