import pytest
from django.core.exceptions import ValidationError

from core.uploads import upload_check
from tests.files import JPEG, PDF, PNG, office_zip, upload


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("report.pdf", PDF, "application/pdf"),
        ("photo.PNG", PNG, "image/png"),
        ("photo.jpg", JPEG, "image/jpeg"),
        (
            "minutes.docx",
            office_zip("word/"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("budget.xlsx", office_zip("xl/"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (
            "minutes.odt",
            office_zip(mimetype="application/vnd.oasis.opendocument.text"),
            "application/vnd.oasis.opendocument.text",
        ),
    ],
)
def test_accepted_kinds_are_recognised_by_content(name, content, content_type):
    checked = upload_check(upload(name, content))
    assert checked.content_type == content_type
    assert checked.stored_name.endswith("." + name.rsplit(".", 1)[1].lower())
    assert checked.original_name == name


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("virus.pdf", b"MZ\x90\x00 this is a Windows program"),
        ("page.pdf", b"<html><script>alert(1)</script></html>"),
        ("photo.png", PDF),
        ("sheet.xlsx", office_zip("word/")),
        ("archive.zip", office_zip("word/")),
        ("script.svg", b"<svg onload='alert(1)'/>"),
        ("noextension", PDF),
    ],
)
def test_wrong_or_disguised_types_are_refused(name, content):
    with pytest.raises(ValidationError) as excinfo:
        upload_check(upload(name, content))
    assert excinfo.value.code == "file_type"
    assert "is not a PDF, an image" in excinfo.value.messages[0]


def test_oversized_and_empty_files_are_refused(settings):
    settings.COCAP_UPLOAD_MAX_BYTES = 1024
    with pytest.raises(ValidationError, match=r"files may be at most 1\.0"):
        upload_check(upload("big.pdf", PDF + b"0" * 1024))
    with pytest.raises(ValidationError, match="is empty"):
        upload_check(upload("empty.pdf", b""))


def test_names_are_sanitised_and_stored_under_a_random_name():
    checked = upload_check(upload("../../etc/<b>rapporto finale</b>.pdf"))
    assert "/" not in checked.original_name and "<" not in checked.original_name
    assert checked.original_name.endswith(".pdf")
    assert checked.stored_name != checked.original_name
    assert len(checked.stored_name) == 32 + len(".pdf")
