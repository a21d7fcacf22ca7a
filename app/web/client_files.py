"""The web client (web/, built into app/web/client/) served at `/`, and GraphiQL's page.

The build is package data, so `pip install` and `make run` serve it without Node.js. Hashed
assets are cached for a year (and gzipped once, in memory); the two HTML pages are revalidated
on every load so a new build is picked up at once.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

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


@dataclass(frozen=True)
class Asset:
    raw: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


# Every name Vite writes: a word, a dash, the content hash, an extension; no path separators.
ASSET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml", "font/")
_assets: dict[str, Asset] = {}


def _load_asset(name: str) -> Asset | None:
    path = CLIENT_DIR / "assets" / name
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    gzipped = None
    if media_type.startswith(COMPRESSIBLE):
        packed = gzip.compress(raw, compresslevel=9, mtime=0)
        gzipped = packed if len(packed) < len(raw) else None
    return Asset(raw, gzipped, media_type, f'"{hashlib.sha256(raw).hexdigest()[:32]}"')


async def client_asset(request: Request) -> Response:
    """A hashed asset, gzipped once and kept in memory.

    Hand-written instead of StaticFiles + GZipMiddleware: those compress again on every cold
    load (the React chunk each time a new browser opens the portal), and the build's files never
    change under their names, so one compression at the best level serves every later request.
    The cache holds only files of the build, so its size is the build's.
    """
    name = request.path_params["name"]
    if not ASSET_NAME.fullmatch(name):
        return PlainTextResponse("Not Found", status_code=404)
    asset = _assets.get(name)
    if asset is None:
        asset = await asyncio.to_thread(_load_asset, name)
        if asset is None:
            return PlainTextResponse("Not Found", status_code=404)
        _assets[name] = asset
    headers = {"Cache-Control": IMMUTABLE, "ETag": asset.etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.raw, media_type=asset.media_type, headers=headers)


async def client_index(_: Request) -> Response:
    return page_response("index.html")


def client_routes() -> list[Route]:
    """`/` and `/assets/<name>`."""
    return [
        Route("/", client_index, methods=["GET", "HEAD"]),
        Route("/assets/{name:path}", client_asset, methods=["GET", "HEAD"]),
    ]
