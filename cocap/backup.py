"""Back up and restore everything the portal holds: the database as Django fixtures and the uploaded files.

The archive is a .tar.gz with data.json (dumpdata, natural keys), media/ (evidence, receipts, SAL PDFs) and
manifest.json (row counts per model and the SHA-256 of every file), so a restore can prove it is complete.
It works the same on SQLite and PostgreSQL, and restores across them.
"""

import datetime
import hashlib
import io
import json
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

# Rebuilt by migrate, or only worth a login: not backed up.
EXCLUDED = ["contenttypes", "auth.permission", "sessions", "django_tasks_database"]


class RestoreError(Exception):
    pass


def _model_counts() -> dict[str, int]:
    skipped = {label for label in EXCLUDED if "." not in label}
    counts = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label in skipped or label in EXCLUDED or model._meta.proxy:
            continue
        counts[label] = model._default_manager.count()
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup_create(target: Path) -> dict:
    """Write the archive to `target`; return its manifest."""
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data.json"
        # One transaction, so the counts and the dump see the same rows.
        with transaction.atomic():
            call_command(
                "dumpdata",
                exclude=EXCLUDED,
                natural_foreign=True,
                natural_primary=True,
                output=str(data),
                verbosity=0,
            )
            counts = _model_counts()
        files = sorted(path for path in media_root.rglob("*") if path.is_file()) if media_root.exists() else []
        manifest = {
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "database": settings.DATABASES["default"]["ENGINE"],
            "counts": counts,
            "files": {str(path.relative_to(media_root).as_posix()): _sha256(path) for path in files},
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(data, arcname="data.json")
            for path in files:
                archive.add(path, arcname=f"media/{path.relative_to(media_root).as_posix()}")
            body = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
        # Only a complete archive gets the name: a full disk leaves a .partial, never a truncated backup.
        partial.replace(target)
    return manifest


def backup_restore(source: Path) -> dict:
    """Load the archive into an empty database and MEDIA_ROOT; check every count and file; return the manifest."""
    if any(_model_counts().get(label) for label in ("partners.project", "auth.user")):
        raise RestoreError("The database is not empty: restore only into a freshly migrated database.")
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(source, "r:gz") as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
        data = Path(scratch) / "data.json"
        data.write_bytes(archive.extractfile("data.json").read())
        with transaction.atomic():
            call_command("loaddata", str(data), verbosity=0)
            counts = _model_counts()
            missing = {
                label: (n, counts.get(label)) for label, n in manifest["counts"].items() if counts.get(label) != n
            }
            if missing:
                raise RestoreError(f"Rows missing after loading (expected, found): {missing}")
        for member in archive.getmembers():
            if not member.name.startswith("media/") or not member.isfile():
                continue
            relative = PurePosixPath(member.name.removeprefix("media/"))
            if relative.is_absolute() or ".." in relative.parts:
                raise RestoreError(f"Unsafe path in the archive: {member.name}")
            destination = media_root / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.extractfile(member) as stream, open(destination, "wb") as out:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    out.write(chunk)
    for name, digest in manifest["files"].items():
        path = media_root / name
        if not path.is_file() or _sha256(path) != digest:
            raise RestoreError(f"File missing or changed after restore: {name}")
    if connection.vendor == "postgresql":
        # Until autovacuum comes by, PostgreSQL would plan the finance pages on a large restored database without
        # statistics, about twice as slowly (bench/finance.py).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return manifest
