import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from cocap.views import server_error_or_unavailable
from tests.factories import ActionFactory, PartnerFactory, ProgressEntryFactory, UserFactory, observer_of, staff_of

pytestmark = pytest.mark.django_db
ITALIAN = {"HTTP_ACCEPT_LANGUAGE": "it"}


@pytest.fixture
def submitted():
    """A partner's entry waiting for review, and a colleague of its author."""
    partner = PartnerFactory()
    entry = ProgressEntryFactory(
        action=ActionFactory(activity__project=partner.project, responsible=partner),
        partner=partner,
        status="submitted",
    )
    return entry, staff_of(partner)


def test_partner_opening_the_edit_link_of_a_submitted_entry_is_told_why_and_where_to_go(client, submitted):
    entry, staff = submitted
    client.force_login(staff)
    list_url = reverse("activities:entry-list")
    response = client.get(
        reverse("activities:entry-edit", args=[entry.pk]), HTTP_REFERER=f"http://testserver{list_url}"
    )
    content = response.content.decode()
    assert response.status_code == 403
    assert "Only your organisation&#x27;s drafts and returned entries can be changed." in content
    assert "You cannot do this here" in content
    assert f'href="http://testserver{list_url}">Back to the previous page</a>' in content
    assert f'href="{reverse("home")}">Go to the home page</a>' in content
    assert "Log out" in content, "the portal's layout, with the user's menu"


def test_the_refusal_is_in_the_users_language(client, submitted):
    entry, staff = submitted
    client.force_login(staff)
    response = client.get(reverse("activities:entry-edit", args=[entry.pk]), **ITALIAN)
    content = response.content.decode()
    assert response.status_code == 403
    assert 'lang="it"' in content
    assert "Si possono modificare solo le bozze e le registrazioni restituite della propria" in content
    assert "Finanziato dall" in content, "the layout's footer, in Italian"


def test_observer_opening_the_review_queue_is_told_only_directors_review(client, submitted):
    entry, _staff = submitted
    client.force_login(observer_of(entry.partner.project))
    response = client.get(reverse("activities:review-queue"))
    assert response.status_code == 403
    assert "Only directors review progress." in response.content.decode()
    client.cookies["django_language"] = "it"
    response = client.get(reverse("activities:review-queue"))
    assert response.status_code == 403
    assert "Solo la direzione rivede l&#x27;avanzamento." in response.content.decode()


def test_a_link_back_to_another_site_is_not_offered(client, submitted):
    entry, staff = submitted
    client.force_login(staff)
    response = client.get(reverse("activities:entry-edit", args=[entry.pk]), HTTP_REFERER="https://evil.example/")
    assert response.status_code == 403
    assert "evil.example" not in response.content.decode()
    assert "Back to the previous page" not in response.content.decode()


def test_a_missing_page_is_a_styled_404_that_names_no_model(client, submitted):
    entry, staff = submitted
    client.force_login(staff)
    for url in ("/no-such-page/", reverse("activities:entry-detail", args=[entry.pk + 1000])):
        response = client.get(url)
        content = response.content.decode()
        assert response.status_code == 404, url
        assert "Page not found" in content and "not visible to your account" in content
        assert "ProgressEntry" not in content and "matches the given query" not in content
        assert f'href="{reverse("home")}">Go to the home page</a>' in content
        response = client.get(url, **ITALIAN)
        assert response.status_code == 404 and 'lang="it"' in response.content.decode()
        assert "ProgressEntry" not in response.content.decode(), "nor in Django's Italian wording"


def test_a_404_with_a_reason_for_the_user_shows_it(client):
    client.force_login(UserFactory())
    response = client.get(reverse("activities:activity-list"))
    assert response.status_code == 404
    assert "You are not a member of any project." in response.content.decode()


def test_an_anonymous_404_offers_the_home_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Log out" not in response.content.decode()


def test_a_server_error_shows_the_styled_500_page(client, submitted, monkeypatch):
    _entry, staff = submitted
    client.force_login(staff)
    client.raise_request_exception = False

    def broken(*args, **kwargs):
        raise RuntimeError("the list broke")

    monkeypatch.setattr("activities.views.progress_entry_list", broken)
    response = client.get(reverse("activities:entry-list"), **ITALIAN)
    content = response.content.decode()
    assert response.status_code == 500
    assert 'lang="it"' in content and "Finanziato dall" in content
    client.cookies["django_language"] = "en"
    content = client.get(reverse("activities:entry-list")).content.decode()
    assert "Something went wrong" in content and "nothing of it was saved" in content
    assert "the list broke" not in content
    assert 'name="language"' not in content, "no language form without a CSRF token"


def test_the_500_page_needs_neither_the_database_nor_a_user(django_assert_num_queries):
    request = RequestFactory().get("/")
    try:
        raise RuntimeError("broken")
    except RuntimeError:
        with django_assert_num_queries(0):
            response = server_error_or_unavailable(request)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_a_refused_form_gets_a_styled_page_not_a_bare_403(submitted):
    _entry, staff = submitted
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    browser.get(reverse("activities:entry-list"))
    response = browser.post(
        reverse("logout"), {"csrfmiddlewaretoken": "stale" * 8}, HTTP_REFERER="http://testserver/progress/"
    )
    content = response.content.decode()
    assert response.status_code == 403
    assert "The form could not be accepted" in content and "The page the form came from had expired" in content
    assert 'href="http://testserver/progress/">Back to the previous page</a>' in content
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x", "password": "y"}, **ITALIAN)
    content = response.content.decode()
    assert response.status_code == 403
    assert 'lang="it"' in content and "Finanziato dall" in content
    assert "cookie di sicurezza" in content and "CSRF" not in content
