"""A file whose row rolled back is found (and removed) by ``attachment_orphans``; files with a
row, and fresh files whose transaction may still run, are kept."""

from __future__ import annotations

import io
import os
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction

from xinfang.cases.attachments import attachment_add
from xinfang.cases.models import Attachment

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _files(root: Any) -> list[str]:
    return sorted(p.name for p in (root / "attachments").rglob("*") if p.is_file())


def test_rolled_back_upload_leaves_a_file_the_command_removes(
    world: Any, register: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    case = register()
    kept = attachment_add(case=case, by=world.rita, upload=SimpleUploadedFile("a.pdf", PDF))
    with pytest.raises(RuntimeError), transaction.atomic():
        attachment_add(case=case, by=world.rita, upload=SimpleUploadedFile("b.pdf", PDF))
        raise RuntimeError("the registration failed after the file was written")
    assert Attachment.objects.count() == 1
    assert len(_files(tmp_path)) == 2  # the rolled-back file is still on disk

    out = io.StringIO()
    call_command("attachment_orphans", stdout=out)
    assert "找到孤立文件 0 个" in out.getvalue()  # too fresh: its transaction may still run

    old = time.time() - 48 * 3600
    for path in (tmp_path / "attachments").rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    out = io.StringIO()
    call_command("attachment_orphans", "--delete", stdout=out)
    assert "已删除孤立文件 1 个" in out.getvalue()
    assert _files(tmp_path) == [kept.stored_name]
