"""The ranking of knowledge search, on one organisation's documents held in memory: BM25 over
stemmed words (keyword), cosine similarity of sentence embeddings (semantic), and reciprocal
rank fusion of the two (hybrid). No database here: `knowledge_documents.py` builds an index from
the stored rows and caches it per organisation.

- Keyword: Okapi BM25 (Robertson & Zaragoza 2009, "The Probabilistic Relevance Framework: BM25
  and Beyond") as `bm25s` computes it (Lucene's variant, k1 = 1.5, b = 0.75), on lower-cased
  words of two or more letters, English stop words removed, Snowball-stemmed (PyStemmer) so
  "conversions" matches "conversion".
- Semantic: the dot product of unit-length all-MiniLM-L6-v2 embeddings (`embeddings.py`) –
  the cosine similarity; documents below `SEMANTIC_FLOOR` are not offered as hits.
- Hybrid: reciprocal rank fusion, score = Σ 1 / (60 + rank) over the two rankings (Cormack,
  Clarke & Büttcher 2009, SIGIR) – it needs no calibration between BM25 scores and cosines.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np

Mode = Literal["hybrid", "keyword", "semantic"]
RRF_K = 60  # the constant of Cormack et al.; large enough that rank 1 does not dominate
# below this cosine a document is not a semantic hit: on the labelled set every relevant pair
# is above it (≥ 0.216) and 85% of the irrelevant ones below (docs/service.md)
SEMANTIC_FLOOR = 0.2
CANDIDATES = 50  # how deep each ranking goes into the fusion
WORD = re.compile(r"(?u)\b\w\w+\b")


@dataclass(frozen=True)
class Document:
    """One searchable object: an experiment, an analysis, a finding or a note."""

    type: str
    id: str
    title: str
    text: str
    experiment_id: str | None = None
    analysis_id: str | None = None


@cache
def _bm25s():
    """`bm25s`, imported with JAX hidden. Where JAX is installed (the `bayes` extra), importing
    bm25s imports it and runs a JAX operation to choose a top-k routine: seconds of start-up and
    JAX's thread pool in a process that may fork later (the service's workers fork their
    executors). Only its NumPy scoring is used here, so JAX is kept out."""
    saved = {name: sys.modules.get(name) for name in ("jax", "jax.lax")}
    sys.modules.update(dict.fromkeys(saved))  # None: `import jax` raises ImportError
    try:
        import bm25s
    finally:
        for name, module in saved.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module
    return bm25s


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def _stopwords() -> frozenset[str]:
    return frozenset(_bm25s().stopwords.STOPWORDS_EN)


def terms(text: str) -> list[str]:
    """The words BM25 counts: lower case, no stop words, stemmed."""
    stop = _stopwords()
    words = [w for w in WORD.findall(text.lower()) if w not in stop]
    return _stemmer().stemWords(words)


class SearchIndex:
    """The keyword and semantic indexes of a list of documents. `vectors` has one unit-length
    row per document; a document not yet embedded has a zero row and `embedded` False."""

    def __init__(self, documents: list[Document], vectors: np.ndarray, embedded: np.ndarray):
        self.documents, self.vectors, self.embedded = documents, vectors, embedded
        corpus = [terms(f"{d.title}\n{d.text}") for d in documents]
        self.bm25 = _bm25s().BM25() if any(corpus) else None  # no word at all: nothing to score
        if self.bm25 is not None:
            self.bm25.index(corpus, show_progress=False)

    def keyword(self, query: str, allowed: np.ndarray) -> list[tuple[int, float]]:
        """Documents with a positive BM25 score, best first."""
        if self.bm25 is None:
            return []
        ids = self.bm25.get_tokens_ids(terms(query))
        if not ids:
            return []
        scores = np.where(allowed, self.bm25.get_scores_from_ids(ids), 0.0)
        return _ranked(scores, scores > 0)

    def semantic(self, query_vector: np.ndarray, allowed: np.ndarray) -> list[tuple[int, float]]:
        """Embedded documents at least `SEMANTIC_FLOOR` similar to the query, best first."""
        if not self.documents:
            return []
        cosines = self.vectors @ query_vector
        return _ranked(cosines, allowed & self.embedded & (cosines >= SEMANTIC_FLOOR))

    def search(
        self,
        query: str,
        mode: Mode,
        limit: int,
        query_vector: np.ndarray | None,
        allowed: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """The `limit` best (document index, score): BM25 score, cosine, or fused RRF score."""
        allowed = np.ones(len(self.documents), bool) if allowed is None else allowed
        if mode == "keyword":
            return self.keyword(query, allowed)[:limit]
        assert query_vector is not None, "semantic and hybrid modes need the query's embedding"
        semantic = self.semantic(query_vector, allowed)
        if mode == "semantic":
            return semantic[:limit]
        keyword = self.keyword(query, allowed)
        return fuse([keyword[:CANDIDATES], semantic[:CANDIDATES]])[:limit]


def _ranked(scores: np.ndarray, keep: np.ndarray) -> list[tuple[int, float]]:
    """(index, score) of the kept entries, highest score first, ties by index (stable)."""
    index = np.flatnonzero(keep)
    order = index[np.argsort(-scores[index], kind="stable")]
    return [(int(i), float(scores[i])) for i in order]


def fuse(rankings: list[list[tuple[int, float]]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: each ranking adds 1 / (k + rank) (rank from 1) to a document."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (i, _score) in enumerate(ranking, start=1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def snippet(text: str, query: str, width: int = 200) -> str:
    """About `width` characters of `text` around the first word that matches a query word
    (by stem), or its beginning."""
    flat = " ".join(text.split())
    wanted = set(terms(query))
    start = 0
    for match in WORD.finditer(flat):
        if terms(match.group()) and terms(match.group())[0] in wanted:
            start = max(0, match.start() - width // 4)
            break
    piece = flat[start : start + width]
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(flat) else "")
