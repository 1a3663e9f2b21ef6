import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.cache import get_max_age

from activities.models import Evidence, ProgressEntry
from tests.factories import ActionFactory, PartnerFactory, ProgressEntryFactory, UserFactory, director_of, staff_of
from tests.files import PDF, upload

pytestmark = pytest.mark.django_db


def _directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


@pytest.fixture
def evidence():
    partner = PartnerFactory()
    entry = ProgressEntryFactory(action=ActionFactory(activity__project=partner.project, responsible=partner))
    evidence = Evidence.objects.create(
        entry=entry, original_name="a.pdf", content_type="application/pdf", size=len(PDF), uploaded_by=entry.author
    )
    evidence.file.save("a.pdf", upload("a.pdf").file)
    return evidence


def test_a_logged_in_users_page_and_download_are_not_stored_by_any_cache(client, evidence):
    client.force_login(director_of(evidence.entry.partner.project))
    for url in (reverse("home"), reverse("activities:evidence-download", args=[evidence.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= _directives(response), url


def test_admin_pages_are_not_stored_by_any_cache(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert {"private", "no-store"} <= _directives(response)


def test_public_pages_and_static_files_stay_cacheable(client):
    response = client.get(reverse("password_reset"))
    assert response.status_code == 200 and "no-store" not in _directives(response)
    client.force_login(UserFactory())
    response = client.get("/static/css/cocap.css")
    assert response.status_code == 200 and "no-store" not in _directives(response)
    assert get_max_age(response) is not None


def test_logging_in_is_not_stored_by_any_cache(client):
    UserFactory(username="maria")
    response = client.post(reverse("login"), {"username": "maria", "password": "a-long-test-password"})
    assert response.status_code == 302
    assert {"private", "no-store"} <= _directives(response)


@pytest.fixture
def staff_and_action():
    partner = PartnerFactory()
    return staff_of(partner), ActionFactory(activity__project=partner.project, responsible=partner)


def _entry_form(files):
    return {"date": "2026-03-01", "percent_complete": "10", "narrative": "Workshop held.", "evidence": files}


def test_too_many_files_in_one_form_are_refused_with_a_page_that_says_so(client, settings, staff_and_action):
    settings.COCAP_UPLOAD_MAX_BYTES = 10 * 1024
    settings.COCAP_UPLOAD_MAX_REQUEST_BYTES = 25 * 1024
    staff, action = staff_and_action
    client.force_login(staff)
    url = reverse("activities:entry-create", args=[action.pk])
    files = [SimpleUploadedFile(f"part{n}.pdf", PDF + b"0" * 9000, "application/pdf") for n in range(6)]
    response = client.post(url, _entry_form(files), HTTP_REFERER=f"http://testserver{url}")
    content = response.content.decode()
    assert response.status_code == 413
    assert "Upload too large" in content and "one form can send at most 25.0\xa0KB in all" in content
    assert "Each file may be at most 10.0\xa0KB" in content
    assert f'href="http://testserver{url}">Back to the previous page</a>' in content
    assert not ProgressEntry.objects.exists() and not Evidence.objects.exists()

    files = [SimpleUploadedFile(f"part{n}.pdf", PDF + b"0" * 9000, "application/pdf") for n in range(2)]
    response = client.post(url, _entry_form(files))
    assert response.status_code == 302
    assert Evidence.objects.count() == 2


def test_the_size_is_refused_before_the_body_is_read(client, settings, staff_and_action):
    settings.COCAP_UPLOAD_MAX_REQUEST_BYTES = 1000
    staff, action = staff_and_action
    client.force_login(staff)
    # The body is shorter than announced: reading it would fail, so only an answer that never reads it passes.
    response = client.post(
        reverse("activities:entry-create", args=[action.pk]),
        data=b"--x--",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH="50000000",
        HTTP_ACCEPT_LANGUAGE="it",
    )
    assert response.status_code == 413
    assert 'lang="it"' in response.content.decode()
    assert "47,7\xa0MB" in response.content.decode(), "the size written the Italian way"
