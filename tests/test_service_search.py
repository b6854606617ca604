"""Knowledge search and notes through the API, on SQLite and on the local PostgreSQL: notes
are created once and listed; experiments, finished analyses, their findings and notes are found
by keyword and by meaning; an object changed after a search is found by its new text (the
cached index is rebuilt); another organisation's objects are never a hit; a role that may not
read results finds notes only; every search is audited; bad requests get one sentence."""

from __future__ import annotations

import numpy as np
import pytest

from cerebro.service import knowledge_documents
from cerebro.service.models import AuditEntry, KnowledgeDocument
from service_support import *  # noqa: F403
from service_support import AB_SPEC, upload_ab

SEARCH = "/api/v1/knowledge/search"
NOTES = "/api/v1/knowledge/notes"


def experiment(service, org, name: str, description: str) -> str:
    body = {"name": name, "description": description, "treatment_groups": ["B"],
            "control_groups": ["A"], "randomization_unit": "user"}  # fmt: skip
    created = service.client.post("/api/v1/experiments", json=body, headers=org.auth())
    assert created.status_code == 201, created.text
    return created.json()["id"]


def note(service, org, title: str, body: str, experiment_id: str | None = None, **headers):
    return service.client.post(
        NOTES, json={"title": title, "body": body, "experiment_id": experiment_id},
        headers={**org.auth("causal_analyst"), **headers},
    )  # fmt: skip


def search(service, org, q: str, role: str = "viewer", **params) -> dict:
    response = service.client.get(SEARCH, params={"q": q, **params}, headers=org.auth(role))
    assert response.status_code == 200, response.text
    return response.json()


def ids(found: dict) -> list[str]:
    return [r["id"] for r in found["results"]]


def test_notes_are_created_once_listed_and_checked(service, org, other_org):
    exp = experiment(service, org, "Free shipping threshold", "Minimum order for free shipping.")
    created = note(service, org, "Decision", "Ship the $50 threshold.", exp,
                   **{"Idempotency-Key": "note-1"})  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "title", "body", "experiment_id", "created_at"}
    assert body["experiment_id"] == exp and body["title"] == "Decision"
    again = note(service, org, "Decision", "Ship the $50 threshold.", exp,
                 **{"Idempotency-Key": "note-1"})  # fmt: skip
    assert again.json()["id"] == body["id"]
    listed = service.client.get(NOTES, headers=org.auth("viewer")).json()
    assert [n["id"] for n in listed["items"]] == [body["id"]] and listed["total"] == 1
    by_experiment = service.client.get(NOTES, params={"experiment_id": "0" * 32},
                                       headers=org.auth("viewer"))  # fmt: skip
    assert by_experiment.json()["items"] == []
    # another organisation's experiment is not found; its notes list is empty
    foreign = note(service, other_org, "x", "y", exp)
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    assert service.client.get(NOTES, headers=other_org.auth("viewer")).json()["items"] == []
    empty = note(service, org, "", "body")
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "title"
    assert note(service, org, "t", "b", **org.auth("viewer")).status_code == 403


def test_search_finds_by_keyword_and_by_meaning(service, org):
    shipping = experiment(service, org, "Free shipping threshold $35 vs $50",
                          "Raise the minimum order value for free shipping from $35 to $50.")  # fmt: skip
    experiment(service, org, "Checkout button colour", "Green versus orange checkout button.")
    storm = note(service, org, "Caveat on the TV geo test",
                 "A hurricane hit Florida in week three; two control DMAs lost store traffic.")  # fmt: skip
    assert storm.status_code == 201
    keyword = search(service, org, "free shipping", mode="keyword")
    assert keyword["mode"] == "keyword" and ids(keyword)[0] == shipping
    first = keyword["results"][0]
    assert first["type"] == "experiment" and first["experiment_id"] == shipping
    assert "free shipping" in first["snippet"].lower() and first["score"] > 0
    # no shared word with the note: keyword finds nothing, meaning finds it
    paraphrase = "storm disrupted the comparison markets"
    assert search(service, org, paraphrase, mode="keyword")["results"] == []
    for mode in ("semantic", "hybrid"):
        found = search(service, org, paraphrase, mode=mode)
        assert found["mode"] == mode and ids(found)[0] == storm.json()["id"], found
    assert search(service, org, "free delivery minimum spend")["results"][0]["id"] == shipping
    assert len(search(service, org, "test", limit=1)["results"]) <= 1


def test_a_finished_analysis_and_its_findings_are_found(service, org):
    dataset = upload_ab(service, org)
    exp = experiment(service, org, "Pricing page layout", "Two-column pricing page.")
    job = service.client.post("/api/v1/analyses", headers=org.auth(),
                              json={"dataset_id": dataset, "experiment_id": exp, "spec": AB_SPEC})  # fmt: skip
    assert job.status_code == 202, job.text
    queued = search(service, org, "abtest analysis of revenue", mode="keyword")["results"]
    assert not [r for r in queued if r["type"] == "analysis"]  # indexed once it has a result
    assert service.run_jobs() == ["succeeded"]
    result = service.client.get(f"/api/v1/analyses/{job.json()['id']}", headers=org.auth())
    estimate = result.json()["result"]["estimates"][0]
    found = search(service, org, "abtest analysis of revenue converted", mode="keyword")
    hit = found["results"][0]
    assert hit["type"] == "analysis" and hit["id"] == job.json()["id"]
    assert hit["experiment_id"] == exp and hit["analysis_id"] == hit["id"]
    with service.sessions() as session:
        text = session.get(KnowledgeDocument, ("analysis", hit["id"])).text
    assert estimate["label"] in text and f"{estimate['value']:.4g}" in text
    findings = result.json()["result"]["findings"]
    if findings:  # each finding is a document of its own, linked to its analysis
        first = findings[0]
        got = search(service, org, first["message"], mode="keyword")["results"]
        assert any(r["type"] == "finding" and r["analysis_id"] == hit["id"] for r in got)


def test_a_changed_object_is_found_by_its_new_text(service, org):
    exp = experiment(service, org, "Homepage banner", "Spring sale banner.")
    assert search(service, org, "lighthouse", mode="keyword")["results"] == []
    with service.sessions() as session:  # unchanged documents: the cached index is reused
        cached = knowledge_documents.index_for(session, org.id)
        assert knowledge_documents.index_for(session, org.id) is cached
    patched = service.client.patch(f"/api/v1/experiments/{exp}", headers=org.auth(),
                                   json={"description": "Lighthouse imagery in the banner."})  # fmt: skip
    assert patched.status_code == 200
    assert ids(search(service, org, "lighthouse", mode="keyword")) == [exp]
    with service.sessions() as session:
        assert knowledge_documents.index_for(session, org.id) is not cached
    assert search(service, org, "spring sale", mode="keyword")["results"] == []
    with service.sessions() as session:
        doc = session.get(KnowledgeDocument, ("experiment", exp))
        assert doc.model == "all-MiniLM-L6-v2" and len(doc.vector) == 384 * 4


def test_search_is_isolated_filtered_by_role_and_audited(service, org, other_org):
    mine = experiment(service, org, "Referral reward size", "Give $10, get $10 referral rewards.")
    own_note = note(service, org, "Referral lesson", "Referral rewards above $20 drew fraud.")
    for mode in ("keyword", "semantic", "hybrid"):
        theirs = search(service, other_org, "referral reward", mode=mode)
        assert not {mine, own_note.json()["id"]} & set(ids(theirs)), (mode, theirs)
    admin = search(service, org, "referral reward", role="org_admin")
    assert ids(admin) == [own_note.json()["id"]]  # notes only: org_admin may not read results
    assert mine in ids(search(service, org, "referral reward", role="viewer"))
    with service.sessions() as session:
        rows = session.query(AuditEntry).filter_by(org_id=org.id, action="knowledge.search").all()
    assert len(rows) == 2 and rows[0].detail["q"] == "referral reward"
    assert {r.detail["count"] for r in rows} >= {1}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"q": ""}, "q"), ({"q": "   "}, "q"), ({"q": "x", "mode": "fuzzy"}, "mode"),
     ({"q": "x", "limit": 0}, "limit"), ({"q": "x" * 501}, "q"), ({}, "q")],
)  # fmt: skip
def test_bad_searches_get_one_sentence(service, org, params, field):
    response = service.client.get(SEARCH, params=params, headers=org.auth("viewer"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and error["message"].endswith(".")
    assert service.client.get(SEARCH, params={"q": "x"}).status_code == 401


def test_an_idle_worker_indexes_and_embeds_before_any_search(service, org):
    exp = experiment(service, org, "Annual plan discount banner", "20% off annual billing.")
    worker = service.worker()
    try:
        while worker.index_knowledge():  # batches until nothing is left to embed
            pass
    finally:
        worker.close()
    with service.sessions() as session:
        doc = session.get(KnowledgeDocument, ("experiment", exp))
        assert doc is not None and doc.org_id == org.id
        assert doc.model == "all-MiniLM-L6-v2" and len(doc.vector) == 384 * 4
    assert ids(search(service, org, "discount on yearly subscriptions", mode="semantic"))[0] == exp


def note_found(service, org, note_id: str, q: str, mode: str) -> bool:
    return note_id in ids(search(service, org, q, mode=mode))


def stored_document(service, note_id: str):
    with service.sessions() as session:
        return session.get(KnowledgeDocument, ("note", note_id))


def test_an_edited_note_is_found_by_its_new_words_only(service, org, other_org):
    from cerebro.service import embeddings

    made = note(service, org, "Caveat on the TV geo test",
                "A hurricane hit Florida in week three; two control DMAs lost store traffic.")  # fmt: skip
    note_id = made.json()["id"]
    storm, fraud = "storm disrupted the comparison markets", "sign-up bonus abuse by fake accounts"
    assert note_found(service, org, note_id, "hurricane", "keyword")
    assert note_found(service, org, note_id, storm, "semantic")
    old_vector = stored_document(service, note_id).vector
    url = f"{NOTES}/{note_id}"
    patch = {
        "title": "Referral lesson",
        "body": "Referral rewards above $20 drew fraudulent sign-ups.",
    }
    # another organisation's analyst gets a 404, and the note is unchanged
    foreign = service.client.patch(url, json=patch, headers=other_org.auth("causal_analyst"))
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    assert service.client.patch(url, json=patch, headers=org.auth("viewer")).status_code == 403
    changed = service.client.patch(url, json=patch, headers=org.auth("causal_analyst"))
    assert changed.status_code == 200, changed.text
    got, before = changed.json(), made.json()
    assert got["created_at"][:26] == before["created_at"][:26]  # SQLite drops the zone
    assert {**got, "created_at": None} == {**before, **patch, "created_at": None}
    # the document changed in the PATCH's transaction, its old embedding dropped
    doc = stored_document(service, note_id)
    assert (doc.title, doc.text, doc.model, doc.vector) == (*patch.values(), None, None)
    for mode in ("keyword", "hybrid"):
        assert note_found(service, org, note_id, "referral fraudulent", mode)
        assert not note_found(service, org, note_id, "hurricane Florida", mode)
    assert ids(search(service, org, fraud, mode="semantic"))[0] == note_id
    assert not note_found(service, org, note_id, storm, "semantic")
    doc = stored_document(service, note_id)  # embedded again, from the new text
    expected = embeddings.model().encode([f"{patch['title']}\n{patch['body']}"])[0]
    assert doc.vector != old_vector
    assert np.allclose(embeddings.from_bytes([doc.vector])[0], expected, atol=1e-5)
    # one field at a time; null for a text is refused in one sentence; unknown fields too
    retitled = service.client.patch(url, json={"title": "Referral"}, headers=org.auth())
    assert retitled.json()["body"] == patch["body"] and retitled.json()["title"] == "Referral"
    for bad, field in (({"title": None}, "title"), ({"body": ""}, "body"), ({"tags": []}, "tags")):
        refused = service.client.patch(url, json=bad, headers=org.auth())
        assert refused.status_code == 422 and refused.json()["error"]["field"] == field, bad
    exp = experiment(service, org, "Referral reward size", "Give $10, get $10.")
    linked = service.client.patch(url, json={"experiment_id": exp}, headers=org.auth())
    assert linked.json()["experiment_id"] == exp
    listed = service.client.get(NOTES, params={"experiment_id": exp}, headers=org.auth("viewer"))
    assert [n["id"] for n in listed.json()["items"]] == [note_id]
    with service.sessions() as session:
        rows = session.query(AuditEntry).filter_by(org_id=org.id, action="note.update").all()
    assert [r.detail["fields"] for r in rows] == [["body", "title"], ["title"], ["experiment_id"]]


def test_a_deleted_note_is_never_found(service, org, other_org):
    kept = note(service, org, "Pricing caveat", "Annual plan prices changed mid-test.").json()
    gone = note(service, org, "Caveat on the TV geo test",
                "A hurricane hit Florida in week three; two control DMAs lost store traffic.").json()  # fmt: skip
    storm = "storm disrupted the comparison markets"
    assert note_found(service, org, gone["id"], storm, "semantic")
    url = f"{NOTES}/{gone['id']}"
    assert service.client.delete(url, headers=other_org.auth()).status_code == 404
    assert service.client.delete(url, headers=org.auth("viewer")).status_code == 403
    assert service.client.delete(url, headers=org.auth("causal_analyst")).status_code == 204
    assert stored_document(service, gone["id"]) is None
    for mode in ("keyword", "semantic", "hybrid"):
        for q in ("hurricane Florida", storm):
            assert not note_found(service, org, gone["id"], q, mode), (mode, q)
    assert note_found(service, org, kept["id"], "annual plan prices", "keyword")
    listed = service.client.get(NOTES, headers=org.auth("viewer")).json()
    assert [n["id"] for n in listed["items"]] == [kept["id"]]
    assert service.client.delete(url, headers=org.auth()).status_code == 404
    assert service.client.patch(url, json={"title": "x"}, headers=org.auth()).status_code == 404
    with service.sessions() as session:
        (row,) = session.query(AuditEntry).filter_by(org_id=org.id, action="note.delete").all()
    assert row.object_id == gone["id"] and row.detail["title"] == gone["title"]


def test_a_note_document_left_by_a_concurrent_search_is_corrected(service, org):
    """A search that indexed a note while it was edited or deleted may write the old text (notes
    have no version column): the next search indexes the note again, and a document whose note
    is gone is never a hit."""
    made = note(service, org, "Lesson", "Referral rewards above $20 drew fraud.").json()
    assert note_found(service, org, made["id"], "referral", "keyword")
    with service.sessions() as session:  # as if a search wrote the text before the edit
        session.get(KnowledgeDocument, ("note", made["id"])).text = "Lighthouse imagery."
        session.add(KnowledgeDocument(object_type="note", object_id="f" * 32, org_id=org.id,
                                      title="Orphan", text="Lighthouse orphan."))  # fmt: skip
        session.commit()
    assert note_found(service, org, made["id"], "referral", "keyword")
    assert ids(search(service, org, "lighthouse", mode="keyword")) == []
