"""Malformed-input sweep over every route of ``app.url_map``: odd input never gives a server error.

Each route is opened by its own audience with broken URL arguments, broken query strings and,
for forms, every field of the page's form set to a broken value (NUL and control characters,
huge and negative numbers, impossible dates, very long text, markup). The count printed
(-s) is the number of requests tried; none may answer 5xx.
"""

from __future__ import annotations

import re

import pytest

from tests.factories import login
from tests.web import route_access
from tests.web.test_access_matrix import routes, url_for_rule, world  # noqa: F401 - fixture

BROKEN_VALUES = ["\x00", "a\x07b", "9" * 30, "-1", "0", "2026-02-31", "31/02/2026", "x" * 5000,
                 "<script>alert(1)</script>", "1e309", "NaN", "é" * 300, "' OR 1=1 --", "/%0A/x"]
BROKEN_ARGUMENTS = ["%00", "9" * 25, "2147483648", "-1", "0", "x" * 600, "%C3%28", "..%2F..%2Fetc"]
FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
AUDIENCE_ROLE = {"public": "anonymous", "staff": "staff", "admin": "admin", "doctor": "doctor", "partner": "partner"}


def _broken_paths(rule, values):
    """The URL with each argument replaced in turn by broken values (the rule text, not the converter)."""
    good = url_for_rule(rule, values)
    for arg in rule.arguments:
        real = str(values[route_access.ARGUMENTS[arg]])
        for broken in BROKEN_ARGUMENTS:
            yield good.replace(f"/{real}", f"/{broken}", 1)


@pytest.mark.parametrize("audience", list(AUDIENCE_ROLE))
def test_no_route_fails_on_malformed_input(app, client, world, audience):  # noqa: F811 - fixture
    make, values = world
    role = AUDIENCE_ROLE[audience]
    if role != "anonymous":
        login(client, make(role))
    failures, tried = [], 0

    def send(method, path, **kwargs):
        nonlocal tried
        tried += 1
        response = client.open(path, method=method, **kwargs)
        if response.status_code >= 500:
            failures.append(f"{method} {path[:120]} {str(kwargs)[:120]}: {response.status_code}")
        return response

    for rule, method in routes(app):
        if rule.endpoint in route_access.LAST or route_access.audience(rule.rule, rule.endpoint) != audience:
            continue
        path = url_for_rule(rule, values)
        page = client.get(path) if "GET" in rule.methods else None
        fields = sorted(set(FIELD.findall(page.get_data(as_text=True)))) if page is not None else []
        fields = [f for f in fields if f != "csrf_token"] or ["q", "page", "status", "next", "id"]
        for broken_path in _broken_paths(rule, values):
            send(method, broken_path)
        for value in BROKEN_VALUES:
            data = {name: value for name in fields}
            if method == "GET":
                send("GET", path, query_string=data)
            else:
                send("POST", path, data=data)
    print(f"\nmalformed-input sweep, {audience}: {tried} requests, {len(failures)} server errors")
    assert tried > 50
    assert not failures, "\n".join(failures)
