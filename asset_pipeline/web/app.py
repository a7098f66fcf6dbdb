"""The verification page: a Starlette app on the station database, rendered with Jinja2.

Routes (no JavaScript anywhere; every answer is a page, errors included):
- `GET /` the upload form; `POST /verify` checks an uploaded certificate PDF or JSON;
- `GET /c/<id>?h=<sha256>` the page a certificate's QR code opens;
- `GET /reports` the form for a batch's access token; `POST /reports` the batch's page;
  `POST /reports/download` one of its signed documents (JSON or PDF).
Tokens travel in POST bodies, never in URLs, so they stay out of logs and browser history.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from asset_pipeline.errors import InvalidDocument, StorageError
from asset_pipeline.storage.transactions import transaction
from asset_pipeline.web.limits import BodyLimit, SecurityHeaders
from asset_pipeline.web.reports import batch_document, batch_view
from asset_pipeline.web.texts import kind_name
from asset_pipeline.web.verification import verify_stored, verify_upload

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
MAX_UPLOAD = 4 * 1024 * 1024  # a certificate PDF is about 60 kB; a report of 500 devices ~1 MB
FORM_OVERHEAD = 16 * 1024  # multipart boundaries and the small fields around the file
# Declared content types accepted for what the file's first bytes say it is.
ACCEPTED = {
    "pdf": {"application/pdf", "application/x-pdf"},
    "json": {"application/json", "text/json"},
}
SERVE_ENV = "ASSET_PIPELINE_SERVE"  # settings handed to `serve --workers` processes
T = TypeVar("T")


def create_app(
    sessions: sessionmaker[Session],
    *,
    organization: str = "",
    pdf_dirs: Sequence[Path] = (),
    max_upload: int = MAX_UPLOAD,
) -> Starlette:
    """The verification app on `sessions` (a station database that already exists).

    The signed JSON of every document is in the database; its PDF (signed by the station that
    issued it) is a file in that station's data directory, so PDFs are offered for download
    when they are found in `pdf_dirs` (the serving station's certificate and report folders).
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["utc"] = _utc
    env.filters["kind"] = kind_name
    env.globals.update(organization=organization, max_upload_mb=max_upload // (1024 * 1024))

    def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    async def in_session(work: Callable[[Session], T]) -> T:
        def run() -> T:
            try:
                with transaction(sessions, reconnect_seconds=5) as session:
                    return work(session)
            except StorageError as e:
                log.warning("database unavailable: %s", e)
                raise HTTPException(503) from e

        return await run_in_threadpool(run)

    async def home(request: Request) -> Response:
        return render("home.html")

    async def verify(request: Request) -> Response:
        data, filename = await _upload(request, max_upload)
        verdict = await in_session(lambda s: verify_upload(s, data))
        return render("result.html", verdict=verdict, source=filename)

    async def certificate(request: Request) -> Response:
        doc_id, sha = request.path_params["doc_id"], request.query_params.get("h", "")
        verdict = await in_session(lambda s: verify_stored(s, doc_id, sha))
        if verdict is None:
            raise HTTPException(404)
        return render("result.html", verdict=verdict, source=None)

    async def reports(request: Request) -> Response:
        if request.method == "GET":
            return render("token.html")
        form = await request.form(max_files=0, max_fields=4, max_part_size=1024)
        token = str(form.get("token", ""))
        view = await in_session(lambda s: batch_view(s, token))
        if view is None:
            raise HTTPException(404)
        pdfs = {d.document_id for d in view.reports if _pdf_file(pdf_dirs, d.document_id)}
        return render("batch.html", batch=view, token=token, pdfs=pdfs)

    async def download(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=4, max_part_size=1024)
        token, doc_id = str(form.get("token", "")), str(form.get("id", ""))
        fmt = str(form.get("format", "json"))
        data = await in_session(lambda s: batch_document(s, token, doc_id))
        if data is None or fmt not in ("json", "pdf"):
            raise HTTPException(404)
        if fmt == "pdf":
            data = await run_in_threadpool(_pdf_of, pdf_dirs, doc_id, data)
        media = "application/pdf" if fmt == "pdf" else "application/json"
        disposition = f'attachment; filename="{_safe_name(doc_id)}.{fmt}"'
        return Response(data, media_type=media, headers={"content-disposition": disposition})

    async def error_page(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return render("error.html", status=status, code=status)

    return Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/verify", verify, methods=["POST"]),
            Route("/c/{doc_id}", certificate, methods=["GET"]),
            Route("/reports", reports, methods=["GET", "POST"]),
            Route("/reports/download", download, methods=["POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(BodyLimit, max_bytes=max_upload + FORM_OVERHEAD),
        ],
        exception_handlers={HTTPException: error_page, Exception: error_page},
    )


def app_from_environment() -> Starlette:
    """The app each of uvicorn's worker processes builds (`serve --workers N`).

    The settings come from `SERVE_ENV` (JSON: db_url, organization, pdf_dirs), which `serve`
    sets before uvicorn starts the workers; each worker opens its own database connections.
    """
    from asset_pipeline.storage import open_existing_database

    settings = json.loads(os.environ[SERVE_ENV])
    sessions = open_existing_database(settings["db_url"])
    if sessions is None:
        raise StorageError("the station database vanished before the workers started")
    return create_app(sessions, organization=settings["organization"],
                      pdf_dirs=[Path(p) for p in settings["pdf_dirs"]])  # fmt: skip


async def _upload(request: Request, max_upload: int) -> tuple[bytes, str]:
    """The uploaded file's bytes, after its size and type are checked (HTTPException if not)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415)
    form = await request.form(max_files=1, max_fields=2, max_part_size=1024)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        await form.close()
        raise HTTPException(400)
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    data = await upload.read(max_upload + 1)  # the body cap already bounds what was spooled
    await form.close()
    if len(data) > max_upload:
        raise HTTPException(413)
    kind = "pdf" if data.startswith(b"%PDF-") else "json" if data[:1] == b"{" else None
    if kind is None or declared not in ACCEPTED[kind]:
        raise HTTPException(415)
    return data, upload.filename or ""


def _pdf_file(directories: Sequence[Path], doc_id: str) -> Path | None:
    name = f"{_safe_name(doc_id)}.pdf"
    return next((d / name for d in directories if (d / name).is_file()), None)


def _pdf_of(directories: Sequence[Path], doc_id: str, signed_json: bytes) -> bytes:
    """The document's PDF file, if it is here and carries exactly the stored signed JSON."""
    from asset_pipeline.evidence.pdf import read_pdf

    path = _pdf_file(directories, doc_id)
    if path is None:
        raise HTTPException(404)
    data = path.read_bytes()
    try:  # a file swapped on disk must not be handed out as the stored document's PDF
        attached = read_pdf(data).attachments.get(f"{doc_id}.json")
    except InvalidDocument as e:
        raise HTTPException(404) from e
    if attached != signed_json:
        raise HTTPException(404)
    return data


def _safe_name(doc_id: str) -> str:
    return "".join(c for c in doc_id if c.isalnum() or c == "-")[:64] or "document"


def _utc(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
