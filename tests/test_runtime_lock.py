"""The image installs requirements-runtime.lock alone (Dockerfile): every third-party module
app/ imports must come from a distribution pinned there. httpx, which delivers webhooks, was
once pinned for the tests only, and the image's server could not start."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _pinned(lock: Path) -> set[str]:
    return {
        _name(line.split("==")[0].split("[")[0])
        for line in lock.read_text().splitlines()
        if "==" in line and not line.startswith((" ", "#", "-"))
    }


def _imported_by_app() -> set[str]:
    """Top-level third-party modules imported anywhere in app/, at any depth."""
    found: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "app"}


def test_every_module_the_app_imports_is_pinned_for_the_image() -> None:
    pinned = _pinned(ROOT / "requirements-runtime.lock")
    providers = packages_distributions()
    imported = _imported_by_app()
    assert {"httpx", "pymongo", "strawberry"} <= imported  # the scan sees the app's imports
    missing = {
        module: sorted(providers.get(module, []))
        for module in sorted(imported)
        if not {_name(d) for d in providers.get(module, [])} & pinned
    }
    assert not missing, f"imported by app/ but not in requirements-runtime.lock: {missing}"


def test_httpcore_finds_sniffio_in_the_image() -> None:
    """Without it, each webhook request pays failed imports (see pyproject.toml)."""
    assert "sniffio" in _pinned(ROOT / "requirements-runtime.lock")
