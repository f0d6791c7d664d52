from django.contrib import admin
from django.urls import include, path

from council import views

app_name = "council"

urlpatterns = [
    path("", views.home, name="home"),
    path("apply/", views.apply, name="apply"),
    path("admin/", admin.site.urls),
    path("scotaccount/", include("scotaccount_django.urls")),
]
