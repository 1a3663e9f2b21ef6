"""The admin site's names."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("COCAP administration")
admin.site.site_title = _("COCAP administration")
