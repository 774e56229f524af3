"""Documents over HTTP against a real server: upload Markdown, a printed PDF and a DOCX, answer from
them within one job, delete one, report bad files, refuse every admin route without the token."""

from __future__ import annotations

import json
import shutil
import socket

import httpx
import pytest
from conftest import CORPUS, make_settings
from samples import make_docx, print_pdf
from serve import running_server

from api.app import create_app
from rag.engine import Engine
from rag.index.store import open_index

pytest_plugins = ["tests.browser"]  # browser
pytestmark = pytest.mark.browser  # the PDF is printed by chromium

TOKEN = "admin-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_BYTES = 300 * 1024

MD = ("# 星河渔业的海上数据中心\n\n星河渔业在舟山建成了一座海上养殖数据中心，把四百个深水网箱的水温、溶氧和投喂数据"
      "实时汇总到岸上的调度平台。\n\n借助这套系统，星河渔业的饲料浪费减少了三成，养殖户可以在手机上查看每个网箱的情况。")
PDF_TITLE = "青藤制造云的纺织实践"
PDF_PARAS = ["作者：林青",
             "青藤制造云平台把三千家纺织工厂的织机数据接入同一个调度系统，订单交付周期从二十天缩短到九天。",
             "平台按照织机的空闲情况自动拆分订单，小工厂也能接到大品牌的订单。",
             "这是产业互联网在纺织行业的一个典型案例：数据流动起来，产能才能被重新组织。"] * 6
DOCX_TITLE = "白杨物流链的冷链实践"
DOCX = {"一、背景": ["白杨物流链把两百座冷库的温度数据接入同一个平台，生鲜损耗率从百分之八降到了百分之三。"],
        "二、做法": ["每一台冷柜都装上了温度传感器，调度系统按温度和距离分配冷链车辆。"]}


@pytest.fixture(scope="module")
def site(tmp_path_factory, index_dir, engine, browser):
    """A server over a copy of the sample corpus and of the session index (vectors are reused)."""
    root = tmp_path_factory.mktemp("docs-api")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(index_dir, index)
    settings = make_settings(index, corpus_dir=corpus, admin_token=TOKEN, upload_max_bytes=MAX_BYTES,
                             question_log_url=f"sqlite:///{root / 'questions.db'}")
    pdf = print_pdf(browser, PDF_TITLE, PDF_PARAS)
    assert len(pdf) < MAX_BYTES
    # The session engine's model serves this index copy too: no second model load.
    app = create_app(settings, engine=Engine(settings, open_index(index), engine.embedder))
    with running_server(app) as base:
        with httpx.Client(base_url=base, timeout=60) as client:
            yield client, root, pdf, app


def _wait(client: httpx.Client, job: dict, timeout: float = 240) -> dict:
    """Follow the job over SSE until its ``done`` event; progress never goes backwards."""
    percents = []
    with client.stream("GET", f"/api/admin/jobs/{job['id']}/events", headers=AUTH, timeout=timeout) as res:
        assert res.status_code == 200
        event = None
        for line in res.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                percents.append(data["percent"])
                if event == "done":
                    assert percents == sorted(percents)
                    return data
    raise AssertionError("the event stream ended without a done event")


def _cited(client: httpx.Client, question: str) -> list[str]:
    res = client.post("/api/ask", json={"question": question, "mode": "retrieval"})
    assert res.status_code == 200, res.text
    return [c["source"] for c in res.json()["citations"]]


def test_upload_index_answer_delete(site):
    client, root, pdf, _ = site
    outside = sorted(p.name for p in root.iterdir())
    files = [
        ("files", ("星河渔业.md", MD.encode(), "text/markdown")),
        ("files", ("青藤制造云.pdf", pdf, "application/pdf")),
        ("files", ("冷链.docx", make_docx(DOCX_TITLE, DOCX, author="周远"), "application/octet-stream")),
        ("files", ("坏.pdf", b"%PDF-1.7\nthis is not a pdf", "application/pdf")),
        ("files", ("太大.md", b"# big\n\n" + "很大的文件。".encode() * 20000, "text/markdown")),
        ("files", ("程序.exe", b"MZ...", "application/octet-stream")),
        ("files", ("../../逃逸.md", "# 逃逸\n\n这个文件名想要跳出语料目录，但它只会被保存在语料目录里面。".encode(), "text/markdown")),
    ]
    res = client.post("/api/admin/documents", files=files, headers=AUTH)
    assert res.status_code == 202, res.text
    body = res.json()
    assert [(f["name"], f["replaced"]) for f in body["saved"]] == [
        ("星河渔业.md", False), ("青藤制造云.pdf", False), ("冷链.docx", False), ("坏.pdf", False), ("逃逸.md", False)]
    assert body["rejected"] == [
        {"name": "太大.md", "reason": "文件太大（上限 300 KB）"},
        {"name": "程序.exe", "reason": "不支持的文件类型（支持 .docx、.htm、.html、.markdown、.md、.pdf、.txt）"},
    ]
    # Nothing was written next to the corpus folder, and no temporary file is left in it.
    assert sorted(p.name for p in root.iterdir()) == outside
    assert not [p for p in (root / "corpus").iterdir() if p.name.startswith(".")]

    job = _wait(client, body["job"])
    assert (job["state"], job["percent"], job["articles"]) == ("done", 100.0, 9)
    assert [(e["path"].rsplit("/", 1)[-1], e["reason"]) for e in job["errors"]] == [("坏.pdf", "PDF 文件已损坏或无法解析")]
    assert [e["name"] for e in job["errors"]] == ["坏.pdf"]  # as the documents list names it

    docs = {d["name"]: d for d in client.get("/api/admin/documents", headers=AUTH).json()["documents"]}
    assert len(docs) == 10
    assert (docs["青藤制造云.pdf"]["status"], docs["青藤制造云.pdf"]["title"], docs["青藤制造云.pdf"]["author"]) == (
        "indexed", PDF_TITLE, "林青")
    assert (docs["冷链.docx"]["title"], docs["冷链.docx"]["author"], docs["冷链.docx"]["chunks"] > 0) == (
        DOCX_TITLE, "周远", True)
    assert (docs["坏.pdf"]["status"], docs["坏.pdf"]["reason"]) == ("failed", "PDF 文件已损坏或无法解析")
    assert "星河渔业.md" in _cited(client, "星河渔业在舟山建成了什么？")[:1]
    assert "青藤制造云.pdf" in _cited(client, "青藤制造云平台把多少家纺织工厂接入了调度系统？")[:1]
    assert "冷链.docx" in _cited(client, "白杨物流链的生鲜损耗率降到了多少？")[:1]

    res = client.delete("/api/admin/documents/冷链.docx", headers=AUTH)
    assert res.status_code == 202, res.text
    assert _wait(client, res.json()["job"])["articles"] == 8
    assert "冷链.docx" not in _cited(client, "白杨物流链的生鲜损耗率降到了多少？")
    assert "冷链.docx" not in {d["name"] for d in client.get("/api/admin/documents", headers=AUTH).json()["documents"]}
    res = client.delete("/api/admin/documents/冷链.docx", headers=AUTH)
    assert (res.status_code, res.json()["error"]["code"]) == (404, "document_not_found")
    res = client.delete("/api/admin/documents/../index/CURRENT", headers=AUTH)
    assert res.status_code == 404


def test_every_admin_route_refuses_without_the_token(site):
    client = site[0]
    paths = client.get("/openapi.json").json()["paths"]
    routes = [(method.upper(), path) for path, ops in paths.items() if path.startswith("/api/admin") for method in ops]
    assert len(routes) >= 9, routes
    for method, path in routes:
        url = path.replace("{name}", "星河渔业.md").replace("{job_id}", "x")
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            res = client.request(method, url, headers=headers)
            assert (res.status_code, res.json()["error"]["code"]) == (401, "invalid_admin_token"), (method, url)
    # Nothing was deleted by the refused requests.
    listing = client.get("/api/admin/documents", headers=AUTH)
    assert "星河渔业.md" in {d["name"] for d in listing.json()["documents"]}



def test_upload_count_media_type_and_body_bounds(site):
    client = site[0]
    files = [("files", (f"程序{i}.exe", b"MZ", "application/octet-stream")) for i in range(20)]
    files.append(("files", ("多余.md", b"# x\n\ny", "text/markdown")))
    res = client.post("/api/admin/documents", files=files, headers=AUTH)
    assert res.status_code == 200 and res.json()["saved"] == [] and res.json()["job"] is None
    assert res.json()["rejected"][-1] == {"name": "多余.md", "reason": "一次最多上传 20 个文件"}
    res = client.post("/api/admin/documents", json={"files": []}, headers=AUTH)
    assert (res.status_code, res.json()["error"]["code"]) == (415, "unsupported_media_type")
    # A declared size above every file at its limit is refused before any byte of the body is read.
    host, port = str(client.base_url.host), client.base_url.port
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall((f"POST /api/admin/documents HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
                      "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 52428800\r\n\r\n").encode())
        reply = b""
        while not reply.endswith(b"}}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 413") and json.loads(body)["error"]["message"] == "上传内容太大，一次最多 6 MB。"
