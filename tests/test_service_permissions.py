"""Roles and tenancy: every route declares its permission; every route × role is allowed or
refused as the role table says; another organisation's object of every type is a 404."""

from __future__ import annotations

import re

import pytest

from cerebro.service.app import ROUTERS
from cerebro.service.deps import Require
from cerebro.service.security import (
    ANALYSIS_RUN,
    DATA_READ,
    DATA_WRITE,
    EXPERIMENTS_MANAGE,
    ROLES,
)
from service_support import *  # noqa: F403
from service_support import AB_SPEC, Org, make_org, make_user, upload_ab


def permission_of(route) -> str | None:
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, Require):
            return dependency.call.permission
    return None


ROUTES = [
    (method, route.path, permission_of(route))
    for router in ROUTERS
    for route in router.routes
    for method in sorted(route.methods)
]


def test_the_roles_are_the_named_ones():
    assert ROLES["causal_analyst"] >= {DATA_READ, ANALYSIS_RUN}
    assert DATA_WRITE not in ROLES["causal_analyst"]
    assert ROLES["causal_admin"] >= {DATA_READ, DATA_WRITE, ANALYSIS_RUN, EXPERIMENTS_MANAGE}
    assert not ROLES["viewer"] & {DATA_READ, DATA_WRITE, ANALYSIS_RUN, EXPERIMENTS_MANAGE}
    assert not ROLES["org_admin"] & {DATA_READ, DATA_WRITE, ANALYSIS_RUN, EXPERIMENTS_MANAGE}


def test_every_api_route_declares_a_permission(service):
    assert len(ROUTES) >= 16
    assert [r for r in ROUTES if r[2] is None] == []
    documented = {
        (method.upper(), path)
        for path, item in service.client.get("/openapi.json").json()["paths"].items()
        for method in item
    }
    assert {(m, p) for m, p, _ in ROUTES} <= documented


@pytest.fixture(scope="module")
def home(service) -> Org:
    """The organisation whose objects the routes are called on (one per database)."""
    return make_org(service)


@pytest.fixture(scope="module")
def objects(service, home) -> dict[str, str]:
    """One object of every type in `home`, to fill the routes' path parameters."""
    org = home
    dataset = upload_ab(service, org)
    experiment = service.client.post(
        "/api/v1/experiments",
        json={"name": "e", "treatment_groups": ["B"], "randomization_unit": "user"},
        headers=org.auth(),
    ).json()["id"]
    analysis = service.client.post(
        "/api/v1/analyses", json={"dataset_id": dataset, "spec": AB_SPEC}, headers=org.auth()
    ).json()["id"]
    group = service.client.post(
        "/api/v1/causal/analyze/advanced",
        json={"dataset_id": dataset, "treatment": "arm", "outcome": "revenue",
              "confounders": ["pre_revenue"], "methods": ["regression"],
              "options": {"treated": "B", "control": "control"}},
        headers=org.auth(),
    ).json()["id"]  # fmt: skip
    service.run_jobs()
    token = service.client.post(
        f"/api/v1/users/{org.user_ids['viewer']}/tokens", headers=org.auth("org_admin")
    ).json()["id"]
    note = service.client.post(
        "/api/v1/knowledge/notes", json={"title": "e", "body": "a note on e"}, headers=org.auth()
    ).json()["id"]
    return {"dataset_id": dataset, "experiment_id": experiment, "analysis_id": analysis,
            "user_id": org.user_ids["viewer"], "token_id": token, "group_id": group,
            "note_id": note}  # fmt: skip


def call(service, method: str, path: str, headers: dict, objects: dict[str, str]):
    url = re.sub(r"\{(\w+)\}", lambda m: objects[m.group(1)], path)
    if path == "/api/v1/datasets" and method == "POST":
        return service.client.post(url, files={"file": ("a.csv", b"a\n1\n2\n")}, headers=headers)
    kwargs = {"json": {}} if method in ("POST", "PATCH") else {}
    if path == "/api/v1/users/{user_id}" and method == "PATCH":
        kwargs = {"json": {"role": "viewer"}}  # the viewer stays a viewer
    return service.client.request(method, url, headers=headers, **kwargs)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_for_every_role(service, home, objects, role):
    org = home
    outcomes = []
    for method, path, permission in ROUTES:
        if method == "DELETE":  # keep the objects for the later routes: copies to delete
            spare = make_user(service, org, "viewer")
            note = service.client.post("/api/v1/knowledge/notes", headers=org.auth(),
                                       json={"title": "spare", "body": "to delete"}).json()["id"]  # fmt: skip
            objects = {**objects, "dataset_id": upload_ab(service, org), "user_id": spare,
                       "note_id": note}  # fmt: skip
        status = call(service, method, path, org.auth(role), objects).status_code
        allowed = permission in ROLES[role]
        outcomes.append((method, path, allowed, status))
        assert (status == 403) == (not allowed), (method, path, role, status)
        assert status not in (401, 500), (method, path, role, status)
    assert any(o[2] for o in outcomes) and any(not o[2] for o in outcomes)


def test_every_route_needs_a_token(service, objects):
    for method, path, _ in ROUTES:
        assert call(service, method, path, {}, objects).status_code == 401, (method, path)


def test_another_organisations_objects_are_404(service, other_org, objects):
    """Every route naming an object, called by each role of another organisation that holds
    the route's permission, answers 404 – as for an id that does not exist."""
    checked = set()
    for method, path, permission in ROUTES:
        if "{" not in path:
            continue
        for role, granted in ROLES.items():
            if permission in granted:
                response = call(service, method, path, other_org.auth(role), objects)
                assert response.status_code == 404, (method, path, role, response.text)
                assert response.json()["error"]["code"] == "not_found"
                checked.add(path.split("/")[3])
    assert checked >= {
        "datasets",
        "experiments",
        "analyses",
        "users",
        "tokens",
        "causal",
        "knowledge",
    }
    # references inside bodies are isolated too
    foreign = other_org.auth()
    bodies = [
        ("/api/v1/analyses", {"dataset_id": objects["dataset_id"], "spec": AB_SPEC}),
        ("/api/v1/analyses", {"experiment_id": objects["experiment_id"],
                              "spec": {"kind": "power", "baseline": 0.1, "mde": 0.02}}),
        ("/api/v1/experiments", {"name": "x", "treatment_groups": ["B"], "randomization_unit": "u",
                                 "dataset_ids": [objects["dataset_id"]]}),
        ("/api/v1/llm/causal/insights", {"analysis_ids": [objects["analysis_id"]]}),
        ("/api/v1/llm/causal/counterfactual", {"dataset_id": objects["dataset_id"],
         "outcome": "revenue", "scenarios": [{"name": "a", "set": ["pre_revenue=+1"]}]}),
        ("/api/v1/causal/discover", {"dataset_id": objects["dataset_id"]}),
        ("/api/v1/surfacing/optimize/causal", {"mmm_analysis_id": objects["analysis_id"]}),
        ("/api/v1/design/experiment", {"geo": {"dataset_id": objects["dataset_id"]}}),
    ]  # fmt: skip
    for url, body in bodies:
        assert service.client.post(url, json=body, headers=foreign).status_code == 404, url
    treatments = "/api/v1/surfacing/recommendations/treatments"
    params = {"analysis_id": objects["analysis_id"]}
    assert service.client.get(treatments, params=params, headers=foreign).status_code == 404
    lists = ["/api/v1/datasets", "/api/v1/experiments", "/api/v1/analyses", "/api/v1/users",
             "/api/v1/audit", "/api/v1/knowledge/notes"]  # fmt: skip
    mine = set(objects.values())
    for url in lists:
        for role in ROLES:
            response = service.client.get(url, headers=other_org.auth(role))
            if response.status_code == 200:
                seen = {i.get("id") for i in response.json()["items"]}
                seen |= {i.get("object_id") for i in response.json()["items"]}
                assert not seen & mine, (url, role)
    for role in ROLES:  # knowledge search: no hit of another organisation, whatever the role
        for mode in ("keyword", "hybrid"):
            found = service.client.get("/api/v1/knowledge/search", headers=other_org.auth(role),
                                       params={"q": "a note on e", "mode": mode})  # fmt: skip
            assert found.status_code == 200, found.text
            assert not {r["id"] for r in found.json()["results"]} & mine, (role, mode)
