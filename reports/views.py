from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from partners.selectors import project_current

from .selectors import project_overview


@login_required
def home(request):
    """Show the user's project at a glance."""
    project = project_current(user=request.user)
    overview = project_overview(project=project) if project else None
    return render(request, "reports/home.html", {"overview": overview})
