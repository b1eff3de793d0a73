"""JSON-lines reading for the intel commands: line-numbered, UTF-8, with Chinese error messages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any


class InputError(Exception):
    """A line of input that is not a JSON object (message names the line)."""


def read_jsonl(stream: IO[bytes] | IO[str] | Iterable[Any], *, name: str = "输入") -> list[dict]:
    """All records of a JSON-lines stream, in order. Blank lines are skipped; any other line that
    is not valid UTF-8 JSON for an object raises :class:`InputError` naming every such line
    (up to 10), so nothing is predicted from half a file."""
    records: list[dict] = []
    errors: list[str] = []
    for lineno, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError as e:
            errors.append(f"{name}第 {lineno} 行不是 UTF-8 编码：{e.reason}")
            continue
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{name}第 {lineno} 行不是合法的 JSON（第 {e.colno} 列：{e.msg}）")
            continue
        if not isinstance(obj, dict):
            errors.append(f"{name}第 {lineno} 行应为 JSON 对象，实际是 {type(obj).__name__}")
            continue
        records.append(obj)
    if errors:
        more = f"\n……共 {len(errors)} 行有误" if len(errors) > 10 else ""
        raise InputError("\n".join(errors[:10]) + more)
    return records


def read_jsonl_file(path: Path, *, what: str = "数据") -> list[dict]:
    """``read_jsonl`` of a file; a file that cannot be opened is an :class:`InputError` too."""
    try:
        with path.open("rb") as f:
            return read_jsonl(f, name=f"{path} ")
    except OSError as e:
        raise InputError(f"无法读取{what} {path}：{e.strerror}") from e
