from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from cocap import accounts, two_factor
from cocap.views import health
from core import views as core_views
from reports import views as report_views

urlpatterns = [
    path("", report_views.home, name="home"),
    path("overview/", report_views.overview, name="overview"),
    path("notifications/", core_views.notification_list, name="notifications"),
    path("notifications/<int:pk>/", core_views.notification_open, name="notification-open"),
    path("", include("activities.urls")),
    path("", include("finance.urls")),
    path("", include("reports.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/setup/", two_factor.setup, name="two-factor-setup"),
    path("account/two-factor/verify/", two_factor.verify, name="two-factor-verify"),
    path("account/password/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("account/password/changed/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("account/password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("account/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "account/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "account/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # The language can be chosen before logging in, on the login page.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # The admin's own page would check the old password without django-axes: use the portal's.
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change")),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
]

handler403 = "cocap.views.permission_denied"
handler404 = "cocap.views.page_not_found"
handler500 = "cocap.views.server_error_or_unavailable"
