"""The layout issue 19 asked for stays true: CI runs only `make test`, so its checks live here.

Layers point down (import-linter's contract in `.importlinter`), no module in app/ over 300
lines, no import cycle among app's modules, and a README short enough to be a front door
from which every page in docs/ can be reached. No servers: each reads files or builds the
import graph.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote

import grimp

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
DOCS = ROOT / "docs"
README = ROOT / "README.md"

MAX_MODULE_LINES = 300
MAX_README_LINES = 250

# Inline links and images, `[text](target "title")`, and reference definitions, `[label]: target`.
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


def test_import_linter_keeps_the_layer_contract() -> None:
    """The same `lint-imports` that `make lint` runs, so a pytest-only CI still enforces it."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    contract_types = [
        config[section].get("type")
        for section in config
        if section.startswith("importlinter:contract:")
    ]
    assert "layers" in contract_types, f".importlinter has no layers contract: {contract_types}"

    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"lint-imports failed:\n{output}"
    summary = re.search(r"Contracts: (\d+) kept, (\d+) broken", output)
    assert summary is not None, f"lint-imports printed no summary:\n{output}"
    assert (int(summary[1]), int(summary[2])) == (len(contract_types), 0), output


def test_no_module_in_app_is_over_300_lines() -> None:
    too_long = {
        path.relative_to(ROOT).as_posix(): lines
        for path in sorted(APP.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


def test_no_import_cycle_in_app() -> None:
    """Imports inside functions and under `if TYPE_CHECKING:` count too: grimp sees both.

    A cycle held together by a deferred import (or by `strawberry.lazy` and a type-checking
    import) still ties the modules into one knot, which is what issue 19 asked to undo.
    """
    graph = grimp.build_graph(
        "app", include_external_packages=False, exclude_type_checking_imports=False, cache_dir=None
    )
    cycles = [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]
    cycles += [
        [module]
        for module in graph.modules
        if graph.direct_import_exists(importer=module, imported=module)
    ]
    assert not cycles, "import cycles in app/:\n" + "\n".join(
        _describe_cycle(graph, group) for group in cycles
    )


def test_readme_is_a_front_door_to_every_page_in_docs() -> None:
    readme_lines = len(README.read_text(encoding="utf-8").splitlines())
    assert readme_lines < MAX_README_LINES, f"README.md has {readme_lines} lines"

    reached = _reachable_from(README)
    unreached = sorted(
        path.relative_to(ROOT).as_posix()
        for path in DOCS.rglob("*")
        if path.is_file() and path.resolve() not in reached
    )
    assert not unreached, f"docs not linked from README.md or a page it links to: {unreached}"


def test_links_from_readme_and_docs_name_files_that_exist() -> None:
    """A reachable page is only reachable if the link to it is not dead."""
    dead = [
        f"{page.relative_to(ROOT).as_posix()} -> {os.path.relpath(target, ROOT)}"
        for page in [README, *sorted(DOCS.rglob("*.md"))]
        for target in _local_links(page)
        if not target.exists()
    ]
    assert not dead, f"links to files that do not exist: {dead}"


def _local_links(page: Path) -> Iterator[Path]:
    """The files a Markdown page links to inside the repository (anchors dropped)."""
    text = page.read_text(encoding="utf-8")
    # Code spans and fences are examples, not links.
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)
    for match in [*INLINE_LINK.finditer(text), *REFERENCE_LINK.finditer(text)]:
        target = match[1]
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        if path:
            yield (page.parent / path).resolve()


def _reachable_from(start: Path) -> set[Path]:
    """Every file reached by following links from `start` through the Markdown pages in docs/."""
    docs = DOCS.resolve()
    reached: set[Path] = set()
    to_read = [start.resolve()]
    while to_read:
        page = to_read.pop()
        for target in _local_links(page):
            if target in reached:
                continue
            reached.add(target)
            if target.suffix == ".md" and target.is_file() and target.is_relative_to(docs):
                to_read.append(target)
    return reached


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's strongly connected components, iterative so deep graphs need no recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def successors(module: str) -> Iterator[str]:
        yield from sorted(graph.find_modules_directly_imported_by(module))

    for root in sorted(graph.modules):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, successors(root))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, pending = work[-1]
            for imported in pending:
                if imported not in index:
                    index[imported] = low[imported] = len(index)
                    stack.append(imported)
                    on_stack.add(imported)
                    work.append((imported, successors(imported)))
                    break
                if imported in on_stack:
                    low[module] = min(low[module], index[imported])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    group: set[str] = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == module:
                            break
                    groups.append(group)
    return groups


def _describe_cycle(graph: grimp.ImportGraph, group: Iterable[str]) -> str:
    """The imports inside one knot, with their lines, so the message says where to cut."""
    members = set(group)
    lines = []
    for importer in sorted(members):
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            details = graph.get_import_details(importer=importer, imported=imported)
            where = ", ".join(f"line {detail['line_number']}" for detail in details)
            lines.append(f"  {importer} -> {imported} ({where})")
    return "\n".join(lines)
