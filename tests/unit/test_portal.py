"""The portal at `/`: files of the build, the single-page fallback, and what it never takes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import ias.portal_files
from ias.app import create_app
from ias.secrets import resolve_secrets
from ias.settings import Settings

INDEX = "<!doctype html><html><body><div id=root></div><script src=/assets/app-1a2b3c.js></script>"
BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def build(tmp_path: Path) -> Path:
    folder = tmp_path / "portal"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "app-1a2b3c.js").write_text("console.log('portal')")
    (folder / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return folder


def _client(settings: Settings, process: str) -> TestClient:
    return TestClient(create_app(settings, process))


@pytest.fixture
def settings(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Settings:
    return resolve_secrets(Settings(home=tmp_path / "home"))


@pytest.fixture
def client(
    settings: Settings, build: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setattr(ias.portal_files, "PORTAL_DIR", build)
    with _client(settings, "all") as test_client:
        yield test_client


def test_root_serves_index_html_revalidated_with_page_headers(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"


def test_a_browser_navigation_to_an_app_route_gets_index_html(client: TestClient) -> None:
    for path in ("/login", "/orgs/9b2c/keys", "/invite/abc-DEF_123"):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 200, path
        assert response.text == INDEX


def test_head_of_an_app_route_has_no_body(client: TestClient) -> None:
    response = client.head("/orgs/9b2c", headers=BROWSER)
    assert response.status_code == 200
    assert response.content == b""


def test_hashed_assets_are_cached_for_a_year(client: TestClient) -> None:
    response = client.get("/assets/app-1a2b3c.js")
    assert response.status_code == 200
    assert response.text == "console.log('portal')"
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_other_files_of_the_build_are_revalidated(client: TestClient) -> None:
    response = client.get("/favicon.svg")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


def test_a_missing_asset_is_a_404_not_the_page(client: TestClient) -> None:
    response = client.get("/assets/app-gone.js", headers=BROWSER)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


def test_a_script_asking_an_unknown_path_gets_the_404_envelope(client: TestClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


def test_no_path_escapes_the_build_folder(client: TestClient) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        response = client.get(path, headers=BROWSER)
        assert "outside the build" not in response.text, path


@pytest.mark.parametrize(
    "path", ["/api/nope", "/api", "/v1/nope", "/health/x", "/ready/x", "/metrics/x", "/_engine/x"]
)
def test_platform_prefixes_are_never_the_page(client: TestClient, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.status_code in (401, 404), path
    assert response.headers["content-type"] == "application/json", path


def test_api_health_and_the_data_plane_still_answer(client: TestClient) -> None:
    assert client.get("/health", headers=BROWSER).json()["status"] == "ok"
    assert client.get("/api/me", headers=BROWSER).status_code == 401
    assert client.get("/api/openapi.json").json()["info"]["title"] == "IAS control plane"
    assert client.get("/v1/models", headers=BROWSER).status_code == 401


def test_other_methods_are_not_the_portal_s(client: TestClient) -> None:
    assert client.post("/", headers=BROWSER).status_code == 404
    assert client.post("/login", headers=BROWSER).status_code == 404
    assert client.post("/health", headers=BROWSER).status_code == 405
    assert client.put("/assets/app-1a2b3c.js").status_code == 404


def test_control_process_serves_the_portal_but_not_the_router_paths(
    settings: Settings, build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ias.portal_files, "PORTAL_DIR", build)
    client = _client(settings, "control")
    assert client.get("/").text == INDEX
    for path in ("/v1/models", "/_engine/v1/models"):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/json"


def test_router_process_has_no_portal(
    settings: Settings, build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ias.portal_files, "PORTAL_DIR", build)
    client = _client(settings, "router")
    assert client.get("/", headers=BROWSER).status_code == 404


def test_without_a_build_the_root_says_how_to_build_it(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ias.portal_files, "PORTAL_DIR", tmp_path / "never-built")
    with _client(settings, "all") as client:
        for path in ("/", "/orgs/9b2c"):
            response = client.get(path, headers=BROWSER)
            assert response.status_code == 503
            assert "make portal" in response.text
            assert response.headers["cache-control"] == "no-store"
        assert client.get("/health").status_code == 200
