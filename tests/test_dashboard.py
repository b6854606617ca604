"""The dashboard over plain HTTP: `/` and every asset served with its content type and a strict
Content-Security-Policy, nothing outside the static folder, no external URL in any asset, every
module import resolvable; and `GET /api/v1/kinds`, the spec schemas the forms are built from."""

from __future__ import annotations

import re

import pytest

from cerebro.catalog import KINDS
from cerebro.core.registry import get_method
from cerebro.service.kinds import refused_fields
from cerebro.service.ui import CSP, STATIC
from service_support import *  # noqa: F403

TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}
ASSETS = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())


def test_the_page_is_served_with_a_strict_policy(service):
    response = service.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CSP
    policy = dict(part.split(" ", 1) for part in CSP.split("; "))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert 'src="/static/js/app.js"' in response.text and 'href="/static/app.css"' in response.text
    assert service.client.head("/").status_code == 200


@pytest.mark.parametrize("name", ASSETS)
def test_every_asset_has_its_content_type(service, name):
    response = service.client.get(f"/static/{name}")
    assert response.status_code == 200, name
    suffix = "." + name.rsplit(".", 1)[-1]
    assert response.headers["content-type"].split(";")[0] == TYPES[suffix]
    assert response.headers["content-security-policy"] == CSP
    assert response.content == (STATIC / name).read_bytes()


def test_assets_are_the_expected_ones():
    assert {"index.html", "app.css", "js/app.js", "js/api.js", "js/schemaform.js"} <= set(ASSETS)
    assert len([a for a in ASSETS if a.startswith("js/pages/")]) == 7


@pytest.mark.parametrize(
    "path",
    ["/static/nope.js", "/static/%2e%2e/app.py", "/static/..%2Fapp.py", "/static/js",
     "/static/../../pyproject.toml", "/static/js/../../app.py"],
)  # fmt: skip
def test_nothing_outside_the_static_files(service, path):
    response = service.client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_no_asset_names_another_host():
    """No external network: every URL in the assets is relative (an SVG's XML namespace is a
    name, not a fetch)."""
    for name in ASSETS:
        text = (STATIC / name).read_text()
        urls = re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text)
        assert [u for u in urls if u != "http://www.w3.org"] == [], name


def test_every_module_import_resolves():
    """Each `import … from "./x.js"` and `import("./pages/x.js")` names a file that exists –
    a typo here would only show in the browser."""
    seen = 0
    for script in STATIC.rglob("*.js"):
        for target in re.findall(
            r"""(?:from|import\()\s*["'](\.{1,2}/[^"']+)["']""", script.read_text()
        ):
            resolved = (script.parent / target).resolve()
            if target.startswith("./pages/") and script.name == "app.js":
                resolved = (STATIC / "js" / target).resolve()
            assert resolved.is_file(), (script.name, target)
            seen += 1
    assert seen >= 20


def test_kinds_lists_every_kind_with_its_schema(service, org):
    response = service.client.get("/api/v1/kinds", headers=org.auth("causal_analyst"))
    assert response.status_code == 200
    items = {item["kind"]: item for item in response.json()["items"]}
    assert list(items) == list(KINDS)
    for kind, item in items.items():
        method = get_method(kind)
        schema = item["schema"]
        expected = set(method.spec_type.model_fields) - refused_fields(method)
        assert set(schema["properties"]) == expected, kind
        assert "data" not in schema["properties"]
        assert not any("cli" in prop for prop in schema["properties"].values()), kind
        assert set(schema["required"]) <= expected
        assert item["summary"] == method.summary and item["needs_data"] == method.needs_data
    abtest = items["abtest"]["schema"]["properties"]
    assert abtest["alpha"]["default"] == 0.05
    assert set(abtest["test_type"]["anyOf"][0]["enum"]) >= {"welch", "bayesian", "sequential"}
    # a backquoted field name in the help reads as the name
    assert "`" not in abtest["mu"]["description"] and "treatment" in abtest["mu"]["description"]
    # the fields the service refuses are not offered: uplift writes files, mmm_optimize reads one
    assert {"save", "predictions"} & set(items["uplift"]["schema"]["properties"]) == set()


def test_kinds_one_kind_and_bad_ones(service, org):
    one = service.client.get("/api/v1/kinds?kind=power", headers=org.auth("causal_admin"))
    assert [item["kind"] for item in one.json()["items"]] == ["power"]
    bad = service.client.get("/api/v1/kinds?kind=nope", headers=org.auth("causal_admin"))
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["field"] == "kind" and "unknown analysis kind 'nope'" in error["message"]
    assert "abtest" in error["message"]
    assert service.client.get("/api/v1/kinds", headers=org.auth("viewer")).status_code == 403
    assert service.client.get("/api/v1/kinds").status_code == 401


def test_a_form_filled_from_the_schema_is_a_valid_spec(service, org):
    """What the form sends – the kind, the required fields and any defaults it shows – is
    accepted by the service: a spec of the schema's defaults for power submits and runs."""
    schema = service.client.get("/api/v1/kinds?kind=power", headers=org.auth()).json()
    properties = schema["items"][0]["schema"]["properties"]
    spec = {"kind": "power", "baseline": 0.1, "mde": 0.02}
    spec.update({k: p["default"] for k, p in properties.items()
                 if "default" in p and p["default"] is not None and k not in spec})  # fmt: skip
    response = service.client.post("/api/v1/analyses", json={"spec": spec}, headers=org.auth())
    assert response.status_code == 202, response.text


def test_every_asset_is_package_data():
    """An installed wheel carries every file the dashboard serves (pyproject's package data)."""
    import fnmatch
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["cerebro"]
    for name in ASSETS:
        path = f"service/static/{name}"
        # setuptools globs do not cross folders: "js/*.js" is not "js/pages/x.js"
        assert any(
            fnmatch.fnmatch(path, p) and path.count("/") == p.count("/") for p in patterns
        ), path
