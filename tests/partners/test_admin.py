import re

import pytest
from django.urls import reverse

from partners.models import Membership
from tests.factories import MembershipFactory, PartnerFactory, ProjectFactory, UserFactory, director_of, staff_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _row(page, username):
    """The role and partner cells of a user's row in the user list."""
    row = re.search(rf">{username}</a></th>(.*?)</tr>", page, re.S).group(1)
    return (
        re.search(r'<td class="field-roles">([^<]*)</td>', row).group(1),
        re.search(r'<td class="field-partners">([^<]*)</td>', row).group(1),
    )


def test_the_user_list_shows_roles_and_partners(admin_client):
    project = ProjectFactory()
    sanjuan = PartnerFactory(project=project, organisation__short_name="San Juan")
    misiones = PartnerFactory(organisation__short_name="Misiones")  # in another project
    director_of(project, user__username="ada")
    staff = staff_of(sanjuan, user__username="bruno")
    staff_of(misiones, user=staff)
    observer = MembershipFactory(user__username="carla", project=project, partner=None, role=Membership.Role.OBSERVER)
    MembershipFactory(user=observer.user, project=ProjectFactory(), partner=None, role=Membership.Role.DIRECTOR)
    page = admin_client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert _row(page, "ada") == ("Director", "-")
    assert _row(page, "bruno") == ("Partner staff", "Misiones, San Juan")
    assert _row(page, "carla") == ("Director, Observer", "-")
    assert _row(page, "root") == ("-", "-")
    partner_staff = admin_client.get(reverse("admin:auth_user_changelist") + "?memberships__role__exact=partner_staff")
    assert [user.username for user in partner_staff.context["cl"].result_list] == ["bruno"]
    found = admin_client.get(reverse("admin:auth_user_changelist") + "?q=Misiones")
    assert [user.username for user in found.context["cl"].result_list] == ["bruno"]


def _add_users(project, partners, count):
    """Add `count` partner staff spread over the partners, and a director for every fifth of them."""
    for index in range(count):
        staff_of(partners[index % len(partners)])
        if index % 5 == 0:
            director_of(project)


def test_the_user_list_keeps_its_query_count_as_users_grow(admin_client, django_assert_num_queries):
    project = ProjectFactory()
    partners = [PartnerFactory(project=project) for _ in range(3)]
    _add_users(project, partners, 5)
    url = reverse("admin:auth_user_changelist")
    # Savepoint pair, session, user; the groups for their filter, the filtered and the total count, the page of
    # users, and their memberships with partners and organisations in one prefetch.
    with django_assert_num_queries(9) as first:
        admin_client.get(url)
    _add_users(project, partners, 45)
    with django_assert_num_queries(len(first.captured_queries)):
        response = admin_client.get(url)
    assert len(response.context["cl"].result_list) == 1 + 50 + 10
