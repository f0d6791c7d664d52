from __future__ import annotations

from django.urls import path, re_path

from scotaccount_django import views

app_name = "scotaccount"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("callback/", views.CallbackView.as_view(), name="callback"),
    path("attributes/", views.AttributesView.as_view(), name="attributes"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("logged-out/", views.LoggedOutView.as_view(), name="logged_out"),
    # ScotAccount's documented logout return: "&state=" glued on with no "?" (line 2412).
    re_path(
        r"^logged-out/&state=(?P<appended_state>[^/?#]{1,4096})$",
        views.LoggedOutView.as_view(),
    ),
    path("session-ended/", views.SessionEndedView.as_view(), name="session_ended"),
    path(
        "frontchannel-logout/",
        views.FrontChannelLogoutView.as_view(),
        name="frontchannel_logout",
    ),
]
