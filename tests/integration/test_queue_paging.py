"""Keyset paging of the coordinators' request list: every request once, in order, ties included."""

from __future__ import annotations

from datetime import date

import pytest

from guichet.requests import queue


def _walk_forward(db, territory_id, args, now, per_page):
    """Follow the "page suivante" cursors from the first page; the ids of every page."""
    pages = []
    filters = queue.Filters.from_args(args)
    while True:
        page = queue.list_requests(db, territory_id, filters, now=now, per_page=per_page)
        pages.append([row.id for row in page.rows])
        if page.next_after is None:
            return pages, page.total
        assert len(pages) < 50, "paging does not end"
        filters = queue.Filters.from_args({**args, "after": str(page.next_after)})


def _walk_backward(db, territory_id, args, now, per_page, last_page_first_id):
    """Follow the "page précédente" cursors back from the last page."""
    pages = []
    before = last_page_first_id
    while before is not None:
        page = queue.list_requests(db, territory_id, queue.Filters.from_args({**args, "before": str(before)}),
                                   now=now, per_page=per_page)
        pages.append([row.id for row in page.rows])
        before = page.previous_before
        assert len(pages) < 50, "paging does not end"
    return pages


@pytest.fixture
def crowd(factory):
    """23 requests that tie on every sort key but the id (same score, same wait, same names,
    same day), 7 others, 4 of them same-day care, and one request of another territory."""
    territory = factory.territory()
    same = []
    for n in range(23):
        patient = factory.patient(territory, birth_name="Martin", first_names="Léa",
                                  birth_date=date(1980, 1, 1 + n))
        same.append(factory.request(patient, waited_days=40))
    others = []
    for n in range(7):
        patient = factory.patient(territory, birth_name=f"Zola{n}", commune="26059", is_ald=n % 2 == 0)
        others.append(factory.request(patient, waited_days=n * 11, kind="snp" if n < 4 else "mt"))
    factory.request(factory.patient(factory.territory()), waited_days=40)
    return territory, same, others


@pytest.mark.parametrize("sort", list(queue.SORTS))
@pytest.mark.parametrize("per_page", [4, 7, 30])
def test_every_request_once_in_order_across_pages_with_ties(db, now, crowd, sort, per_page):
    territory, same, others = crowd
    args = {"sort": sort, "status": "all"}
    pages, total = _walk_forward(db, territory.id, args, now, per_page)
    seen = [i for page in pages for i in page]
    assert total == 30
    assert sorted(seen) == sorted(r.id for r in same + others)  # each once, none from elsewhere
    whole = queue.list_requests(db, territory.id, queue.Filters.from_args(args), now=now, per_page=100)
    assert seen == [row.id for row in whole.rows]  # the same order as one long page
    assert all(len(page) == per_page for page in pages[:-1])
    # and back from the last page: the same pages, the first one full
    back = _walk_backward(db, territory.id, args, now, per_page, pages[-1][0] if len(pages) > 1 else None)
    assert list(reversed(back)) == pages[:-1]


@pytest.mark.parametrize("args, expected", [
    ({"kind": "snp"}, lambda same, others: others[:4]),
    ({"commune": "26059", "sort": "oldest"}, lambda same, others: others),
    ({"q": "martin", "sort": "name"}, lambda same, others: same),
    ({"priority": "ald", "sort": "newest"}, lambda same, others: others[::2]),
])
def test_filters_are_kept_across_pages(db, now, crowd, args, expected):
    territory, same, others = crowd
    pages, total = _walk_forward(db, territory.id, {**args, "status": "all"}, now, per_page=3)
    seen = [i for page in pages for i in page]
    wanted = sorted(r.id for r in expected(same, others))
    assert sorted(seen) == wanted and total == len(wanted)


def test_a_request_changed_under_the_cursor_still_places_the_next_page(db, now, crowd):
    """The cursor is only an id: its request's current values place the next page, even when
    it no longer matches the filters (a coordinator handled it meanwhile)."""
    territory, same, _others = crowd
    args = {"sort": "oldest", "status": "waiting"}
    first = queue.list_requests(db, territory.id, queue.Filters.from_args(args), now=now, per_page=5)
    cursor = db.get(type(same[0]), first.next_after)
    cursor.status = "cancelled"
    db.flush()
    second = queue.list_requests(db, territory.id, queue.Filters.from_args({**args, "after": str(cursor.id)}),
                                 now=now, per_page=5)
    assert second.rows and not {r.id for r in second.rows} & {r.id for r in first.rows}


def test_export_ignores_the_page_cursor(db, now, crowd):
    territory, same, others = crowd
    filters = queue.Filters.from_args({"status": "all", "after": str(same[3].id)})
    lines = "".join(queue.csv_rows(db, territory.id, filters, now=now)).strip().splitlines()
    assert len(lines) == 1 + 30
