"""The hash chain: canonical serialisation, hashing and verification (no Django writes)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def _when(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    summary: str,
    detail: Any,
    ip: str,
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON array of every field, the previous hash included."""
    payload = json.dumps(
        [
            seq,
            _when(at),
            actor_id,
            actor_name,
            action,
            object_type,
            object_id,
            summary,
            detail,
            ip,
            prev_hash,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def hash_of_row(row: Any) -> str:
    return entry_hash(
        seq=row.seq,
        at=row.at,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        summary=row.summary,
        detail=row.detail,
        ip=row.ip,
        prev_hash=row.prev_hash,
    )


@dataclass
class Finding:
    seq: int | None
    kind: str  # modified | deleted | inserted | reordered | truncated | head
    message: str


@dataclass
class Report:
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _original_seq(row: Any, window: int = 50) -> int | None:
    """The ``seq`` under which this row's stored hash was made, if it is a nearby other one."""
    for delta in range(1, window + 1):
        for seq in (row.seq - delta, row.seq + delta):
            if seq < 1:
                continue
            probe = hash_of_row(_Shadow(row, seq))
            if probe == row.hash:
                return seq
    return None


class _Shadow:
    def __init__(self, row: Any, seq: int) -> None:
        self._row = row
        self.seq = seq

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def verify(rows: Iterable[Any], head_seq: int, head_hash: str) -> Report:
    """Walk the rows in ``seq`` order and say what is wrong, row by row.

    - modified: a row's stored hash no longer matches its content;
    - reordered: a row's hash was made under another ``seq`` (rows swapped), or its link
      points back at an earlier row instead of its predecessor;
    - deleted: a gap in ``seq``;
    - inserted: a consistent row that does not continue the chain, or a row past the head;
    - truncated: the last row is before the head's ``seq`` (rows cut off the end);
    - head: the last row's hash is not the one the head recorded.
    """
    report = Report()
    seen: dict[str, int] = {GENESIS: 0}
    expected_seq = 1
    prev = GENESIS
    last_seq = 0

    def add(seq: int | None, kind: str, message: str) -> None:
        report.findings.append(Finding(seq, kind, message))

    for row in rows:
        report.checked += 1
        content_ok = hash_of_row(row) == row.hash
        if row.seq > expected_seq:
            gap = (
                f"第{expected_seq}条"
                if row.seq == expected_seq + 1
                else f"第{expected_seq}至{row.seq - 1}条"
            )
            add(expected_seq, "deleted", f"{gap}被删除（序号缺失）")
        if row.seq > head_seq:
            add(row.seq, "inserted", f"第{row.seq}条在链头（第{head_seq}条）之后，为插入的记录")
        elif not content_ok:
            original = _original_seq(row)
            if original is not None:
                add(row.seq, "reordered", f"第{row.seq}条原为第{original}条，顺序被调换")
            else:
                add(row.seq, "modified", f"第{row.seq}条内容被修改（哈希不符）")
        elif row.prev_hash != prev:
            if row.prev_hash in seen:
                add(
                    row.seq,
                    "reordered",
                    f"第{row.seq}条的前序哈希指向第{seen[row.prev_hash]}条，顺序被调换",
                )
            elif row.seq == expected_seq:
                add(row.seq, "inserted", f"第{row.seq}条与前一条不相衔接，为插入或替换的记录")
        seen[row.hash] = row.seq
        prev = row.hash
        expected_seq = max(expected_seq, row.seq + 1)
        last_seq = max(last_seq, row.seq)
    if last_seq < head_seq:
        add(
            last_seq + 1,
            "truncated",
            f"链尾被截断：链头记录到第{head_seq}条，现存最后一条为第{last_seq}条",
        )
    elif head_seq and last_seq == head_seq and prev != head_hash:
        add(head_seq, "head", f"最后一条（第{head_seq}条）与链头哈希不符")
    return report
