"""Checks on uploaded documents: size, and type read from the content rather than the name."""

import datetime
import logging
import os
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# extension -> content type served back; the content must match the extension's family.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
OOXML_FOLDERS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}


@dataclass(frozen=True)
class CheckedUpload:
    file: object
    original_name: str
    stored_name: str
    content_type: str
    size: int


def _zip_kind(file) -> str | None:
    """Tell an OOXML or OpenDocument file by the members of its archive."""
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                return next((ext for ext, ct in CONTENT_TYPES.items() if ct == mimetype), None)
            if "[Content_Types].xml" in names:
                return next(
                    (ext for ext, folder in OOXML_FOLDERS.items() if any(n.startswith(folder) for n in names)), None
                )
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None


def _content_matches(extension: str, file) -> bool:
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if extension == "pdf":
        return head.startswith(b"%PDF-")
    if extension == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension == "gif":
        return head[:6] in (b"GIF87a", b"GIF89a")
    if extension == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if extension in ("doc", "xls", "ppt"):
        return head.startswith(OLE2)
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(file)
        file.seek(0)
        return kind == extension
    return False


def upload_check(file) -> CheckedUpload:
    """Return the upload with a safe name and its content type, or raise a ValidationError saying why not."""
    original_name = get_valid_filename(os.path.basename(file.name or "")) or "file"
    original_name = original_name[-200:]
    extension = original_name.rsplit(".", 1)[-1].lower() if "." in original_name else ""
    limit = settings.COCAP_UPLOAD_MAX_BYTES
    if file.size > limit:
        raise ValidationError(
            _("%(name)s is %(size)s; files may be at most %(limit)s.")
            % {"name": original_name, "size": filesizeformat(file.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    if file.size == 0:
        raise ValidationError(_("%(name)s is empty.") % {"name": original_name}, code="empty")
    if extension not in CONTENT_TYPES or not _content_matches(extension, file):
        raise ValidationError(
            _(
                "%(name)s is not a PDF, an image (PNG, JPEG, GIF, WebP) or an office document, "
                "or its content does not match its name."
            )
            % {"name": original_name},
            code="file_type",
        )
    return CheckedUpload(
        file=file,
        original_name=original_name,
        stored_name=f"{uuid.uuid4().hex}.{extension}",
        content_type=CONTENT_TYPES[extension],
        size=file.size,
    )


# What a page may show inline (its checked content matched the extension); never HTML or SVG, which could run.
PREVIEWABLE_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"}
# An inline file may be framed by the portal's own pages only, and may load nothing itself.
PREVIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'self'"


def attachment_is_previewable(attachment) -> bool:
    """Tell whether a page may show the attachment inline: an image or a PDF."""
    return attachment.content_type in PREVIEWABLE_TYPES


def attachment_response(attachment, *, preview: bool = False) -> FileResponse:
    """Send a stored attachment as a download under its sanitised original name.

    With `preview`, an image or a PDF is sent inline, for the record's page to show it (an <img> or an
    <iframe> of the portal only); any other kind is still a download.
    """
    inline = preview and attachment_is_previewable(attachment)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    if inline:
        # Set here, these replace the site-wide policy (frame-ancestors 'none', DENY) for this response only.
        response["Content-Security-Policy"] = PREVIEW_CSP
        response["X-Frame-Options"] = "SAMEORIGIN"
    return response


# The files of a form that could not be saved wait here (never served) until the user saves it; a day at most.
HELD_FOLDER = "held"
HELD_SESSION_KEY = "cocap_held_uploads"
HELD_MAX_AGE = datetime.timedelta(days=1)


def held_upload_names(session) -> dict[str, str]:
    """Return the id and original name of each upload the session holds."""
    return {hold_id: item["original_name"] for hold_id, item in session.get(HELD_SESSION_KEY, {}).items()}


def uploads_hold(session, uploads: Sequence[CheckedUpload]) -> list[str | None]:
    """Keep checked uploads of a form that could not be saved, for the user's next try.

    Return the id of each upload, or None for one the storage could not keep (a full disk).
    """
    held = _held_purged(session)
    ids = []
    for upload in uploads:
        try:
            path = default_storage.save(f"{HELD_FOLDER}/{upload.stored_name}", upload.file)
        except OSError:
            logger.exception("Holding the upload %r failed", upload.original_name)
            ids.append(None)
            continue
        hold_id = uuid.uuid4().hex
        held[hold_id] = {
            "path": path,
            "original_name": upload.original_name,
            "stored_name": upload.stored_name,
            "content_type": upload.content_type,
            "size": upload.size,
            "held_at": timezone.now().isoformat(),
        }
        ids.append(hold_id)
    session[HELD_SESSION_KEY] = held
    return ids


def uploads_take_held(session, ids: Iterable[str]) -> tuple[list[CheckedUpload], list[str]]:
    """Open the held uploads `ids` to be stored with a record; return them and the ids no longer held.

    Close the files once stored.
    """
    held = session.get(HELD_SESSION_KEY, {})
    uploads, gone = [], []
    for hold_id in ids:
        item = held.get(hold_id)
        try:
            file = default_storage.open(item["path"], "rb") if item else None
        except FileNotFoundError:
            file = None
        if file is None:
            gone.append(hold_id)
            continue
        uploads.append(
            CheckedUpload(
                file=file,
                original_name=item["original_name"],
                stored_name=item["stored_name"],
                content_type=item["content_type"],
                size=item["size"],
            )
        )
    return uploads, gone


def uploads_release(session, ids: Iterable[str]):
    """Forget held uploads; their files go once the transaction commits."""
    held = session.get(HELD_SESSION_KEY, {})
    paths = [held.pop(hold_id)["path"] for hold_id in ids if hold_id in held]
    session[HELD_SESSION_KEY] = held
    transaction.on_commit(lambda: _delete_files(paths))


def _held_purged(session) -> dict:
    """Return the session's held uploads younger than HELD_MAX_AGE; delete older files, any user's."""
    cutoff = timezone.now() - HELD_MAX_AGE
    held = session.get(HELD_SESSION_KEY, {})
    fresh = {k: v for k, v in held.items() if datetime.datetime.fromisoformat(v["held_at"]) >= cutoff}
    # Forms abandoned in other sessions leave files behind: whoever holds files next clears them.
    try:
        paths = [f"{HELD_FOLDER}/{name}" for name in default_storage.listdir(HELD_FOLDER)[1]]
        stale = [path for path in paths if default_storage.get_modified_time(path) < cutoff]
    except FileNotFoundError:  # no file held yet, or one deleted meanwhile: nothing to clear now
        stale = []
    except OSError:
        logger.exception("Listing the held uploads failed")
        stale = []
    _delete_files(stale)
    return fresh


def _delete_files(paths: Iterable[str]):
    for path in paths:
        try:
            default_storage.delete(path)
        except OSError:
            logger.exception("Deleting the held upload %s failed", path)
