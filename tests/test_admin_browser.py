"""The admin page and the start-up wait, in a real chromium against real uvicorn servers.

- /admin: sign in with the token, drop a file on the upload area, watch the progress bar finish,
  ask in the widget, give 👎, find the question in the log filtered by 👎; 375 px and keyboard.
- The demo page opened before the index is loaded says it is loading and shows the articles once
  they are; a question asked meanwhile in the widget is answered when the index is ready.
"""

from __future__ import annotations

import shutil
import threading

import pytest
from conftest import CORPUS, make_settings
from playwright.sync_api import Page, expect
from serve import running_server

import api.app
from api.app import create_app
from rag.engine import Engine
from rag.index.store import open_index

pytest_plugins = ["tests.browser"]  # browser, desktop_page, phone_page
pytestmark = pytest.mark.browser

TOKEN = "admin-browser-token"
ARTICLE = ("# 紫檀陶瓷云的窑炉改造\n\n紫檀陶瓷云把景德镇一百二十座窑炉的温度曲线接入同一个平台，"
           "烧成合格率从百分之七十八提高到了百分之九十三。\n\n平台根据每一窑的装窑量自动推荐升温曲线，老师傅的经验第一次被数据记录下来。")
QUESTION = "紫檀陶瓷云把多少座窑炉接入了平台？"


@pytest.fixture(scope="module")
def admin_site(tmp_path_factory, index_dir, engine):
    root = tmp_path_factory.mktemp("admin-site")
    shutil.copytree(CORPUS, root / "corpus")
    shutil.copytree(index_dir, root / "index")
    settings = make_settings(root / "index", corpus_dir=root / "corpus", admin_token=TOKEN, question_log=True,
                             question_log_url=f"sqlite:///{root / 'questions.db'}")
    # The session engine's model serves this index copy too: no second model load.
    with running_server(create_app(settings, engine=Engine(settings, open_index(root / "index"), engine.embedder))) as base:
        yield base


def sign_in(page: Page, base: str) -> None:
    page.goto(base + "/admin")
    token = page.get_by_label("管理令牌")
    expect(token).to_be_focused()
    page.keyboard.type(TOKEN)
    page.keyboard.press("Enter")
    expect(page.locator("#docs li").first).to_be_visible()


def test_admin_upload_progress_ask_thumbs_down_and_log(desktop_page: Page, admin_site):
    page = desktop_page
    page.goto(admin_site + "/admin")
    page.get_by_label("管理令牌").fill("wrong")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("令牌无效，请重新输入。")
    sign_in(page, admin_site)
    expect(page.locator("#docs li")).to_have_count(5)
    expect(page.locator("#docs li").first.locator(".tag")).to_have_text("已索引")

    # Drop a file on the upload area (a real drop event carrying a File).
    transfer = page.evaluate_handle(
        "text => { const dt = new DataTransfer(); dt.items.add(new File([text], '紫檀陶瓷云.md', "
        "{type: 'text/markdown'})); return dt; }", ARTICLE)
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    progress = page.locator("#progress")
    expect(progress).to_be_visible()
    expect(page.locator("#progress-text")).to_have_text("完成：索引中共有 6 篇文章。", timeout=180_000)
    expect(progress).to_have_attribute("value", "100")
    row = page.locator('#docs li[data-name="紫檀陶瓷云.md"]')
    expect(row.locator(".tag")).to_have_text("已索引")
    expect(row.locator(".t")).to_contain_text("紫檀陶瓷云的窑炉改造")

    # Ask in the widget of the demo page and give 👎 with a comment.
    page.goto(admin_site + "/")
    page.locator(".launcher").click()
    page.get_by_role("textbox", name="输入你的问题").fill(QUESTION)
    page.keyboard.press("Enter")
    answer = page.locator('.msg.bot[data-state="done"]')
    expect(answer).to_have_count(1, timeout=60_000)
    expect(answer.locator(".source").first).to_contain_text("紫檀陶瓷云的窑炉改造")
    answer.get_by_role("button", name="没有帮助").click()
    expect(answer.locator(".fbstatus")).to_have_text("感谢反馈！")
    answer.get_by_role("textbox", name="哪里不好？（可选，最多 500 字）").fill("希望给出具体数字")
    answer.get_by_role("button", name="提交").click()
    expect(answer.locator(".fbstatus")).to_have_text("已收到你的意见，谢谢！")

    # Back in the admin page (the token stays for this tab): the question under 👎.
    page.goto(admin_site + "/admin")
    expect(page.locator("#docs li")).to_have_count(6)
    page.get_by_label("筛选").select_option("down")
    questions = page.locator("#questions li")
    expect(questions).to_have_count(1)
    expect(questions.locator(".t")).to_have_text(QUESTION)
    expect(questions).to_contain_text("评论：希望给出具体数字")
    page.get_by_label("筛选").select_option("refused")
    expect(page.locator("#q-status")).to_have_text("没有符合条件的问题。")
    expect(page.locator("#days tr").first.locator("td").nth(1)).to_have_text("1")


def test_admin_page_at_375px_with_the_keyboard(phone_page: Page, admin_site, artifacts):
    page = phone_page
    sign_in(page, admin_site)
    page.get_by_label("筛选").select_option("")
    expect(page.locator("#days tr")).to_have_count(14)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(artifacts / "admin-375.png"), full_page=True)
    # The file chooser is reachable with the keyboard: Tab from the focused section heading.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "files"
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_label("管理令牌")).to_be_focused()


class GatedEngine:
    """Engine.open that waits for the test to open the gate (the index 'loads' until then)."""

    gate = threading.Event()

    @classmethod
    def open(cls, settings, **options):
        cls.gate.wait(120)
        return Engine.open(settings, **options)


def test_demo_page_and_widget_wait_for_the_index(desktop_page: Page, indexed_settings, monkeypatch):
    monkeypatch.setattr(api.app, "Engine", GatedEngine)
    GatedEngine.gate.clear()
    page = desktop_page
    try:
        with running_server(create_app(indexed_settings), wait_ready=False) as base:
            page.goto(base + "/")
            expect(page.locator("#corpus-status")).to_have_text("正在加载…（服务刚刚启动，文章索引加载完成后自动显示）")
            page.locator(".launcher").click()
            page.get_by_role("textbox", name="输入你的问题").fill("产业互联网和消费互联网有什么区别？")
            page.keyboard.press("Enter")
            expect(page.locator(".loading-note")).to_have_text("正在加载…服务刚刚启动，索引加载完成后会自动回答。")
            GatedEngine.gate.set()
            expect(page.locator("#article-list li")).to_have_count(5, timeout=60_000)
            expect(page.locator("#corpus-status")).to_have_text("共 5 篇文章：")
            expect(page.locator('.msg.bot[data-state="done"] .source').first).to_be_visible(timeout=60_000)
    finally:
        GatedEngine.gate.set()
