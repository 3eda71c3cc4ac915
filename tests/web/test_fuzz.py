"""Requests generated from the OpenAPI schema (Schemathesis): no server errors; numbers too big answer 422.

The published schema (/api/v1/openapi.json) holds the API only; the pages' routes are added to a
copy of it here, so the pages are fuzzed too. Sent as a logged-in admin with an API token and
the CSRF token, so requests get past the login and into the routes. Bounded: a few cases per
operation, derandomized, so a run takes about a minute and finds the same things each time.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlmodel import Session

from config import clock
from models.accounts import create_token
from tests.web.conftest import CSRF, login_cookie
from web.deps import DB_INT_MAX

EXAMPLES_PER_OPERATION = 10
# Routes that would end the fuzzer's own login, or check passwords (argon2, a quarter second each).
SKIPPED = {("POST", "/logout"), ("POST", "/login"), ("POST", "/password")}


def _schema_with_pages(app: FastAPI) -> dict[str, Any]:
    routes = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and (sorted(route.methods)[0], route.path) not in SKIPPED:
            shown = copy.copy(route)
            shown.include_in_schema = True
            routes.append(shown)
    return get_openapi(title="duban (pages and API)", version="1", routes=routes)


@pytest.fixture
def credentials(app, world) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    admin = world.people["admin"]  # may do everything, so every route gets past its role check
    with Session(app.state.engine) as session:
        token = create_token(session, admin, clock.now())
        session.commit()
    return {"headers": {"Authorization": f"Bearer {token}", "X-CSRF-Token": CSRF},
            "cookies": {"duban_session": login_cookie(app, admin)}}


def test_generated_requests_cause_no_server_error(app, credentials):
    schema = schemathesis.openapi.from_dict(_schema_with_pages(app))
    schema.app = app
    # Revoking runs last, the pages' after the API's: token 1, which a generated id soon names,
    # is the fuzzer's own.
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: ("revoke" in op.path) * 2 + (op.method == "delete"))
    assert len(operations) > 30  # the pages are in, not just the API
    failures: list[str] = []
    cases = 0
    codes: list[int] = []  # each answer's status, to show the requests got past the login

    def fuzz(operation: Any) -> None:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            nonlocal cases
            cases += 1
            response = case.call(headers=credentials["headers"], cookies=credentials["cookies"])
            codes.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{operation.label} {case.path_parameters} {case.query} {case.body!r:.200}: "
                                f"{response.status_code}")

        run()

    for operation in operations:
        fuzz(operation)
    assert failures == []
    assert cases >= 200
    assert codes.count(200) >= 50 and codes.count(401) + codes.count(403) < cases // 4


def _integer_parameters(schema: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(method, path, where, name) of every whole-number parameter or form field in the schema."""
    found = []

    def is_integer(spec: dict[str, Any]) -> bool:
        options = spec.get("anyOf", [spec])
        return any(o.get("type") == "integer" or o.get("items", {}).get("type") == "integer" for o in options)

    components = schema.get("components", {}).get("schemas", {})
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                if is_integer(parameter["schema"]):
                    found.append((method.upper(), path, parameter["in"], parameter["name"]))
            for media, body in operation.get("requestBody", {}).get("content", {}).items():
                ref = body["schema"].get("$ref", "")
                for name, spec in components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}).items():
                    if is_integer(spec):
                        found.append((method.upper(), path, media, name))
    return found


@pytest.mark.parametrize("too_big", [DB_INT_MAX + 1, 2**63])  # past PostgreSQL's INTEGER; past SQLite's
def test_a_number_too_big_for_the_database_is_refused_as_input_everywhere(app, world, credentials, too_big):
    schema = _schema_with_pages(app)
    parameters = _integer_parameters(schema)
    assert len(parameters) >= 13  # the 13 routes and parameters that answered 500 before
    client = TestClient(app, base_url="http://testserver.local", raise_server_exceptions=False,
                        cookies=credentials["cookies"], headers=credentials["headers"])
    answers = {}
    for method, path, where, name in parameters:
        url = re.sub(r"\{(\w+)\}", lambda m, name=name: str(too_big) if m[1] == name else "1",
                     path.replace("{action}", "report_progress"))
        query = {name: str(too_big)} if where == "query" else {}
        kwargs: dict[str, Any] = {"params": query}
        if where == "application/json":
            kwargs["json"] = {name: too_big}
        elif where not in ("path", "query"):
            kwargs["data"] = {name: str(too_big), "csrf_token": CSRF}
        response = client.request(method, url, **kwargs)
        answers[(method, path, name)] = response.status_code
        assert name in response.text, (method, path, name)  # the refusal names the field
    assert {key: code for key, code in answers.items() if code != 422} == {}
