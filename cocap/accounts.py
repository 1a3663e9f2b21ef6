"""Changing and resetting one's password: Django's views, with the checks the portal adds.

The old password is checked through authenticate(), so that django-axes counts wrong ones as failed logins
and the form cannot be used to guess a password; the two-factor middleware already stands in front of the
change page. A reset request answers the same whether the address is known or not, and is limited per
address and per client address, so that it can neither flood a mailbox nor list the users.
"""

import logging
import unicodedata

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.debug import sensitive_variables

from .ratelimit import limit_key, limits_allow

logger = logging.getLogger(__name__)


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, user, *args, request, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    @sensitive_variables("old_password")
    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        authenticated = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if authenticated is None or authenticated.pk != self.user.pk:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"

    def form_valid(self, form):
        """Send the link unless this address or this client asked too often within the hour."""
        # Compared as get_users() compares addresses, so that a change of case is the same address.
        address = unicodedata.normalize("NFKC", form.cleaned_data["email"]).casefold()
        client = get_client_ip_address(self.request) or "unknown"
        allowed = limits_allow(
            {
                limit_key("password-reset-address", address): settings.COCAP_PASSWORD_RESETS_PER_ADDRESS,
                limit_key("password-reset-client", client): settings.COCAP_PASSWORD_RESETS_PER_CLIENT,
            }
        )
        if not allowed:
            logger.warning("Password reset refused: too many requests from this client or for this address")
            return render(self.request, "registration/password_reset_limited.html", status=429)
        self.extra_email_context = {
            "site_url": settings.COCAP_SITE_URL,
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        }
        return super().form_valid(form)
