"""schemathesis over the service's OpenAPI document: generated requests for every operation
(each sent with a token of a role that holds the operation's permission, so they reach the
route rather than stopping at 403) – zero 5xx responses, and every error in the JSON shape.

`CEREBRO_SCHEMATHESIS_EXAMPLES` sets the examples per operation (default 8 here; docs/service.md
reports a larger run)."""

from __future__ import annotations

import os
import warnings

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from cerebro.service.app import ROUTERS  # noqa: E402
from cerebro.service.deps import Require  # noqa: E402
from cerebro.service.security import ROLES  # noqa: E402
from service_support import *  # noqa: E402, F403
from service_support import make_org, upload_ab  # noqa: E402

EXAMPLES = int(os.environ.get("CEREBRO_SCHEMATHESIS_EXAMPLES", "8"))


def permissions() -> dict[tuple[str, str], str]:
    found = {}
    for router in ROUTERS:
        for route in router.routes:
            for dependency in route.dependant.dependencies:
                if isinstance(dependency.call, Require):
                    for method in route.methods:
                        found[(method, route.path)] = dependency.call.permission
    return found


def run_operation(operation, headers: dict, count: dict, failures: list[str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case):
        response = case.call(headers=headers)
        count["cases"] += 1
        if response.status_code >= 500:
            failures.append(f"{operation.label}: {response.status_code} {response.text[:200]}")
        elif response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "field"}

    check()


@pytest.mark.slow
def test_no_server_errors(service):
    org = make_org(service)
    upload_ab(service, org)  # something to list, profile and analyse
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.client.app)
    needed = permissions()
    count = {"cases": 0, "operations": 0}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        permission = needed.get((operation.method.upper(), operation.path))
        role = next((r for r, held in ROLES.items() if permission in held), "causal_admin")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run_operation(operation, org.auth(role), count, failures)
        count["operations"] += 1
    print(f"schemathesis: {count['cases']} cases over {count['operations']} operations")
    assert count["operations"] == len(needed) + 1  # every route and /health
    assert count["cases"] >= count["operations"] * 2
    assert failures == []
