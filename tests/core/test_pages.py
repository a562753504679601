import pytest
from django.db import DatabaseError
from django.test import Client


@pytest.mark.django_db
def test_home_page_offers_the_personal_cabinet(client: Client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert "Личный кабинет" in html
    assert 'href="#main"' in html  # skip link
    assert "<main" in html and "<header" in html and "<footer" in html


@pytest.mark.django_db
def test_assets_are_served_by_the_portal_itself(client: Client):
    html = client.get("/").content.decode()
    assert "//cdn" not in html and "https://" not in html.split("<body")[0]
    assert "/static/portal/portal.css" in html


@pytest.mark.django_db
def test_unknown_page_is_a_russian_404(client: Client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Страница не найдена" in response.content.decode()


@pytest.mark.django_db
def test_healthz_reports_database(client: Client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_healthz_says_503_when_database_fails(client: Client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(*args, **kwargs):
        raise DatabaseError("down")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


@pytest.mark.django_db
def test_server_error_page_is_in_russian(client: Client, settings, monkeypatch):

    def boom(request):
        raise RuntimeError("boom")

    client.raise_request_exception = False
    settings.DEBUG = False
    from django.urls import path

    import portal.urls

    monkeypatch.setattr(portal.urls, "urlpatterns", [*portal.urls.urlpatterns, path("boom/", boom)])
    from django.urls import clear_url_caches

    clear_url_caches()
    response = client.get("/boom/")
    clear_url_caches()
    assert response.status_code == 500
    assert "Временная ошибка" in response.content.decode()


@pytest.mark.django_db
def test_post_to_a_read_only_page_is_refused(client: Client):
    assert client.post("/").status_code == 405


@pytest.mark.django_db
def test_stylesheet_is_served(client: Client):
    response = client.get("/static/portal/portal.css")
    assert response.status_code == 200
    assert "--brand" in b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
