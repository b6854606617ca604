"""Recall@5 of knowledge search on a labelled query set (tests/data/knowledge_eval.json: 36
experiments and notes of a marketing team, 22 queries – 7 that share words with what they look
for and 15 paraphrases that avoid them). The numbers are those docs/service.md reports; the
ranking is deterministic (BM25, float32 embeddings), so the tolerance only absorbs BLAS rounding
that could swap two near-equal scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cerebro.service import embeddings
from cerebro.service.search_index import Document, SearchIndex

DATA = json.loads((Path(__file__).parent / "data" / "knowledge_eval.json").read_text())
MEASURED = {  # recall@5: all queries, the keyword ones, the paraphrases
    "keyword": (0.568, 1.0, 0.367),
    "semantic": (0.932, 1.0, 0.900),
    "hybrid": (0.909, 1.0, 0.867),
}
TOLERANCE = 0.03  # about one query's worth of one relevant document in 22


@pytest.fixture(scope="module")
def recall() -> dict[str, tuple[float, float, float]]:
    model = embeddings.model()
    docs = [Document(d["type"], d["id"], d["title"], d["text"]) for d in DATA["documents"]]
    vectors = model.encode([f"{d.title}\n{d.text}" for d in docs])
    index = SearchIndex(docs, vectors, np.ones(len(docs), bool))
    queries = DATA["queries"]
    query_vectors = model.encode([q["query"] for q in queries])
    out = {}
    for mode in MEASURED:
        per_query = []
        for q, vector in zip(queries, query_vectors, strict=True):
            top = {docs[i].id for i, _ in index.search(q["query"], mode, 5, vector)}
            per_query.append((q["kind"], len(top & set(q["relevant"])) / len(q["relevant"])))
        out[mode] = tuple(
            float(np.mean([r for kind, r in per_query if wanted in (None, kind)]))
            for wanted in (None, "keyword", "paraphrase")
        )
    return out


def test_the_labelled_set_is_consistent():
    ids = [d["id"] for d in DATA["documents"]]
    assert len(ids) == len(set(ids)) == 36 and len(DATA["queries"]) == 22
    assert all(set(q["relevant"]) <= set(ids) and q["relevant"] for q in DATA["queries"])


def test_hybrid_recalls_at_least_as_much_as_keyword(recall):
    assert recall["hybrid"][0] >= recall["keyword"][0]
    assert recall["hybrid"][2] > recall["keyword"][2] + 0.3  # paraphrases: where keywords fail
    assert recall["hybrid"][1] == recall["keyword"][1] == 1.0  # and nothing lost on keywords


@pytest.mark.parametrize("mode", list(MEASURED))
def test_recall_at_5_is_the_reported_number(recall, mode):
    assert np.allclose(recall[mode], MEASURED[mode], atol=TOLERANCE), (mode, recall[mode])


def test_the_semantic_floor_keeps_every_relevant_document():
    """Every relevant query–document pair of the set is above the floor (the smallest is
    0.216), and most irrelevant ones are below it."""
    from cerebro.service.search_index import SEMANTIC_FLOOR

    model = embeddings.model()
    docs = model.encode([f"{d['title']}\n{d['text']}" for d in DATA["documents"]])
    cosines = model.encode([q["query"] for q in DATA["queries"]]) @ docs.T
    relevant = np.array([[d["id"] in q["relevant"] for d in DATA["documents"]]
                         for q in DATA["queries"]])  # fmt: skip
    assert cosines[relevant].min() == pytest.approx(0.216, abs=0.005)
    assert cosines[relevant].min() > SEMANTIC_FLOOR
    assert (cosines[~relevant] < SEMANTIC_FLOOR).mean() == pytest.approx(0.85, abs=0.02)
