"""Users: an org_admin changes roles and deletes users (deactivated, tokens revoked, audited);
an organisation never loses its last org_admin; `cerebro admin set-role` / `delete-user`."""

from __future__ import annotations

from typer.testing import CliRunner

from cerebro.cli.main import app as cli
from service_support import *  # noqa: F403
from service_support import make_org

runner = CliRunner()


def audit_of(service, org, action: str) -> list[dict]:
    response = service.client.get(
        "/api/v1/audit", params={"action": action}, headers=org.auth("org_admin")
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_role_change_takes_effect_on_the_next_request(service, org):
    viewer = org.auth("viewer")
    assert service.client.get("/api/v1/datasets", headers=viewer).status_code == 403
    changed = service.client.patch(
        f"/api/v1/users/{org.user_ids['viewer']}", json={"role": "causal_analyst"},
        headers=org.auth("org_admin"),
    )  # fmt: skip
    assert changed.status_code == 200 and changed.json()["role"] == "causal_analyst"
    assert service.client.get("/api/v1/datasets", headers=viewer).status_code == 200
    [entry] = audit_of(service, org, "user.role")
    assert entry["object_id"] == org.user_ids["viewer"]
    assert entry["detail"]["role"] == ["viewer", "causal_analyst"]
    assert entry["user_id"] == org.user_ids["org_admin"]
    bad = service.client.patch(
        f"/api/v1/users/{org.user_ids['viewer']}", json={"role": "boss"},
        headers=org.auth("org_admin"),
    )  # fmt: skip
    assert bad.status_code == 422 and "unknown role 'boss'" in bad.json()["error"]["message"]


def test_deleting_a_user_revokes_its_tokens_and_keeps_its_audit_trail(service, org):
    admin, analyst = org.auth("org_admin"), org.auth("causal_analyst")
    user_id = org.user_ids["causal_analyst"]
    assert service.client.get("/api/v1/datasets", headers=analyst).status_code == 200
    second = service.client.post(f"/api/v1/users/{user_id}/tokens", headers=admin).json()
    deleted = service.client.delete(f"/api/v1/users/{user_id}", headers=admin)
    assert deleted.status_code == 204
    for token in (org.tokens["causal_analyst"], second["token"]):
        refused = service.client.get(
            "/api/v1/datasets", headers={"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 401
    listed = service.client.get("/api/v1/users", headers=admin).json()["items"]
    assert user_id not in {u["id"] for u in listed} and len(listed) == 3
    # gone for every user route: a 404, as for an id that never existed
    assert service.client.delete(f"/api/v1/users/{user_id}", headers=admin).status_code == 404
    patch = service.client.patch(f"/api/v1/users/{user_id}", json={"role": "viewer"},
                                 headers=admin)  # fmt: skip
    assert patch.status_code == 404
    assert service.client.post(f"/api/v1/users/{user_id}/tokens", headers=admin).status_code == 404
    [entry] = audit_of(service, org, "user.delete")
    assert entry["object_id"] == user_id and entry["detail"]["tokens_revoked"] == 2
    # the deleted user's earlier reads still name it
    reads = service.client.get("/api/v1/audit", params={"user_id": user_id}, headers=admin).json()[
        "items"
    ]
    assert reads and all(r["user"].startswith("causal_analyst.") for r in reads)


def test_the_last_org_admin_stays(service, org):
    admin = org.auth("org_admin")
    me = org.user_ids["org_admin"]
    for response in (
        service.client.patch(f"/api/v1/users/{me}", json={"role": "viewer"}, headers=admin),
        service.client.delete(f"/api/v1/users/{me}", headers=admin),
    ):
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "last_org_admin"
        assert error["message"].endswith("first.") and ". " not in error["message"]  # one sentence
        assert "last org_admin" in error["message"]
    # with a second admin, the first may step down – and then the second is the last one
    other = org.user_ids["causal_admin"]
    promoted = service.client.patch(f"/api/v1/users/{other}", json={"role": "org_admin"},
                                    headers=admin)  # fmt: skip
    assert promoted.status_code == 200
    assert service.client.delete(f"/api/v1/users/{me}", headers=admin).status_code == 204
    assert service.client.get("/api/v1/users", headers=admin).status_code == 401
    again = service.client.patch(
        f"/api/v1/users/{other}", json={"role": "viewer"}, headers=org.auth("causal_admin")
    )
    assert again.status_code == 409


def test_another_organisation_cannot_touch_users(service, org, other_org):
    target = org.user_ids["viewer"]
    foreign = other_org.auth("org_admin")
    assert service.client.delete(f"/api/v1/users/{target}", headers=foreign).status_code == 404
    patch = service.client.patch(f"/api/v1/users/{target}", json={"role": "org_admin"},
                                 headers=foreign)  # fmt: skip
    assert patch.status_code == 404
    viewer = service.client.get("/api/v1/experiments", headers=org.auth("viewer"))
    assert viewer.status_code == 200  # untouched


def test_admin_set_role_and_delete_user(tmp_path):
    db = f"sqlite:///{tmp_path / 'admin.db'}"

    def admin(*args: str):
        return runner.invoke(cli, ["admin", *args, "--db", db])

    assert admin("create-org", "acme").exit_code == 0
    for email, role in (("boss@acme.example", "org_admin"), ("ana@acme.example", "viewer")):
        assert admin("create-user", email, "--org", "acme", "--role", role).exit_code == 0
    moved = admin("set-role", "ANA@acme.example", "--role", "causal_admin")
    assert moved.exit_code == 0 and "viewer → causal_admin" in moved.stdout
    last = admin("set-role", "boss@acme.example", "--role", "viewer")
    assert last.exit_code == 2 and "last org_admin" in last.output
    assert "Traceback" not in last.output
    assert admin("delete-user", "boss@acme.example").exit_code == 2
    deleted = admin("delete-user", "ana@acme.example")
    assert deleted.exit_code == 0 and "1 token(s) revoked" in deleted.stdout
    gone = admin("delete-user", "ana@acme.example")
    assert gone.exit_code == 2 and "no active user 'ana@acme.example'" in gone.output
    from sqlalchemy import create_engine, text

    with create_engine(db).connect() as connection:
        rows = connection.execute(text("SELECT action, detail FROM audit_log ORDER BY id")).all()
    assert [r.action for r in rows] == ["user.role", "user.delete"]


def test_a_fresh_org_has_its_admin(service):
    org = make_org(service)
    users = service.client.get("/api/v1/users", headers=org.auth("org_admin")).json()["items"]
    assert [u["role"] for u in users].count("org_admin") == 1
