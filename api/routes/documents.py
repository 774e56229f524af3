"""Documents over HTTP (``RAG_ADMIN_TOKEN``): upload, list, delete, re-index, follow indexing jobs."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from api.deps import AdminDep, IndexingDep, SettingsDep
from api.errors import ApiError
from api.routes.chat import sse
from api.schemas import ErrorResponse
from api.schemas_admin import DeleteResponse, DocumentsResponse, JobResponse, JobsResponse, UploadResponse
from api.uploads import receive_uploads
from ingest.documents import DocumentNotFoundError

ORPHANED = "运行该任务的服务进程已退出，任务中断；稍后会自动重新建立索引。"

router = APIRouter(
    prefix="/api/admin",
    tags=["documents"],
    dependencies=[AdminDep],
    responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
)


@router.get("/documents", response_model=DocumentsResponse, summary="List documents with their status")
def list_documents(request: Request, indexing: IndexingDep) -> dict:
    """Every file of the corpus folder: indexed (title, author, date, passages), failed (reason) or pending."""
    engine = request.app.state.engine
    documents = indexing.corpus.documents(engine.index if engine is not None else None)
    return {"documents": [d.to_dict() for d in documents], "job": indexing.runner.current()}


@router.post(
    "/documents",
    response_model=UploadResponse,
    status_code=202,
    responses={200: {"model": UploadResponse, "description": "Nothing saved: every file was refused (see rejected)"},
               400: {"model": ErrorResponse}, 413: {"model": ErrorResponse}, 415: {"model": ErrorResponse}},
    summary="Upload documents (multipart/form-data, field files)",
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
    }}}}},
)
async def upload_documents(request: Request, indexing: IndexingDep, settings: SettingsDep) -> JSONResponse:
    """Save PDF, DOCX, Markdown, HTML or text files into the corpus folder and start an indexing job.

    Each file is bounded by RAG_UPLOAD_MAX_BYTES, a request by RAG_UPLOAD_MAX_FILES files; a
    refused file is listed with its reason and the others are kept.
    """
    saved, rejected = await receive_uploads(request, indexing.corpus, settings.upload_max_files)
    # Off the event loop: submitting writes the jobs file (under a lock other workers may hold).
    job = (await anyio.to_thread.run_sync(indexing.runner.submit, "upload")).to_dict() if saved else None
    return JSONResponse({"saved": saved, "rejected": rejected, "job": job}, status_code=202 if job else 200)


@router.delete("/documents/{name:path}", response_model=DeleteResponse, status_code=202,
               summary="Delete a document and re-index")
def delete_document(name: str, indexing: IndexingDep) -> dict:
    """Remove the file from the corpus folder; its passages leave the index when the job ends."""
    try:
        indexing.corpus.delete(name)
    except DocumentNotFoundError as exc:
        raise ApiError(404, "document_not_found", "找不到该文档。") from exc
    return {"deleted": name, "job": indexing.runner.submit("delete").to_dict()}


@router.post("/reindex", response_model=JobResponse, status_code=202, summary="Re-index the corpus folder")
def reindex(indexing: IndexingDep) -> dict:
    """Start (or join the waiting) indexing job for the whole corpus folder."""
    return {"job": indexing.runner.submit("reindex").to_dict()}


@router.get("/jobs", response_model=JobsResponse, summary="Recent indexing jobs")
def list_jobs(indexing: IndexingDep) -> dict:
    return {"jobs": indexing.runner.jobs()}


def _job(indexing, job_id: str) -> dict:
    job = indexing.runner.snapshot(job_id)
    if job is None:
        raise ApiError(404, "job_not_found", "找不到该任务。")
    return job


@router.get("/jobs/{job_id}", response_model=JobResponse, summary="One indexing job (poll it)")
def get_job(job_id: str, indexing: IndexingDep) -> dict:
    return {"job": _job(indexing, job_id)}


@router.get(
    "/jobs/{job_id}/events",
    summary="Follow an indexing job (Server-Sent Events)",
    responses={200: {"description": "`event: progress` with the job on every change; the last one is "
                     "`event: done` (state done, failed or cancelled).",
                     "content": {"text/event-stream": {}}}},
)
async def job_events(job_id: str, indexing: IndexingDep) -> EventSourceResponse:
    """The job as ``progress`` events while it changes, then one ``done`` event."""
    # Another worker's job is read from the jobs file: off the event loop.
    first = await anyio.to_thread.run_sync(_job, indexing, job_id)

    async def events():
        job, last = first, None
        while True:
            if job["state"] in ("done", "failed", "cancelled"):
                yield sse("done", job)
                return
            if await anyio.to_thread.run_sync(indexing.runner.orphaned, job_id):
                # Its process is gone: the job ends here (the next recovery marks and resumes it).
                yield sse("done", {**job, "state": "failed", "stage": "failed", "stage_text": "失败",
                                   "message": ORPHANED})
                return
            if job != last:
                yield sse("progress", job)
                last = job
            await anyio.sleep(0.2)
            job = await anyio.to_thread.run_sync(indexing.runner.snapshot, job_id) or job

    return EventSourceResponse(events(), sep="\n")
