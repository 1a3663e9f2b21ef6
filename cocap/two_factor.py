"""Two-factor login (TOTP): required of directors and administrators, optional for partner staff.

Whether a user must give a code is decided once, at login, and kept in the session, so that pages pay no
query for it. Anyone with a confirmed authenticator gives a code at every login.
"""

import base64
import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from partners.models import Membership
from partners.permissions import user_is_administrator

SESSION_KEY = "cocap_two_factor"
# Reachable before the code is given: the code pages themselves, logging out and switching language.
OPEN_PATHS = ("/account/two-factor/", "/logout/", "/i18n/", "/health/", "/static/")


def user_must_use_two_factor(user) -> bool:
    """Directors and administrators must; so must anyone who has set up an authenticator."""
    if user_is_administrator(user):
        return True
    if Membership.objects.filter(user=user, role=Membership.Role.DIRECTOR).exists():
        return True
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@receiver(user_logged_in)
def _remember_two_factor_requirement(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = user_must_use_two_factor(user)


class TwoFactorMiddleware:
    """Send a logged-in user who owes a code to the code page before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.COCAP_TWO_FACTOR
            and user.is_authenticated
            and request.session.get(SESSION_KEY)
            and not user.is_verified()
            and not request.path.startswith(OPEN_PATHS)
        ):
            has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            target = reverse("two-factor-verify" if has_device else "two-factor-setup")
            return redirect(f"{target}?next={request.get_full_path()}")
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code from the authenticator app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_token(self):
        token = self.cleaned_data["token"].strip()
        # isdigit() alone takes "²" and other digits that are not 0-9.
        if not (token.isascii() and token.isdigit()):
            raise forms.ValidationError(_("The code is six digits."), code="not_digits")
        return token


def _not_throttled(form, devices) -> bool:
    """After a wrong code, the next try waits a little longer each time: say so rather than 'wrong code'."""
    for device in devices:
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            form.add_error("token", _("Too many wrong codes: wait a few seconds, then enter the current code."))
            return False
    return True


def _next(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if allowed and target.startswith("/") else reverse("home")


def _qr_data_uri(url: str) -> str:
    out = io.BytesIO()
    write_qrcode_image(url, out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def setup(request):
    """Pair an authenticator app: scan the QR code (or type the key), then confirm with a first code.

    Whoever already has one must first log in with it: a stolen password must not be enough to pair
    the thief's phone.
    """
    already = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    if already and not request.user.is_verified():
        return redirect(f"{reverse('two-factor-verify')}?next={reverse('two-factor-setup')}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name=_("Authenticator app"), confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _not_throttled(form, [device]):
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            request.session[SESSION_KEY] = True
            messages.success(request, _("Two-factor login is on: you will be asked for a code at every login."))
            return redirect(_next(request))
        form.add_error("token", _("This code does not match. Check the clock of your phone and try the next code."))
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(device.config_url),
            "secret": base64.b32encode(device.bin_key).decode(),
            "next": _next(request),
            "already": already,
        },
    )


def verify(request):
    """Ask for the current code of the user's authenticator."""
    form = TokenForm(request.POST or None)
    devices = TOTPDevice.objects.filter(user=request.user, confirmed=True)
    if request.method == "POST" and form.is_valid() and _not_throttled(form, devices):
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("token", _("This code is not valid or has already been used. Wait for the next one."))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)})
