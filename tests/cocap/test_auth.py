import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_offers_the_form_and_the_languages(client):
    content = client.get(reverse("login")).content.decode()
    assert 'name="username"' in content and 'name="password"' in content
    for code in ("IT", "ES", "PT", "EN"):
        assert f">{code}</button>" in content


def test_wrong_password_is_refused_with_a_message(client):
    UserFactory(username="maria")
    response = client.post(reverse("login"), {"username": "maria", "password": "not-her-password"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_leads_home_and_logout_back_to_login(client):
    UserFactory(username="maria")
    response = client.post(reverse("login"), {"username": "maria", "password": "a-long-test-password"})
    assert response.status_code == 302 and response.url == reverse("home")
    response = client.post(reverse("logout"))
    assert response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_language_switch_is_remembered(client):
    client.force_login(UserFactory())
    client.post(reverse("set_language"), {"language": "pt", "next": reverse("home")})
    assert 'lang="pt"' in client.get(reverse("home")).content.decode()
