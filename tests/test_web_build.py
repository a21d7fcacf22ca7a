"""The committed web client build (app/web/client/) is the build of the committed sources (web/).

`make web` rebuilds it and writes build-info.json with a hash of web/; the same hash is
computed here (web/scripts/build-info.mjs documents the algorithm), so editing the client
without rebuilding fails this test instead of shipping an old client.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from app.web.client_files import CLIENT_DIR

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
SKIPPED = {"node_modules", "dist"}  # installed packages; a build for another host


def _source_files(directory: Path) -> list[Path]:
    files: list[Path] = []
    for entry in sorted(directory.iterdir()):
        name = entry.name
        if name in SKIPPED or name.startswith(".") or name.endswith(".tsbuildinfo"):
            continue
        if entry.is_dir():
            files.extend(_source_files(entry))
        elif entry.is_file():
            files.append(entry)
    return files


def sources_hash(web_dir: Path = WEB_DIR) -> tuple[str, int]:
    paths = sorted(path.relative_to(web_dir).as_posix() for path in _source_files(web_dir))
    digest = hashlib.sha256()
    for path in paths:
        content = hashlib.sha256((web_dir / path).read_bytes()).hexdigest()
        digest.update(f"{path}\0{content}\n".encode())
    return digest.hexdigest(), len(paths)


def test_the_committed_client_is_built_from_the_current_sources() -> None:
    info_path = CLIENT_DIR / "build-info.json"
    assert info_path.is_file(), "app/web/client/build-info.json is missing: run `make web`"
    info = json.loads(info_path.read_text())
    expected, count = sources_hash()
    assert count > 10, f"web/ looks empty ({count} files)"
    assert info["sourcesHash"] == expected, (
        "app/web/client/ was built from other sources than web/ now holds: run `make web` "
        "and commit app/web/client/"
    )


def test_the_build_has_both_pages_and_their_assets() -> None:
    for page in ("index.html", "graphiql.html"):
        html = (CLIENT_DIR / page).read_text()
        assets = [part.split('"')[0] for part in html.split('src="./assets/')[1:]]
        assert assets, f"{page} loads no script from ./assets/"
        for asset in assets:
            assert (CLIENT_DIR / "assets" / asset).is_file(), f"{page} needs a missing {asset}"
