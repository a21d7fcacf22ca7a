"""The web client (web/, built into app/web/client/) served at `/`, and GraphiQL's page.

The build is package data, so `pip install` and `make run` serve it without Node.js. Hashed
assets are cached for a year; the two HTML pages are revalidated on every load so a new build
is picked up at once.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

CLIENT_DIR = Path(__file__).parent / "client"

# Everything the pages load comes from this origin: scripts and workers from /assets, GraphQL
# over HTTP and WebSocket from /graphql ('self' covers ws: and wss: of the same host). Inline
# styles are allowed because React style attributes and GraphiQL's editor (Monaco) set them.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=4)
def _page(name: str, mtime_ns: int) -> str:
    """The page's text, read again only when the file changes (a rebuild under `make run`)."""
    return (CLIENT_DIR / name).read_text(encoding="utf-8")


def page_response(name: str) -> Response:
    """index.html or graphiql.html with the page headers; 404 with a hint when not built."""
    path = CLIENT_DIR / name
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return PlainTextResponse(
            f"The web client is not built ({name} is missing): run `make web`.", status_code=404
        )
    return HTMLResponse(_page(name, mtime), headers=PAGE_HEADERS)


class HashedAssets(StaticFiles):
    """Vite names every asset by its content hash, so a cached copy never goes stale."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = IMMUTABLE
        return response


async def client_index(_: Request) -> Response:
    return page_response("index.html")


def client_routes() -> list[Route | Mount]:
    """`/` and `/assets/*`; gzip (level 6: quick on a busy core) for the text assets."""
    assets = HashedAssets(directory=CLIENT_DIR / "assets", check_dir=False)
    return [
        Route("/", client_index, methods=["GET", "HEAD"]),
        Mount("/assets", app=GZipMiddleware(assets, minimum_size=1024, compresslevel=6)),
    ]
