"""Cursor paging, shaped as the contract's connections."""

from __future__ import annotations

from typing import Any

import strawberry

from app.domain.paging import Page


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def page_info(page: Page[Any]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next_page,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )
