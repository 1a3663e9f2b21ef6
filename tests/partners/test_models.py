import datetime

import pytest

from partners.models import Membership, Partner, Project, add_months
from tests.constraints import assert_db_refuses, assert_invalid
from tests.factories import MembershipFactory, OrganisationFactory, PartnerFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_project_period_runs_for_its_duration():
    project = ProjectFactory(start_date=datetime.date(2026, 1, 1), duration_months=36)
    assert project.end_date == datetime.date(2028, 12, 31)
    assert project.contains(datetime.date(2028, 12, 31))
    assert not project.contains(datetime.date(2029, 1, 1))
    assert not project.contains(datetime.date(2025, 12, 31))


def test_project_months_count_from_the_start_date():
    project = ProjectFactory(start_date=datetime.date(2026, 1, 15), duration_months=36)
    assert project.month_of(datetime.date(2026, 1, 14)) == 0
    assert project.month_of(datetime.date(2026, 1, 15)) == 1
    assert project.month_of(datetime.date(2026, 2, 14)) == 1
    assert project.month_of(datetime.date(2026, 2, 15)) == 2
    assert project.elapsed_months(datetime.date(2040, 1, 1)) == 36


def test_add_months_clamps_to_shorter_months():
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 28)


def test_project_needs_a_positive_duration():
    assert_db_refuses(lambda: ProjectFactory(duration_months=0))


def test_organisation_takes_part_once_per_project():
    partner = PartnerFactory()
    assert_db_refuses(lambda: Partner.objects.create(project=partner.project, organisation=partner.organisation))


def test_project_has_one_lead_partner():
    lead = PartnerFactory(role=Partner.Role.LEAD)
    assert_db_refuses(lambda: PartnerFactory(project=lead.project, role=Partner.Role.LEAD))
    PartnerFactory(role=Partner.Role.LEAD)  # another project may have its own lead


def test_currency_and_country_codes_are_validated():
    assert_invalid(
        PartnerFactory.build(currency="euro", project=ProjectFactory(), organisation=OrganisationFactory()), "currency"
    )
    assert_invalid(OrganisationFactory.build(country="Italy"), "country")


def test_partner_staff_need_a_partner():
    project = ProjectFactory()
    assert_db_refuses(
        lambda: Membership.objects.create(user=UserFactory(), project=project, role=Membership.Role.PARTNER_STAFF)
    )
    assert_invalid(
        Membership(user=UserFactory(), project=project, role=Membership.Role.PARTNER_STAFF),
        message="Partner staff need a partner",
    )


def test_directors_have_no_partner():
    partner = PartnerFactory()
    assert_db_refuses(
        lambda: Membership.objects.create(
            user=UserFactory(), project=partner.project, role=Membership.Role.DIRECTOR, partner=partner
        )
    )


def test_user_has_one_membership_per_project():
    membership = MembershipFactory()
    assert_db_refuses(
        lambda: Membership.objects.create(
            user=membership.user, project=membership.project, role=Membership.Role.OBSERVER
        )
    )


def test_membership_partner_must_be_of_the_same_project():
    other_partner = PartnerFactory()
    membership = Membership(
        user=UserFactory(), project=ProjectFactory(), role=Membership.Role.PARTNER_STAFF, partner=other_partner
    )
    assert_invalid(membership, "partner")


def test_projects_are_visible_to_members_and_administrators_only():
    project, other = ProjectFactory(), ProjectFactory()
    member = MembershipFactory(partner=PartnerFactory(project=project)).user
    assert list(Project.objects.visible_to(member)) == [project]
    assert set(Project.objects.visible_to(UserFactory(is_staff=True))) == {project, other}
    assert not Project.objects.visible_to(UserFactory()).exists()
