"""The hash chain: canonical serialisation, hashing and verification (no Django writes)."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# Finding kinds, as the command, the page and the API name them.
KIND_LABELS = {
    "modified": "修改",
    "deleted": "删除",
    "inserted": "插入",
    "reordered": "顺序调换",
    "truncated": "截断",
    "head": "链头不符",
    "omitted": "未列出",
}


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
    kind: str  # modified | deleted | inserted | reordered | truncated | head | omitted
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


class Verifier:
    """Walks the rows in ``seq`` order, one at a time (constant memory), and says what is wrong.

    - modified: a row's stored hash no longer matches its content;
    - reordered: a row's hash was made under another ``seq`` (rows swapped), or its link
      points back at an earlier row instead of its predecessor;
    - deleted: a gap in ``seq``;
    - inserted: a consistent row that does not continue the chain, or a row past the head;
    - truncated: the last row is before the head's ``seq`` (rows cut off the end);
    - head: the last row's hash is not the one the head recorded.

    ``floor`` is a head ``seq`` read before the walk: rows above it may have been appended
    while walking, so whether they are past the head is decided in ``finish`` with the head
    read after the walk. ``start_seq``/``start_prev`` start the walk in the middle of the
    chain (the row before it is trusted).
    """

    RECENT = 10_000  # link targets remembered for "points back at an earlier row"
    MAX_FINDINGS = 1_000

    def __init__(self, *, floor: int = 0, start_seq: int = 1, start_prev: str = GENESIS) -> None:
        self.report = Report()
        self.floor = floor
        self.start_seq = start_seq
        self.expected_seq = start_seq
        self.prev = start_prev
        self.last_seq = start_seq - 1
        self.omitted = 0
        self._floor_hash: str | None = start_prev if floor == start_seq - 1 else None
        self._prev_reordered = False
        self._recent: OrderedDict[str, int] = OrderedDict({start_prev: start_seq - 1})
        # Rows above ``floor``: (seq, hash, their findings) until the final head is known.
        self._tail: list[tuple[int, str, list[Finding]]] = []

    def _add(self, out: list[Finding], seq: int | None, kind: str, message: str) -> None:
        out.append(Finding(seq, kind, message))

    def feed(self, row: Any) -> None:
        self.report.checked += 1
        found: list[Finding] = []
        if row.seq > self.expected_seq:
            gap = (
                f"第{self.expected_seq}条"
                if row.seq == self.expected_seq + 1
                else f"第{self.expected_seq}至{row.seq - 1}条"
            )
            self._add(found, self.expected_seq, "deleted", f"{gap}被删除（序号缺失）")
        row_findings: list[Finding] = []
        if hash_of_row(row) != row.hash:
            original = _original_seq(row)
            if original is not None:
                self._add(
                    row_findings,
                    row.seq,
                    "reordered",
                    f"第{row.seq}条原为第{original}条，顺序被调换",
                )
            else:
                self._add(row_findings, row.seq, "modified", f"第{row.seq}条内容被修改（哈希不符）")
        elif row.prev_hash != self.prev and not self._prev_reordered:
            # (after a row that sits in another's place, the broken link is that same finding)
            if row.prev_hash in self._recent:
                self._add(
                    row_findings,
                    row.seq,
                    "reordered",
                    f"第{row.seq}条的前序哈希指向第{self._recent[row.prev_hash]}条，顺序被调换",
                )
            elif row.seq == self.expected_seq:
                self._add(
                    row_findings,
                    row.seq,
                    "inserted",
                    f"第{row.seq}条与前一条不相衔接，为插入或替换的记录",
                )
        self._extend(found)
        self._prev_reordered = any(f.kind == "reordered" for f in row_findings)
        if row.seq == self.floor:
            self._floor_hash = row.hash
        if row.seq > self.floor:
            self._tail.append((row.seq, row.hash, row_findings))
        else:
            self._extend(row_findings)
        self._recent[row.hash] = row.seq
        if len(self._recent) > self.RECENT:
            self._recent.popitem(last=False)
        self.prev = row.hash
        self.expected_seq = max(self.expected_seq, row.seq + 1)
        self.last_seq = max(self.last_seq, row.seq)

    def _extend(self, findings: list[Finding]) -> None:
        for finding in findings:
            if len(self.report.findings) < self.MAX_FINDINGS:
                self.report.findings.append(finding)
            else:
                self.omitted += 1

    def finish(self, head_seq: int, head_hash: str) -> Report:
        """Judge the rows above ``floor`` and the tail against the head read after the walk."""
        head_row_hash = self._floor_hash if head_seq == self.floor else None
        for seq, row_hash, row_findings in self._tail:
            if seq > head_seq:
                self._extend(
                    [
                        Finding(
                            seq,
                            "inserted",
                            f"第{seq}条在链头（第{head_seq}条）之后，为插入的记录",
                        )
                    ]
                )
            else:
                self._extend(row_findings)
                if seq == head_seq:
                    head_row_hash = row_hash
        self._tail = []
        if self.last_seq < head_seq:
            self._extend(
                [
                    Finding(
                        self.last_seq + 1,
                        "truncated",
                        f"链尾被截断：链头记录到第{head_seq}条，现存最后一条为第{self.last_seq}条",
                    )
                ]
            )
        elif head_seq >= self.start_seq and head_row_hash != head_hash:
            self._extend([Finding(head_seq, "head", f"最后一条（第{head_seq}条）与链头哈希不符")])
        if self.omitted:
            self.report.findings.append(Finding(None, "omitted", f"另有{self.omitted}处问题未列出"))
        return self.report


def verify(
    rows: Iterable[Any],
    head_seq: int,
    head_hash: str,
    *,
    start_seq: int = 1,
    start_prev: str = GENESIS,
) -> Report:
    """Walk ``rows`` (in ``seq`` order) against a head read before them; see ``Verifier``."""
    verifier = Verifier(floor=head_seq, start_seq=start_seq, start_prev=start_prev)
    for row in rows:
        verifier.feed(row)
    return verifier.finish(head_seq, head_hash)
