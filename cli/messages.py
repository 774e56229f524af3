"""What the `rag` command prints for the library's error codes and degraded reasons: its one table
of user-facing Chinese text (the API has its own in api/errors.py)."""

from __future__ import annotations

from rag import RagError

# RagError.code -> message; ``{name}`` fields come from the error's params. Codes without a template
# print the error's own message (an index path, the command that fixes it).
ERRORS: dict[str, str] = {
    "empty_question": "问题不能为空。",
    "question_too_long": "问题过长（最多 {max_chars} 个字符）。",
    "invalid_question": "问题含有无效的字符（不是合法的 UTF-8 文本）。",
    "embedder_unavailable": "嵌入模型无法加载（{detail}）。",
    "reranker_unavailable": "重排序模型无法加载（{detail}）。",
    "index_unavailable": "索引服务暂时无法访问（{detail}）。",
}

# Why an LLM answer fell back to retrieval, for people (the JSON keeps the codes).
DEGRADED: dict[str, str] = {
    "not_configured": "未配置（需要 OPENAI_BASE_URL、OPENAI_API_KEY 和 RAG_LLM_MODEL）",
    "timeout": "请求超时",
    "connection": "无法连接",
    "rate_limited": "请求过多（HTTP 429）",
    "stream_broken": "输出中途中断",
    "empty": "返回了空回答",
    "bad_reply": "返回了无法解析的内容",
    "busy": "本地模型正忙（等待的请求已满）",
    "model_missing": "本地模型未安装或无法加载（运行 rag model install）",
    "model_refused": "模型认为资料中没有答案，但检索找到了相关段落",
    "unsupported": "模型写的概括得不到原文支持，已略去",
    "too_long": "模型写的概括过长，已略去",
    "api_error": "接口返回了错误",
}


def error_message(exc: RagError) -> str:
    """The line printed after 「错误：」 for a library error."""
    template = ERRORS.get(exc.code)
    return template.format(**{"detail": str(exc), **exc.params}) if template is not None else str(exc)


def degraded_message(reason: str) -> str:
    """Why the LLM was not used, in Chinese (an unknown reason is shown as its code)."""
    if reason.startswith("http_") and reason[5:].isdigit():
        return f"接口返回了 HTTP {reason[5:]} 错误"
    return DEGRADED.get(reason, reason)
