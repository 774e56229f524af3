"""Response models of the operator's routes: documents, indexing jobs, the question log."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

_ERROR = {"path": "data/articles/坏.pdf", "reason": "PDF 文件已损坏或无法解析"}
_JOB = {"id": "3f2a9c1b7d20", "reason": "upload", "state": "running", "percent": 42.5, "stage": "embed",
        "stage_text": "嵌入段落", "created": 1764650000.0, "started": 1764650000.5, "finished": None, "errors": [],
        "message": None, "articles": None, "chunks": None, "version": None, "requests": 1}
_DOC = {"name": "青藤制造云.pdf", "size": 68082, "modified": 1764650000.0, "status": "indexed", "reason": None,
        "article_id": "青藤制造云-1a2b3c4d5e", "title": "青藤制造云的纺织实践", "author": "林青", "date": None, "chunks": 4}
_QUESTION = {"id": "9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d", "created": "2026-12-02T05:00:00+00:00", "route": "chat",
             "question": "白杨物流链的生鲜损耗率降到了多少？", "answer": "资料中没有找到与这个问题相关的内容。",
             "mode": "retrieval", "refused": True, "degraded": None, "grounded": False, "citations": 0,
             "latency_ms": 35, "rating": "down", "comment": "应该有这篇文章"}
_DAY = {"day": "2026-12-02", "questions": 12, "refused": 3, "up": 4, "down": 1}


class FileProblem(BaseModel):
    """A file that was refused or could not be indexed, with the reason in Chinese."""

    name: str | None = Field(None, description="File name as uploaded (upload errors), or in the corpus folder "
                             "(indexing errors).", examples=["报告.pdf"])
    path: str | None = Field(None, description="Path of the file (indexing errors).", examples=[_ERROR["path"]])
    reason: str = Field(description="Why, in Chinese.", examples=[_ERROR["reason"]])


class JobOut(BaseModel):
    """An indexing job: re-indexes the corpus folder, then the server answers from the new version."""

    id: str = Field(description="Job id.", examples=[_JOB["id"]])
    reason: str = Field(description="What asked for it: upload, delete, reindex, or resume (re-indexing after a "
                        "restart interrupted a job); joined by + when merged.", examples=["upload+delete"])
    state: Literal["queued", "running", "done", "failed", "cancelled"] = Field(
        description="Where the job is.", examples=["running"])
    percent: float = Field(description="Progress, 0–100.", examples=[42.5])
    stage: str = Field(description="queued, load, embed, embed_sentences, index, switch, done, failed or cancelled.", examples=["embed"])
    stage_text: str = Field(description="The stage in Chinese.", examples=["嵌入段落"])
    created: float = Field(description="Unix time the job was created.", examples=[_JOB["created"]])
    started: float | None = Field(description="Unix time it started running.", examples=[_JOB["started"]])
    finished: float | None = Field(description="Unix time it ended.", examples=[None])
    errors: list[FileProblem] = Field(description="Files of the folder that could not be indexed, with reasons.",
                                      examples=[[_ERROR]])
    message: str | None = Field(description="Why the job failed, in Chinese (a job a restart interrupted: "
                                "「任务因服务重启而中断，已自动重新建立索引。」).", examples=[None])
    articles: int | None = Field(description="Articles in the new index version.", examples=[8])
    chunks: int | None = Field(description="Passages in the new index version.", examples=[75])
    version: str | None = Field(description="The new index version.", examples=["v20261202-050000-ab12cd"])
    requests: int = Field(description="How many requests this job serves (later ones join a waiting job).",
                          examples=[1])


class DocumentOut(BaseModel):
    """A file of the corpus folder and its state in the served index."""

    name: str = Field(description="Path inside the corpus folder.", examples=[_DOC["name"]])
    size: int = Field(description="Size in bytes.", examples=[_DOC["size"]])
    modified: float = Field(description="Unix time of the last change.", examples=[_DOC["modified"]])
    status: Literal["indexed", "failed", "pending"] = Field(
        description="indexed: answerable; failed: skipped (see reason); pending: waiting for a job.",
        examples=["indexed"])
    reason: str | None = Field(description="Why the file could not be indexed.", examples=[None])
    article_id: str | None = Field(description="Article id once indexed.", examples=[_DOC["article_id"]])
    title: str | None = Field(description="Article title once indexed.", examples=[_DOC["title"]])
    author: str | None = Field(description="Author, when known.", examples=[_DOC["author"]])
    date: str | None = Field(description="Publication date, when known.", examples=["2022-07-08"])
    chunks: int = Field(description="Passages of the article in the index.", examples=[4])


class DocumentsResponse(BaseModel):
    documents: list[DocumentOut] = Field(description="Every file of the corpus folder, sorted by name.",
                                         examples=[[_DOC]])
    job: JobOut | None = Field(description="The running or waiting job, else the last one.", examples=[_JOB])


class SavedFile(BaseModel):
    name: str = Field(description="Sanitised name it was saved under.", examples=["报告.pdf"])
    size: int = Field(description="Bytes received.", examples=[68082])
    replaced: bool = Field(description="A file of that name existed and was replaced.", examples=[False])


class UploadResponse(BaseModel):
    saved: list[SavedFile] = Field(description="Files saved into the corpus folder.",
                                   examples=[[{"name": "报告.pdf", "size": 68082, "replaced": False}]])
    rejected: list[FileProblem] = Field(description="Files refused (type, name, size, count), with reasons.",
                                        examples=[[{"name": "大.pdf", "reason": "文件太大（上限 20 MB）"}]])
    job: JobOut | None = Field(description="The indexing job that will include the saved files (none if none saved).",
                               examples=[_JOB])


class JobResponse(BaseModel):
    job: JobOut = Field(description="The job.", examples=[_JOB])


class DeleteResponse(BaseModel):
    deleted: str = Field(description="The removed file.", examples=["报告.pdf"])
    job: JobOut = Field(description="The job that removes it from the index.", examples=[_JOB])


class JobsResponse(BaseModel):
    jobs: list[JobOut] = Field(description="Recent jobs, newest first.", examples=[[_JOB]])


class LoggedQuestionOut(BaseModel):
    """One logged question with its answer's outcome and the user's rating."""

    id: str = Field(description="Id (the answer's feedback_id).", examples=[_QUESTION["id"]])
    created: str = Field(description="UTC time, ISO 8601.", examples=[_QUESTION["created"]])
    route: str = Field(description="ask or chat.", examples=["chat"])
    question: str = Field(description="The question as asked.", examples=[_QUESTION["question"]])
    answer: str = Field(description="The answer text (first 2000 characters).", examples=[_QUESTION["answer"]])
    mode: str = Field(description="llm or retrieval.", examples=["retrieval"])
    refused: bool = Field(description="Nothing relevant was found.", examples=[True])
    degraded: str | None = Field(description="Why an LLM answer fell back to retrieval.", examples=[None])
    grounded: bool = Field(description="The answer cites supporting passages.", examples=[False])
    citations: int = Field(description="Passages cited.", examples=[0])
    latency_ms: int | None = Field(description="Time spent answering.", examples=[35])
    rating: Literal["up", "down"] | None = Field(description="👍 (up) or 👎 (down), if given.", examples=["down"])
    comment: str | None = Field(description="The user's comment with the rating.", examples=["应该有这篇文章"])


class QuestionsResponse(BaseModel):
    questions: list[LoggedQuestionOut] = Field(description="Newest first.", examples=[[_QUESTION]])


class DayCount(BaseModel):
    day: str = Field(description="UTC day.", examples=[_DAY["day"]])
    questions: int = Field(description="Questions asked.", examples=[12])
    refused: int = Field(description="Questions nothing relevant was found for.", examples=[3])
    up: int = Field(description="👍 given.", examples=[4])
    down: int = Field(description="👎 given.", examples=[1])


class DailyResponse(BaseModel):
    days: list[DayCount] = Field(description="Oldest first, UTC days.", examples=[[_DAY]])


class FeedbackResponse(BaseModel):
    ok: bool = Field(description="True once stored.", examples=[True])
