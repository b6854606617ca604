"""Knowledge search timings: embedding per document (all-MiniLM-L6-v2, NumPy forward pass),
building the BM25 index, and one query per mode, on `N` documents made from the labelled set
of tests/data/knowledge_eval.json (each document repeated with a number, so the texts differ).

    PYTHONPATH=src python bench/bench_knowledge_search.py [N]

Prints the load average beside the numbers: on a shared machine they scale with it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from cerebro.service import embeddings
from cerebro.service.search_index import Document, SearchIndex

DATA = json.loads(
    (Path(__file__).parents[1] / "tests" / "data" / "knowledge_eval.json").read_text()
)


def main(n: int = 1000) -> None:
    base = DATA["documents"]
    docs = [
        Document(d["type"], f"{d['id']}-{k}", f"{d['title']} #{k}", d["text"])
        for k in range(n // len(base) + 1)
        for d in base
    ][:n]
    model = embeddings.model()
    model.encode(["warm up"])
    sample = [f"{d.title}\n{d.text}" for d in docs[: len(base)]]
    start = time.perf_counter()
    vectors = model.encode(sample)
    per_doc = (time.perf_counter() - start) / len(sample)
    tokens = np.mean([len(model.tokenizer.encode(t).ids) for t in sample])
    vectors = np.resize(vectors, (len(docs), embeddings.DIMENSION))
    start = time.perf_counter()
    index = SearchIndex(docs, vectors, np.ones(len(docs), bool))
    build = time.perf_counter() - start
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"embedding: {per_doc * 1000:.0f} ms per document ({tokens:.0f} word pieces on average,"
          f" batches of 16)")  # fmt: skip
    print(f"index of {len(docs)} documents (BM25 + matrix): {build * 1000:.0f} ms")
    query = "storm disrupted the comparison markets"
    for mode in ("keyword", "semantic", "hybrid"):
        times = []
        for _ in range(20):
            start = time.perf_counter()
            vector = model.encode([query])[0] if mode != "keyword" else None
            with embeddings.one_blas_thread():  # as the search route runs it
                index.search(query, mode, 10, vector)
            times.append(time.perf_counter() - start)
        print(f"query, {mode}: median {np.median(times) * 1000:.2f} ms (query embedding included)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
