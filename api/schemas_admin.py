"""Response models of the operator's routes: documents, indexing jobs, the question log."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FileProblem(BaseModel):
    """A file that was refused or could not be indexed, with the reason in Chinese."""

    name: str | None = Field(None, description="File name as uploaded (upload errors).", examples=["报告.pdf"])
    path: str | None = Field(None, description="Path of the file (indexing errors).", examples=["data/articles/坏.pdf"])
    reason: str = Field(description="Why, in Chinese.", examples=["PDF 文件已损坏或无法解析"])


class JobOut(BaseModel):
    """An indexing job: re-indexes the corpus folder, then the server answers from the new version."""

    id: str = Field(description="Job id.", examples=["3f2a9c1b7d20"])
    reason: str = Field(description="What asked for it: upload, delete, reindex (joined by + when merged).")
    state: Literal["queued", "running", "done", "failed", "cancelled"] = Field(description="Where the job is.")
    percent: float = Field(description="Progress, 0–100.", examples=[42.5])
    stage: str = Field(description="queued, load, embed, index, switch, done, failed or cancelled.")
    stage_text: str = Field(description="The stage in Chinese.", examples=["嵌入段落"])
    created: float = Field(description="Unix time the job was created.")
    started: float | None = Field(description="Unix time it started running.")
    finished: float | None = Field(description="Unix time it ended.")
    errors: list[FileProblem] = Field(description="Files of the folder that could not be indexed, with reasons.")
    message: str | None = Field(description="Why the job failed, in Chinese.")
    articles: int | None = Field(description="Articles in the new index version.")
    chunks: int | None = Field(description="Passages in the new index version.")
    version: str | None = Field(description="The new index version.")
    requests: int = Field(description="How many requests this job serves (later ones join a waiting job).")


class DocumentOut(BaseModel):
    """A file of the corpus folder and its state in the served index."""

    name: str = Field(description="Path inside the corpus folder.", examples=["青藤制造云.pdf"])
    size: int = Field(description="Size in bytes.")
    modified: float = Field(description="Unix time of the last change.")
    status: Literal["indexed", "failed", "pending"] = Field(
        description="indexed: answerable; failed: skipped (see reason); pending: waiting for a job."
    )
    reason: str | None = Field(description="Why the file could not be indexed.")
    article_id: str | None = Field(description="Article id once indexed.")
    title: str | None = Field(description="Article title once indexed.")
    author: str | None = Field(description="Author, when known.")
    date: str | None = Field(description="Publication date, when known.")
    chunks: int = Field(description="Passages of the article in the index.")


class DocumentsResponse(BaseModel):
    documents: list[DocumentOut] = Field(description="Every file of the corpus folder, sorted by name.")
    job: JobOut | None = Field(description="The running or waiting job, else the last one.")


class SavedFile(BaseModel):
    name: str = Field(description="Sanitised name it was saved under.", examples=["报告.pdf"])
    size: int = Field(description="Bytes received.")
    replaced: bool = Field(description="A file of that name existed and was replaced.")


class UploadResponse(BaseModel):
    saved: list[SavedFile] = Field(description="Files saved into the corpus folder.")
    rejected: list[FileProblem] = Field(description="Files refused (type, name, size, count), with reasons.")
    job: JobOut | None = Field(description="The indexing job that will include the saved files (none if none saved).")


class JobResponse(BaseModel):
    job: JobOut


class DeleteResponse(BaseModel):
    deleted: str = Field(description="The removed file.")
    job: JobOut = Field(description="The job that removes it from the index.")


class JobsResponse(BaseModel):
    jobs: list[JobOut] = Field(description="Recent jobs, newest first.")
