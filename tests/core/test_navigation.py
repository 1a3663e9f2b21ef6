import datetime

import pytest
from django.urls import reverse

from cocap_data.seed import cocap_load
from tests.factories import director_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "current"),
    [
        (reverse("activities:activity-list"), "/activities/"),
        (reverse("activities:activity-detail", kwargs={"number": 1}), "/activities/"),
        (reverse("activities:review-queue"), "/progress/"),
        (reverse("finance:budget"), "/finance/"),
        (reverse("reports:report-list"), "/sal/"),
    ],
)
def test_the_navigation_marks_the_current_page_and_offers_a_skip_link(client, url, current):
    project = cocap_load(start_date=datetime.date(2026, 1, 1))
    client.force_login(director_of(project))

    content = client.get(url).content.decode()

    assert content.count('aria-current="page"') >= 1
    assert f'href="{current}" aria-current="page"' in content
    assert content.count('" aria-current="page">') == 1 + content.count('class="breadcrumb-item active"')
    assert '<a class="visually-hidden-focusable skip-link" href="#main">Skip to main content</a>' in content
    assert '<main class="container" id="main" tabindex="-1">' in content
