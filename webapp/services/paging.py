"""One page of a query's rows, with the counts a pager needs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select

from webapp.extensions import db


@dataclass
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(query: Select, page: int, per_page: int | None = None) -> Page:
    """Page `page` (1-based, clamped to the last page) of `query`, PAGE_SIZE rows unless `per_page`."""
    per_page = per_page or int(current_app.config["PAGE_SIZE"])
    total = int(db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, pages, total)
