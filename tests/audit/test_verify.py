"""``manage.py audit_verify`` on a real chain: each kind of tampering is detected and named."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.audit.tamper import chain, delete, forge, modify, swap
from xinfang.audit.chain import GENESIS, Verifier, verify
from xinfang.audit.models import AuditEntry, AuditHead
from xinfang.audit.selectors import verify_chain

pytestmark = pytest.mark.django_db


def run() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit_verify", stdout=out, batch=3)  # small batches: several chunks
    except CommandError as err:
        return 1, out.getvalue() + str(err)
    return 0, out.getvalue()


def kinds() -> list[tuple[int | None, str]]:
    return [(f.seq, f.kind) for f in verify_chain(batch=3).report.findings]


def test_intact_chain_passes() -> None:
    chain(10)
    status, out = run()
    assert status == 0
    assert out.strip() == "审计日志校验通过：共10条，链头#10"


def test_empty_chain_passes() -> None:
    assert run() == (0, "审计日志校验通过：共0条，链头#0\n")


def test_modified_field_is_named() -> None:
    chain(8)
    modify(4, actor_name="别人")
    status, out = run()
    assert status == 1
    assert "[修改] 第4条：第4条内容被修改（哈希不符）" in out
    assert "审计日志校验未通过" in out
    assert kinds() == [(4, "modified")]


def test_modified_detail_json_is_named() -> None:
    chain(5)
    modify(2, detail={"i": 99})
    assert kinds() == [(2, "modified")]


def test_deleted_middle_row_is_named() -> None:
    chain(8)
    delete(5)
    status, out = run()
    assert status == 1
    assert "[删除] 第5条：第5条被删除（序号缺失）" in out
    assert kinds() == [(5, "deleted")]


def test_deleted_run_of_rows_is_named() -> None:
    chain(8)
    delete(3, 4, 5)
    assert "第3至5条被删除" in run()[1]


def test_forged_row_replacing_a_deleted_one_is_named() -> None:
    """Consistent hash, right seq, but not linked to its predecessor."""
    rows = chain(8)
    delete(5)
    forge(5, prev_hash=rows[1].hash)  # links to row 2, not row 4
    found = kinds()
    assert found == [(5, "reordered")]


def test_forged_unlinked_row_is_inserted() -> None:
    chain(8)
    delete(5)
    forge(5, prev_hash="f" * 64)  # a hash that is nowhere in the chain
    status, out = run()
    assert status == 1
    assert "[插入] 第5条：第5条与前一条不相衔接，为插入或替换的记录" in out


def test_forged_row_past_the_head_is_named() -> None:
    rows = chain(6)
    forge(7, prev_hash=rows[-1].hash)  # perfectly linked, but the head says 6
    status, out = run()
    assert status == 1
    assert "[插入] 第7条：第7条在链头（第6条）之后，为插入的记录" in out
    assert kinds() == [(7, "inserted")]


def test_swapped_rows_are_named() -> None:
    chain(8)
    swap(3, 6)
    status, out = run()
    assert status == 1
    assert "[顺序调换] 第3条：第3条原为第6条，顺序被调换" in out
    assert "[顺序调换] 第6条：第6条原为第3条，顺序被调换" in out
    assert {k for _, k in kinds()} == {"reordered"}


def test_truncated_tail_is_named() -> None:
    chain(8)
    delete(7, 8)
    status, out = run()
    assert status == 1
    assert "[截断] 第7条：链尾被截断：链头记录到第8条，现存最后一条为第6条" in out
    assert kinds() == [(7, "truncated")]


def test_head_moved_back_is_named() -> None:
    """Someone truncates and winds the head back to hide it: the last row no longer matches."""
    rows = chain(5)
    AuditHead.objects.filter(pk=1).update(seq=5, hash="e" * 64)
    assert kinds() == [(5, "head")]
    AuditHead.objects.filter(pk=1).update(seq=5, hash=rows[-1].hash)
    assert kinds() == []


def test_from_option_checks_the_rest_only() -> None:
    chain(8)
    modify(2, summary="改过")
    out = StringIO()
    call_command("audit_verify", "--from", "4", stdout=out)
    assert out.getvalue().strip() == "审计日志校验通过：共5条，链头#8（自第4条起）"
    with pytest.raises(CommandError):
        call_command("audit_verify", stdout=StringIO())


def test_from_option_still_sees_a_deletion_right_before_it() -> None:
    chain(8)
    delete(4)
    with pytest.raises(CommandError):
        call_command("audit_verify", "--from", "5", stdout=StringIO())


def test_appends_during_the_walk_are_not_insertions() -> None:
    """Rows above the head read before the walk are judged against the head read after it."""
    rows = chain(4)
    verifier = Verifier(floor=2)
    for row in AuditEntry.objects.order_by("seq"):
        verifier.feed(row)
    report = verifier.finish(4, rows[-1].hash)
    assert report.ok, report.findings


def test_verify_memory_is_bounded() -> None:
    """The walker keeps a bounded window of hashes and a capped list of findings."""

    verifier = Verifier()
    verifier.MAX_FINDINGS = 5
    for seq in range(1, 30):
        verifier.feed(_bad_row(seq))
    report = verifier.finish(29, "y")
    assert len(report.findings) == 6 and report.findings[-1].kind == "omitted"
    assert len(verifier._recent) <= Verifier.RECENT


def _bad_row(seq: int) -> AuditEntry:
    from django.utils import timezone

    return AuditEntry(
        seq=seq, at=timezone.now(), action="login", detail={}, prev_hash=GENESIS, hash="0"
    )


def test_pure_verify_function_matches_the_command() -> None:
    rows = chain(3)
    head = AuditHead.objects.get(pk=1)
    assert verify(AuditEntry.objects.order_by("seq"), head.seq, head.hash).ok
    assert head.hash == rows[-1].hash
