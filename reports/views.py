from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from partners.permissions import partner_of, user_can_direct
from partners.selectors import project_current

from .selectors import dashboard_director, dashboard_partner, project_overview


@login_required
def home(request):
    """Show each role its dashboard: partner staff their work, directors the review queue, others the overview."""
    project = project_current(user=request.user)
    if project is None:
        return render(request, "reports/home.html", {"overview": None})
    today = timezone.localdate()
    partner = partner_of(request.user, project)
    if partner is not None:
        context = dashboard_partner(user=request.user, project=project, partner=partner, today=today)
        return render(request, "reports/dashboard_partner.html", {"project": project, **context})
    if user_can_direct(request.user, project):
        context = dashboard_director(user=request.user, project=project, today=today)
        return render(request, "reports/dashboard_director.html", {"project": project, **context})
    return overview(request)


@login_required
def overview(request):
    """Show the user's project at a glance."""
    project = project_current(user=request.user)
    overview = project_overview(project=project) if project else None
    return render(request, "reports/home.html", {"overview": overview})
