import subprocess
from pathlib import Path

from django.conf import settings


def test_no_file_points_outside_the_repository():
    """A clone stands alone: no tracked file refers to the team's folders beside it."""
    tracked = subprocess.run(
        ["git", "ls-files"],  # noqa: S607
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    outside = ("../shared", "shared/seed", "shared/DESIGN", "DESIGN.md")
    this_test = Path(__file__).relative_to(settings.BASE_DIR).as_posix()
    offenders = [
        path
        for path in tracked
        if path != this_test
        and (settings.BASE_DIR / path).is_file()
        and any(marker in (settings.BASE_DIR / path).read_text(errors="ignore") for marker in outside)
    ]
    assert offenders == []


def test_no_template_comment_spans_lines():
    """Django's {# #} comment ends at the line's end: a longer one is printed to the reader, in pages and PDFs."""
    templates = [path for path in settings.BASE_DIR.rglob("templates/**/*") if ".venv" not in path.parts]
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}"
        for path in templates
        if path.is_file()
        for number, line in enumerate(path.read_text(errors="ignore").splitlines(), start=1)
        if line.count("{#") > line.count("#}")
    ]
    assert offenders == []
