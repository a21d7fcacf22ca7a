"""The API server serves the web client at `/` and GraphiQL's local page at GET /graphql."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import ApiServer

ABSOLUTE_URL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def origin(server: ApiServer) -> str:
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def ide_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(store_uri, db_name, env={"GRAPHIQL": "true"})
    server.start(log_dir)
    yield server
    server.stop()


def scripts_of(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="\./(assets/[^"]+\.js)"', html)


async def test_the_client_page_is_served_at_the_root_revalidated_and_locked_down(
    http: httpx.AsyncClient, server_a: ApiServer
) -> None:
    reply = await http.get(f"{origin(server_a)}/")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert reply.headers["cache-control"] == "no-cache"
    csp = reply.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "connect-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert '<div id="root">' in reply.text
    assert not ABSOLUTE_URL.search(reply.text), "the page loads something from another origin"


async def test_hashed_assets_are_cached_for_a_year_and_gzipped(
    http: httpx.AsyncClient, server_a: ApiServer
) -> None:
    page = (await http.get(f"{origin(server_a)}/")).text
    scripts = scripts_of(page)
    assert scripts
    reply = await http.get(f"{origin(server_a)}/{scripts[0]}", headers={"Accept-Encoding": "gzip"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/javascript")
    assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert reply.headers["content-encoding"] == "gzip"
    assert reply.headers["vary"] == "Accept-Encoding"
    again = await http.get(
        f"{origin(server_a)}/{scripts[0]}", headers={"If-None-Match": reply.headers["etag"]}
    )
    assert again.status_code == 304
    plain = await http.get(f"{origin(server_a)}/{scripts[0]}", headers={"Accept-Encoding": ""})
    assert "content-encoding" not in plain.headers
    assert plain.content == reply.content  # httpx decoded the gzipped one
    for missing_path in (
        "/assets/no-such-file.js",
        "/assets/../client_files.py",
        "/assets/%2e%2e/client_files.py",
        "/assets/sub/dir.js",
    ):
        missing = await http.get(f"{origin(server_a)}{missing_path}")
        assert missing.status_code == 404, missing_path
        assert missing.headers["cache-control"] == "no-store"


async def test_the_api_keeps_its_own_headers(http: httpx.AsyncClient, server_a: ApiServer) -> None:
    reply = await http.post(server_a.url, json={"query": "{ __typename }"})
    assert reply.status_code == 200
    assert reply.headers["cache-control"] == "no-store"
    assert "content-security-policy" not in reply.headers


async def test_graphiql_is_the_local_build_not_a_cdn_page(
    http: httpx.AsyncClient, ide_server: ApiServer
) -> None:
    reply = await http.get(ide_server.url, headers={"Accept": "text/html"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert reply.headers["cache-control"] == "no-cache"
    assert "connect-src 'self'" in reply.headers["content-security-policy"]
    assert '<main id="graphiql">' in reply.text
    assert not ABSOLUTE_URL.search(reply.text), "GraphiQL loads something from another origin"
    for script in scripts_of(reply.text):
        # Served relative to /graphql, the page's ./assets/ resolve to /assets/.
        asset = await http.get(f"{origin(ide_server)}/{script}")
        assert asset.status_code == 200, script


async def test_the_patient_portal_page_does_not_load_graphiql(
    http: httpx.AsyncClient, server_a: ApiServer
) -> None:
    page = (await http.get(f"{origin(server_a)}/")).text
    for script in scripts_of(page):
        body = (await http.get(f"{origin(server_a)}/{script}")).text
        assert "monaco" not in body.lower(), f"{script} carries GraphiQL's editor"
