"""The chat widget in a real headless chromium against real uvicorn servers on 127.0.0.1.

Two apps are served, both built with ``api.app.create_app``:
- the real one over the session index (``indexed_settings``): demo page, streaming answer with
  citations, highlighted passage, follow-up, cross-origin embedding, the 375-px phone layout;
- one over a scripted engine for what the corpus cannot produce on demand: XSS payloads, a failing
  first request, a stream held open mid-answer, refusals and retrieval-only badges.
The widget is embedded cross-origin from a plain static server on a second port.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from llm_server import FakeLLM, reply, stream
from playwright.sync_api import Page, expect
from serve import running_server

from api.app import create_app
from rag.answer.citations import verify
from rag.engine import Engine
from rag.errors import ArticleNotFoundError, RagError
from rag.settings import Settings
from rag.types import Answer, ArticleMeta, Chunk, Citation, Delta, Done, Hit, Message, Retrieved

pytest_plugins = ["tests.browser"]  # browser, desktop_page, phone_page, host_site, artifacts
pytestmark = pytest.mark.browser

API_KEY = "widget-test-key"

# --- a scripted engine ------------------------------------------------------------------

XSS_IMG = "<img src=x onerror=window.__xss=1>"
XSS_SCRIPT = "<script>window.__xss=2</script>"
FILLER = "".join(f"第{i}段：产业互联网的发展需要长期投入，企业要在生产环节持续改造。\n\n" for i in range(1, 41))
PASSAGE = f"被引用的段落：流量不是关键，留量才是。危险片段 {XSS_IMG} 与 {XSS_SCRIPT} 必须按原样显示。"
ARTICLE_TEXT = FILLER + PASSAGE + "\n\n" + FILLER
PASSAGE_START = ARTICLE_TEXT.index(PASSAGE)

META = ArticleMeta(
    article_id="a-xss",
    source="a-xss.txt",
    title=f"测试文章 {XSS_IMG}",
    author="测试作者",
    date="Fri, 08 Jul 2022 00:00:00 GMT",
    url="javascript:window.__xss=3",
)
CITATION = Citation(
    n=1,
    article_id=META.article_id,
    source=META.source,
    title=META.title,
    author=META.author,
    date=META.date,
    url=META.url,
    passage=PASSAGE,
    start=PASSAGE_START,
    end=PASSAGE_START + len(PASSAGE),
    score=0.9,
    chunk_id="a-xss#1",
)

XSS_ANSWER = f"危险内容：{XSS_IMG} 与 {XSS_SCRIPT}[1]"
STREAM_FIRST = "产业互联网的关键"
STREAM_FINAL = "产业互联网的关键不在流量，而在留量[1]。"
REFUSAL = "资料中没有找到与这个问题相关的内容。"
INTERNAL_ERROR = "服务器内部错误，请稍后再试。"


@dataclass
class ArticleView:
    """Same shape as the engine's article view."""

    meta: ArticleMeta
    text: str
    chunks: list[Chunk]


@dataclass
class ScriptedEngine:
    """Engine stand-in whose answers depend on the question, so each edge case is one question."""

    version: str = "scripted-1"
    calls: list[tuple[str, list[Message]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)  # lets a held stream finish
    failures_left: int = 1
    midway_failures_left: int = 1

    def stream(
        self, question: str, history: Sequence[Message] = (), mode: str = "auto", top_k: int | None = None
    ) -> Iterator:
        self.calls.append((question, list(history)))
        return self._events(question)

    def _events(self, question: str) -> Iterator:
        if question == "出错测试" and self.failures_left:
            self.failures_left -= 1
            raise RagError("scripted failure")
        if question == "中途出错测试" and self.midway_failures_left:
            self.midway_failures_left -= 1
            yield Retrieved((CITATION,))
            yield Delta("回答到一半")
            raise RagError("scripted failure midway")
        if question == "拒答测试":
            yield Retrieved(())
            yield Done(Answer(REFUSAL, (), "llm", grounded=False, refused=True, query=question))
            return
        yield Retrieved((CITATION,))
        if question == "危险内容测试":
            yield Delta(XSS_ANSWER)
            yield Done(Answer(XSS_ANSWER, (CITATION,), "llm", grounded=True, query=question))
        elif question == "静默测试":
            # Nothing arrives until the test releases it.
            self.release.wait(timeout=30)
            yield Delta(STREAM_FIRST)
            yield Done(Answer(STREAM_FIRST, (CITATION,), "llm", grounded=True, query=question))
        elif question in ("流式测试", "停止测试"):
            yield Delta(STREAM_FIRST)
            # Held open until the test releases it (bounded, so a failed test cannot hang the server).
            self.release.wait(timeout=30)
            yield Delta("不在流量[1]")
            yield Done(Answer(STREAM_FINAL, (CITATION,), "llm", grounded=True, query=question))
        elif question == "离线测试":
            yield Done(Answer(f"{PASSAGE}[1]", (CITATION,), "retrieval", grounded=True, query=question))
        elif question == "降级测试":
            yield Done(
                Answer(f"{PASSAGE}[1]", (CITATION,), "retrieval", grounded=True, degraded="timeout", query=question)
            )
        elif question == "概括未核实测试":
            yield Done(Answer(f"{PASSAGE}[1]", (CITATION,), "retrieval", grounded=True, degraded="unsupported",
                              query=question))
        else:
            text = f"关于“{question}”：留量比流量更重要[1]。"
            yield Delta(text)
            yield Done(Answer(text, (CITATION,), "llm", grounded=True, query=question))

    def ask(self, question: str, history: Sequence[Message] = (), mode: str = "auto", top_k: int | None = None):
        done = [e for e in self.stream(question, history, mode, top_k) if isinstance(e, Done)]
        return done[-1].answer

    def articles(self) -> list[ArticleMeta]:
        return [META]

    def article(self, article_id: str) -> ArticleView:
        if article_id != META.article_id:
            raise ArticleNotFoundError(article_id)
        chunk = Chunk("a-xss#1", META.article_id, 1, PASSAGE, CITATION.start, CITATION.end)
        return ArticleView(META, ARTICLE_TEXT, [chunk])


# --- servers ----------------------------------------------------------------------------

HOSTILE_CSS = """
  * { color: rgb(255, 0, 0) !important; font-size: 30px !important; line-height: 3 !important; }
  button { display: none !important; }
"""


def host_page(api: str, extra: str = "", title: str = "合作伙伴网站") -> str:
    """A third-party page on another origin that embeds the widget with one script tag."""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{HOSTILE_CSS}</style></head>
<body><h1>{title}</h1><p>这是一个嵌入了问答组件的第三方网页。</p><button id="own">页面自己的按钮</button>
<script src="{api}/widget.js" data-api="{api}" {extra} defer></script>
</body></html>"""


@pytest.fixture(scope="module")
def host_origin(host_site) -> str:
    """The second origin: a plain static server whose pages embed the widget."""
    return host_site[0]


@pytest.fixture(scope="module")
def site_dir(host_site) -> Path:
    """Where the second origin's pages are written."""
    return host_site[1]


@pytest.fixture(scope="module")
def scripted(host_origin, site_dir, tmp_path_factory) -> Iterator[tuple[str, ScriptedEngine]]:
    """The real app over the scripted engine, with an API key and CORS for the host origin."""
    engine = ScriptedEngine()
    settings = Settings(
        index_dir=tmp_path_factory.mktemp("unused-index"),
        api_keys=[API_KEY],
        cors_origins=[host_origin],
        rate_limit_per_minute=0,
    )
    with running_server(create_app(settings, engine=engine)) as api:
        common = f'data-api-key="{API_KEY}" data-title="合作伙伴助手" data-color="#0f766e" data-position="left"'
        (site_dir / "scripted.html").write_text(host_page(api, common), encoding="utf-8")
        (site_dir / "scripted-open.html").write_text(host_page(api, common + ' data-open="true"'), encoding="utf-8")
        try:
            yield api, engine
        finally:
            engine.release.set()


# --- helpers ----------------------------------------------------------------------------


def open_widget(page: Page) -> None:
    """Click the floating button and wait for the panel."""
    page.locator(".launcher").click()
    expect(page.locator(".panel")).to_be_visible()


def send(page: Page, text: str) -> None:
    """Type a question into the widget and press Enter."""
    box = page.get_by_role("textbox", name="输入你的问题")
    box.fill(text)
    box.press("Enter")


def shadow_count(page: Page, selector: str) -> int:
    """How many elements inside the widget's shadow root match ``selector``."""
    return page.evaluate(
        "s => document.querySelector('rag-chat-widget').shadowRoot.querySelectorAll(s).length", selector
    )


def answers_done(page: Page):
    """Assistant bubbles whose answer is complete."""
    return page.locator('.msg.bot[data-state="done"]')


# Records every state of the streaming bubble (its text and the send/stop button's label).
RECORD_STREAMING = """() => {
  const root = document.querySelector('rag-chat-widget').shadowRoot;
  window.__streamed = [];
  new MutationObserver(() => {
    const bubble = root.querySelector('.answer.streaming');
    if (bubble) window.__streamed.push([bubble.textContent, root.querySelector('.sendbtn').getAttribute('aria-label')]);
  }).observe(root, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def paragraphs(text: str) -> list[str]:
    """The article view shows one paragraph per non-blank line."""
    return [line for line in text.split("\n") if line.strip()]


def expect_highlight(page: Page, passage: str) -> None:
    """The passage is highlighted, one <mark> per line it spans."""
    expect(page.locator("mark")).to_have_text([line for line in passage.split("\n") if line.strip()])


# --- scripted-engine tests --------------------------------------------------------------


def test_options_keyboard_and_isolation(desktop_page: Page, scripted, host_origin):
    """data- options apply, the keyboard drives the widget, and the host page's CSS does not leak in."""
    page = desktop_page
    with page.expect_response(lambda r: r.url.endswith("/widget.js")) as script_info:
        page.goto(f"{host_origin}/scripted.html")
    script = script_info.value
    assert (script.status, script.headers["content-type"]) == (200, "text/javascript; charset=utf-8")
    launcher = page.get_by_role("button", name="打开问答助手")
    expect(launcher).to_be_visible()  # the host's `button {display:none !important}` stays outside
    expect(launcher).to_have_attribute("aria-expanded", "false")
    color = launcher.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(15, 118, 110)"  # data-color
    box = launcher.bounding_box()
    assert box is not None and box["x"] < 100  # data-position="left"

    launcher.focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="合作伙伴助手")
    expect(panel).to_be_visible()
    expect(page.get_by_role("button", name="关闭问答助手")).to_have_attribute("aria-expanded", "true")
    textbox = page.get_by_role("textbox", name="输入你的问题")
    expect(textbox).to_be_focused()

    # Shift+Enter is a new line, not a send.
    page.keyboard.type("第一行")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("第二行")
    expect(textbox).to_have_value("第一行\n第二行")
    assert page.locator(".msg.user").count() == 0

    # Enter sends, with the API key from data-api-key.
    with page.expect_request(lambda r: r.url.endswith("/api/chat") and r.method == "POST") as request_info:
        page.keyboard.press("Enter")
    request = request_info.value
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.post_data_json == {"messages": [{"role": "user", "content": "第一行\n第二行"}], "stream": True}
    expect(answers_done(page)).to_have_count(1)
    answer = page.locator(".msg.bot .answer").last
    expect(answer).to_have_text("关于“第一行\n第二行”：留量比流量更重要1。")
    assert answer.evaluate("e => getComputedStyle(e).color") != "rgb(255, 0, 0)"
    expect(textbox).to_have_value("")

    # Escape closes the panel and gives focus back to the launcher.
    textbox.focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page.get_by_role("button", name="打开问答助手")).to_be_focused()


def test_data_open_shows_the_panel_on_load(desktop_page: Page, scripted, host_origin):
    """data-open="true" opens the panel without a click, with the title and welcome message."""
    page = desktop_page
    page.goto(f"{host_origin}/scripted-open.html")
    expect(page.get_by_role("dialog", name="合作伙伴助手")).to_be_visible()
    expect(page.locator(".msg.welcome")).to_contain_text("你好！我可以回答关于文章资料的问题")


def test_answer_streams_in_and_done_replaces_the_text(desktop_page: Page, scripted, host_origin):
    """Deltas show while the stream is open (with a stop button); the done event's text replaces them."""
    page = desktop_page
    api, engine = scripted
    engine.release.clear()
    page.goto(f"{host_origin}/scripted.html")
    open_widget(page)
    send(page, "流式测试")
    streaming = page.locator(".answer.streaming")
    expect(streaming).to_have_text(STREAM_FIRST)
    expect(page.get_by_role("button", name="停止生成")).to_be_visible()
    engine.release.set()
    expect(answers_done(page)).to_have_count(1)
    expect(page.locator(".msg.bot .answer").last).to_have_text("产业互联网的关键不在流量，而在留量1。")
    expect(page.get_by_role("button", name="发送")).to_be_visible()
    source = page.locator(".source").first
    expect(source).to_contain_text("测试作者 · 2022年7月8日")


def test_stop_keeps_the_partial_answer(desktop_page: Page, scripted, host_origin):
    """The stop button aborts the stream, keeps what arrived and lets the next question go out."""
    page = desktop_page
    api, engine = scripted
    engine.release.clear()
    page.goto(f"{host_origin}/scripted.html")
    open_widget(page)
    send(page, "停止测试")
    expect(page.locator(".answer.streaming")).to_have_text(STREAM_FIRST)
    page.get_by_role("button", name="停止生成").click()
    stopped = page.locator('.msg.bot[data-state="stopped"]')
    expect(stopped.locator(".answer")).to_have_text(STREAM_FIRST)
    expect(stopped.locator(".note")).to_have_text("已停止生成。")
    engine.release.set()
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as request_info:
        send(page, "继续")
    assert request_info.value.post_data_json["messages"] == [
        {"role": "user", "content": "停止测试"},
        {"role": "assistant", "content": STREAM_FIRST},
        {"role": "user", "content": "继续"},
    ]
    expect(answers_done(page)).to_have_count(1)


def focused_tag(page: Page) -> str:
    """The tag of the element focused inside the widget's shadow root ("" when focus left it)."""
    return page.evaluate("(document.querySelector('rag-chat-widget').shadowRoot.activeElement || {}).tagName || ''")


def test_double_click_sends_once_and_stopping_before_any_text_keeps_the_keyboard(
    desktop_page: Page, scripted, host_origin
):
    page = desktop_page
    api, engine = scripted
    engine.release.clear()
    page.goto(f"{host_origin}/scripted.html")
    open_widget(page)
    page.get_by_role("textbox", name="输入你的问题").fill("静默测试")
    # The second click of a double-click lands on the button that now reads "stop": it is ignored.
    page.get_by_role("button", name="发送").dblclick()
    stop = page.get_by_role("button", name="停止生成")
    expect(stop).to_be_visible()
    page.wait_for_timeout(300)
    assert shadow_count(page, '.msg.bot[data-state="stopped"]') == 0
    stop.focus()
    page.keyboard.press("Enter")
    stopped = page.locator('.msg.bot[data-state="stopped"]')
    expect(stopped).to_have_text("助手：已停止生成。")  # nothing arrived: no answer text, and no "null"
    assert focused_tag(page) == "TEXTAREA"  # the disabled send button does not swallow the focus
    engine.release.set()


def test_a_right_to_left_host_page_does_not_mirror_the_widget(desktop_page: Page, scripted, host_origin):
    page = desktop_page
    page.goto(f"{host_origin}/scripted.html")
    page.evaluate("document.documentElement.dir = 'rtl'")
    open_widget(page)
    direction = page.evaluate(
        "getComputedStyle(document.querySelector('rag-chat-widget').shadowRoot.querySelector('.panel')).direction")
    assert direction == "ltr"


def test_xss_in_answer_and_article_is_shown_as_text(desktop_page: Page, scripted, host_origin):
    """Markup in answers, titles and article text is rendered as text and never runs."""
    page = desktop_page
    page.goto(f"{host_origin}/scripted.html")
    open_widget(page)
    send(page, "危险内容测试")
    expect(answers_done(page)).to_have_count(1)
    answer = page.locator(".msg.bot .answer").last
    expect(answer).to_have_text(f"危险内容：{XSS_IMG} 与 {XSS_SCRIPT}1")
    expect(page.locator(".source .st").first).to_have_text(META.title)

    page.locator(".msg.bot .answer .cite").first.click()
    expect(page.locator(".atext")).to_be_visible()
    assert page.locator(".atext p").all_text_contents() == paragraphs(ARTICLE_TEXT)
    expect(page.locator(".atitle")).to_have_text(META.title)
    expect(page.locator("mark")).to_have_text(PASSAGE)
    assert page.locator(".ameta a").count() == 0  # the javascript: URL is not turned into a link
    assert shadow_count(page, "img, script, iframe") == 0
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_article_view_highlights_and_scrolls_to_the_passage(desktop_page: Page, scripted, host_origin, artifacts):
    """A source opens the article in the panel with the passage in <mark>, scrolled into view; Escape goes back."""
    page = desktop_page
    page.goto(f"{host_origin}/scripted.html")
    open_widget(page)
    send(page, "什么是留量")
    expect(answers_done(page)).to_have_count(1)
    source = page.locator(".source").first
    source.click()
    mark = page.locator("mark")
    expect(mark).to_have_text(PASSAGE)
    expect(page.get_by_role("heading", name=META.title)).to_be_focused()
    scroller = page.locator(".ascroll").bounding_box()
    box = mark.bounding_box()
    assert scroller is not None and box is not None
    assert scroller["y"] <= box["y"] and box["y"] + box["height"] <= scroller["y"] + scroller["height"]
    assert page.locator(".ascroll").evaluate("e => e.scrollTop") > 0  # it had to scroll to get there
    page.screenshot(path=artifacts / "widget-article-desktop.png")

    page.keyboard.press("Escape")  # back to the chat, focus on the source that opened the article
    expect(page.locator(".article")).to_be_hidden()
    expect(page.locator(".panel")).to_be_visible()
    expect(source).to_be_focused()


def test_errors_show_retry_that_resends_the_question(desktop_page: Page, scripted, host_origin):
    """A network failure and then a 500 both show a Chinese message and 重试; the retry succeeds."""
    page = desktop_page
    api, engine = scripted
    engine.failures_left = engine.midway_failures_left = 1
    page.goto(f"{host_origin}/scripted.html")
    open_widget(page)
    page.route("**/api/chat", lambda route: route.abort("connectionrefused"))
    send(page, "出错测试")
    error = page.locator('.msg.bot[data-state="error"]')
    expect(error.locator(".error-text")).to_have_text("无法连接到问答服务，请检查网络后重试。")
    page.unroute("**/api/chat")

    with page.expect_response(lambda r: r.url.endswith("/api/chat")) as response_info:
        error.get_by_role("button", name="重试").click()
    assert response_info.value.status == 500
    expect(error.locator(".error-text")).to_have_text(INTERNAL_ERROR)

    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as request_info:
        error.get_by_role("button", name="重试").click()
    assert request_info.value.post_data_json["messages"] == [{"role": "user", "content": "出错测试"}]
    expect(answers_done(page)).to_have_count(1)
    expect(page.locator(".msg.bot .answer").last).to_have_text("关于“出错测试”：留量比流量更重要1。")
    expect(page.locator(".msg.user")).to_have_count(1)
    expect(page.locator(".msg.error")).to_have_count(0)

    # A failure after the stream started arrives as an SSE error event: same message, same retry.
    send(page, "中途出错测试")
    expect(error.locator(".error-text")).to_have_text(INTERNAL_ERROR)
    error.get_by_role("button", name="重试").click()
    expect(answers_done(page)).to_have_count(2)
    expect(page.locator(".msg.bot .answer").last).to_have_text("关于“中途出错测试”：留量比流量更重要1。")


def test_retrieval_badges_refusal_and_clear(desktop_page: Page, scripted, host_origin):
    """Retrieval-only and degraded answers carry a badge; refusals are plain; clearing forgets the history."""
    page = desktop_page
    api, engine = scripted
    page.goto(f"{host_origin}/scripted.html")
    open_widget(page)
    send(page, "离线测试")
    expect(answers_done(page)).to_have_count(1)
    first = answers_done(page).nth(0)
    expect(first.locator(".badge")).to_have_text("仅检索")
    expect(first.locator(".mode-note")).to_have_text("离线检索模式：以下内容直接摘自原文。")

    send(page, "降级测试")
    expect(answers_done(page)).to_have_count(2)
    second = answers_done(page).nth(1)
    expect(second.locator(".badge")).to_have_text("仅检索")
    expect(second.locator(".mode-note")).to_have_text("大模型暂时不可用，已切换为离线检索模式：以下内容直接摘自原文。")

    # The model answered but wrote nothing the passages support: not "unavailable".
    send(page, "概括未核实测试")
    expect(answers_done(page)).to_have_count(3)
    expect(answers_done(page).nth(2).locator(".mode-note")).to_have_text(
        "大模型的回答未能在原文中核实，已略去：以下内容直接摘自原文。")

    send(page, "拒答测试")
    expect(answers_done(page)).to_have_count(4)
    refusal = answers_done(page).nth(3)
    expect(refusal.locator(".answer")).to_have_text(REFUSAL)
    expect(refusal.locator(".badge, .sources, .cite")).to_have_count(0)

    page.get_by_role("button", name="清空对话").click()
    expect(page.locator(".msg")).to_have_count(1)
    expect(page.locator(".msg.welcome")).to_be_visible()
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as request_info:
        send(page, "重新开始")
    assert request_info.value.post_data_json["messages"] == [{"role": "user", "content": "重新开始"}]
    expect(answers_done(page)).to_have_count(1)


# --- the real app over the real index ---------------------------------------------------

QUESTION = "为什么说流量不是产业互联网的关键？"  # one of the demo page's example questions
FOLLOW_UP = "那B端用户真正追求的是什么？"
FOLLOW_UP_STANDALONE = "B端用户真正追求的是什么？"


def settings_with(base: Settings, **changes: object) -> Settings:
    """A validated copy of ``base``."""
    return Settings.model_validate({**base.model_dump(), **changes})


def rendered(text: str) -> str:
    """How the widget shows answer text: each [n] marker becomes a button labelled n."""
    return re.sub(r"\[(\d+)\]", r"\1", text)


def source_meta(author: str | None, date: str | None) -> str:
    """The widget's "author · date" line for an ISO date."""
    parts = [author] if author else []
    if date:
        y, m, d = date[:10].split("-")
        parts.append(f"{int(y)}年{int(m)}月{int(d)}日")
    return " · ".join(parts)


def cited_sentence(hit: Hit) -> str:
    """The longest sentence of a passage, as an LLM answer that cites it would quote it."""
    sentences = [s.strip() for s in re.split(r"(?<=。)", hit.chunk.text) if s.strip()]
    return max(sentences, key=len)


@pytest.fixture(scope="module")
def offline_api(indexed_settings, engine, host_origin, site_dir) -> Iterator[str]:
    """The real app in its offline (retrieval-only) default, open to the host origin through CORS."""
    settings = settings_with(indexed_settings, cors_origins=[host_origin])
    with running_server(create_app(settings, engine=engine)) as api:
        (site_dir / "real.html").write_text(host_page(api, 'data-title="合作伙伴助手"'), encoding="utf-8")
        yield api


@pytest.fixture(scope="module")
def llm_api(indexed_settings, engine) -> Iterator[tuple[str, FakeLLM]]:
    """The real app whose engine (same index and embedder) answers through a scripted OpenAI-compatible LLM."""
    with FakeLLM() as llm:
        settings = settings_with(
            indexed_settings, openai_base_url=llm.base_url, openai_api_key="test-key", llm_model="fake-model"
        )
        llm_engine = Engine(settings, engine.index, engine.embedder)
        with running_server(create_app(settings, engine=llm_engine)) as api:
            yield api, llm


def test_demo_page_streams_cited_answer_highlights_passage_and_follows_up(
    desktop_page: Page, llm_api, engine, artifacts
):
    """The demo page end to end: streamed LLM answer, clickable [n], highlighted passage, follow-up with history."""
    page = desktop_page
    api, llm = llm_api
    hit = engine.search(QUESTION)[0]
    sentence = cited_sentence(hit)
    half = len(sentence) // 2
    # The stream pauses after its first piece, so that piece reaches the page on its own.
    llm.script(stream([sentence[:half], sentence[half:] + "[1]"], stall_after=1, stall_seconds=2))
    final = verify(sentence + "[1]", engine.search(QUESTION)).text

    page.goto(f"{api}/")
    expect(page.get_by_role("heading", name="向产业互联网文章提问")).to_be_visible()
    page.evaluate(RECORD_STREAMING)
    page.get_by_role("button", name=QUESTION).click()  # example question -> RagWidget.ask()
    expect(page.get_by_role("dialog", name="产业互联网问答助手")).to_be_visible()
    expect(answers_done(page)).to_have_count(1)
    assert [sentence[:half], "停止生成"] in page.evaluate("window.__streamed")
    answer = answers_done(page).last
    expect(answer.locator(".answer")).to_have_text(rendered(final))
    expect(answer.locator(".badge")).to_have_count(0)  # an LLM answer has no retrieval badge
    expect(answer.locator(".answer .cite")).to_have_count(1)
    expect(answer.locator(".source .st")).to_have_text([hit.article.title])
    meta = source_meta(hit.article.author, hit.article.date)  # the line is left out when both are unknown
    expect(answer.locator(".source .sm")).to_have_text([meta] if meta else [])
    page.screenshot(path=artifacts / "widget-desktop.png")

    answer.locator(".answer .cite").first.click()
    expect_highlight(page, hit.chunk.text)
    mark = page.locator("mark").first
    expect(page.get_by_role("heading", name=hit.article.title)).to_be_visible()
    scroller, box = page.locator(".ascroll").bounding_box(), mark.bounding_box()
    assert scroller is not None and box is not None
    assert scroller["y"] <= box["y"] < scroller["y"] + scroller["height"]  # scrolled into view
    page.screenshot(path=artifacts / "widget-desktop-article.png")
    page.get_by_role("button", name="返回对话").click()

    follow_hit = engine.search(FOLLOW_UP_STANDALONE)[0]
    follow_sentence = cited_sentence(follow_hit)
    llm.script(reply(FOLLOW_UP_STANDALONE), stream([follow_sentence + "[1]"]))
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as request_info:
        send(page, FOLLOW_UP)
    assert request_info.value.post_data_json == {
        "messages": [
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": final},
            {"role": "user", "content": FOLLOW_UP},
        ],
        "stream": True,
    }
    expect(answers_done(page)).to_have_count(2)
    expect(answers_done(page).last.locator(".answer")).to_have_text(
        rendered(verify(follow_sentence + "[1]", engine.search(FOLLOW_UP_STANDALONE)).text)
    )
    # The history reached the LLM: the rewrite and the answer prompt both quote the first question.
    assert len(llm.requests) == 3 and llm.pending == 0
    for request in llm.requests[1:]:
        assert f"用户：{QUESTION}" in "\n".join(m["content"] for m in request["messages"])


def test_widget_embedded_from_another_origin_answers_offline(desktop_page: Page, offline_api, engine, host_origin):
    """A page on a second port embeds the widget; CORS lets it call the API; the answer is marked retrieval-only."""
    page = desktop_page
    expected = engine.ask(QUESTION)
    assert expected.mode == "retrieval" and expected.citations
    page.goto(f"{host_origin}/real.html")
    open_widget(page)
    with page.expect_response(lambda r: r.url == f"{offline_api}/api/chat") as response_info:
        send(page, QUESTION)
    response = response_info.value
    assert response.status == 200
    assert response.headers["access-control-allow-origin"] == host_origin
    assert response.headers["content-type"].startswith("text/event-stream")
    expect(answers_done(page)).to_have_count(1)
    answer = answers_done(page).last
    expect(answer.locator(".answer")).to_have_text(rendered(expected.answer))
    expect(answer.locator(".badge")).to_have_text("仅检索")
    expect(answer.locator(".mode-note")).to_have_text("离线检索模式：以下内容直接摘自原文。")
    expect(answer.locator(".source .st")).to_have_text([c.title for c in expected.citations])

    answer.locator(".source").first.click()
    expect_highlight(page, expected.citations[0].passage)
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_an_over_long_question_is_cut_between_characters_not_inside_one(
    desktop_page: Page, offline_api, host_origin
):
    """2000 is the server's limit in characters; cutting UTF-16 units would leave half an emoji (a 422)."""
    page = desktop_page
    page.goto(f"{host_origin}/real.html")
    open_widget(page)
    with page.expect_response(lambda r: r.url == f"{offline_api}/api/chat") as response_info:
        page.evaluate("RagWidget.ask('产业互联网' + '😀'.repeat(2000))")
    response = response_info.value
    assert response.status == 200
    sent = response.request.post_data_json["messages"][-1]["content"]
    assert sent == "产业互联网" + "😀" * 1995
    expect(answers_done(page)).to_have_count(1)


def test_phone_layout_has_no_horizontal_scroll(phone_page: Page, offline_api, artifacts):
    """At 375 px the demo page and the full-screen panel fit the width, with an answer and an article open."""
    page = phone_page
    width = page.viewport_size["width"]
    assert width == 375

    def assert_fits() -> None:
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
        panel = page.locator(".panel").bounding_box()
        assert panel is not None and panel["x"] >= 0 and panel["x"] + panel["width"] <= width
        overflow = page.evaluate(
            """() => [...document.querySelector('rag-chat-widget').shadowRoot.querySelectorAll('.messages, .ascroll')]
                 .filter(e => e.offsetParent).map(e => e.scrollWidth - e.clientWidth)"""
        )
        assert overflow and max(overflow) <= 0

    demo = page.goto(f"{offline_api}/")
    assert demo is not None and demo.headers["content-type"] == "text/html; charset=utf-8"
    expect(page.get_by_role("heading", name="向产业互联网文章提问")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    page.get_by_role("button", name="打开问答助手").click()
    expect(page.locator(".panel")).to_be_visible()
    page.locator(".chip").first.click()  # data-suggestions on the demo page
    expect(answers_done(page)).to_have_count(1)
    assert_fits()
    page.screenshot(path=artifacts / "widget-phone.png")

    page.locator(".source").first.click()
    expect(page.locator("mark").first).to_be_visible()
    assert_fits()
    page.screenshot(path=artifacts / "widget-phone-article.png")
