"""axe-core (axe-playwright-python's bundled copy) run on a page in its current state; a serious
or critical violation fails the test, listed with the elements it names."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

BLOCKING = {"serious", "critical"}
_axe = Axe()
# label-content-name-mismatch is experimental (off by default) but issue 22 names it: on.
OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}


def _describe(violation: dict[str, Any]) -> str:
    targets = [
        f"{', '.join(map(str, node.get('target', [])))} {node.get('html', '')[:160]}"
        for node in violation["nodes"][:5]
    ]
    return f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])}): " + " | ".join(
        targets
    )


async def serious_violations(page: Page) -> list[str]:
    results = await _axe.run(page, options=OPTIONS)
    violations = results.response["violations"]
    return [_describe(v) for v in violations if v.get("impact") in BLOCKING]


async def assert_accessible(page: Page, state: str) -> None:
    found = await serious_violations(page)
    assert not found, f"axe on {state}:\n" + "\n".join(found)
