"""Checks on uploaded documents: size, and type read from the content rather than the name."""

import os
import uuid
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

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


def attachment_response(attachment) -> FileResponse:
    """Send a stored attachment as a download under its sanitised original name."""
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
