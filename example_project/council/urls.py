from django.contrib import admin
from django.urls import include, path

from council import views

council_patterns = (
    [
        path("", views.home, name="home"),
        path("apply/", views.apply, name="apply"),
    ],
    "council",
)

urlpatterns = [
    path("", include(council_patterns)),
    path("admin/", admin.site.urls),
    path("scotaccount/", include("scotaccount_django.urls")),
]
