from django.contrib import admin
from django.urls import include, path

from council import metrics, views

council_patterns = (
    [
        path("", views.home, name="home"),
        path("apply/", views.apply, name="apply"),
        path("permit/", views.permit, name="permit"),
        path("identity/", views.ConfirmIdentity.as_view(), name="identity"),
        path("your-details/", views.your_details, name="your_details"),
    ],
    "council",
)

urlpatterns = [
    path("", include(council_patterns)),
    path("admin/", admin.site.urls),
    path("scotaccount/", include("scotaccount_django.urls")),
]
if metrics.available:
    urlpatterns.append(path("metrics", metrics.serve, name="metrics"))
