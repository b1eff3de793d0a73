"""Model registry: bootstrap, retrain from the office's closed cases (made through the real case
services), the activation rule, one training at a time, activation audit and reload, who may
see the pages and API, and the task run by the database backend's worker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.conftest import World, make_user, reply_case
from tests.threads import in_threads, needs_server_db
from xinfang.audit.models import AuditEntry
from xinfang.cases import services as S
from xinfang.cases.models import Case, Category
from xinfang.core.errors import ConcurrentChange, DomainError
from xinfang.intel import registry
from xinfang.intel.models import ModelVersion
from xinfang.org.models import ApiToken

pytestmark = pytest.mark.django_db

TRAFFIC = [
    (
        "公交车站迁移后居民出行不便",
        "小区门口的公交站被迁走，老人坐公交要多走两公里，请求恢复公交站点。",
    ),
    ("出租车拒载问题", "火车站出租车经常拒载短途乘客，还乱收费，请交通部门整治出租车。"),
    ("道路长期拥堵", "早晚高峰路口拥堵严重，红绿灯时间不合理，请交警优化信号灯配时。"),
    ("公交线路调整", "公交线路调整后没有直达学校的公交车，学生上学换乘困难。"),
    ("货车超载损坏道路", "大货车超载通行，乡村公路被压坏，请交通运输部门治理超载。"),
    ("驾校收费不规范", "驾校报名后乱收补考费，考驾照的学员投诉无门。"),
]


@pytest.fixture(autouse=True)
def intel_settings(intel_models: Any) -> Any:
    return intel_models


def _leaf(first_level: str) -> Category:
    leaf = Category.objects.filter(level=3, parent__parent__name=first_level).first()
    assert leaf is not None
    return leaf


def _closed_case(
    world: World, register: Any, category: Category, title: str, text: str, **extra: Any
) -> Case:
    """A case taken to 已办结 through the lifecycle services, as a clerk would."""
    case = register(summary=title, content=text, category_id=category.pk, **extra)
    reply_case(world, case)
    S.case_evaluate(case=case, by=world.rita, evaluation="satisfied")
    S.case_close(case=case, by=world.alice)
    case.refresh_from_db()
    return case


def _actions(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def test_bootstrap_trains_once_and_is_idempotent(world: World, capsys: Any) -> None:
    assert registry.active_model() is None  # no model yet: callers degrade
    call_command("intel_bootstrap")
    mv = ModelVersion.objects.get()
    assert (mv.state, mv.source, mv.is_active) == ("ready", "bundled", True)
    assert mv.n_train == 49 and mv.n_own == 0 and len(mv.labels) == 7
    assert mv.metrics["method"] == "cv5" and 0 < mv.metrics["macro_f1"] <= 1
    assert mv.metrics["macro_f1_bundled"] == mv.metrics["macro_f1"]
    meta = json.loads((registry.version_path(mv) / "meta.json").read_text(encoding="utf-8"))
    assert meta["version"] == mv.version == mv.path
    loaded = registry.active_model()
    assert loaded is not None and loaded[1].pk == mv.pk and loaded[0].version == mv.version

    call_command("intel_bootstrap")
    assert "无需训练" in capsys.readouterr().out
    assert ModelVersion.objects.count() == 1
    assert len(_actions("model_activate")) == 1


def test_retrain_learns_own_closed_cases(world: World, register: Any) -> None:
    first = registry.bootstrap(by=world.sam)
    assert first is not None and first.is_active
    leaf = _leaf("交通运输")
    for title, text in TRAFFIC[:5]:
        _closed_case(world, register, leaf, title, text)
    # 检举控告: learnt from as text (it is never shown — the registry lists counts only)
    _closed_case(
        world, register, leaf, *TRAFFIC[5], purpose="accusation", accused_text="某驾校负责人"
    )
    register(summary="公交车不按时发车", content="还没办结的事项不参与训练", category_id=leaf.pk)
    assert len(registry.own_records()) == 6

    mv = registry.retrain(by=world.sam)
    assert mv.state == "ready" and mv.source == "retrain", mv.error
    assert (mv.n_train, mv.n_own) == (49 + 6, 6)
    assert mv.version != first.version and mv.path == mv.version
    first.refresh_from_db()
    # the rule, on the bundled yardstick both versions share
    expect = mv.metrics["macro_f1_bundled"] >= (
        first.metrics["macro_f1_bundled"] - registry.ACTIVATION_TOLERANCE
    )
    assert mv.is_active is expect and first.is_active is not expect
    finished = _actions("model_retrain_finished")[-1]
    assert finished.object_id == str(mv.pk) and finished.detail["n_own"] == 6
    assert not any(t in json.dumps(finished.detail, ensure_ascii=False) for t, _ in TRAFFIC)

    # retraining on unchanged data gives the same content hash: no second row for it
    again = registry.retrain(by=world.sam)
    assert again.state == "failed" and "完全相同" in again.error
    assert ModelVersion.objects.filter(state="ready").count() == 2


def test_worse_candidate_stays_ready_but_inactive(
    world: World, monkeypatch: pytest.MonkeyPatch, register: Any
) -> None:
    first = registry.bootstrap()
    assert first is not None
    _closed_case(world, register, _leaf("交通运输"), *TRAFFIC[0])
    real_score = registry.score

    def worse(records: list, n_bundled: int) -> dict:
        out = real_score(records, n_bundled)
        out["macro_f1_bundled"] = first.metrics["macro_f1_bundled"] - 0.05
        return out

    monkeypatch.setattr(registry, "score", worse)
    mv = registry.retrain()
    assert mv.state == "ready" and not mv.is_active
    assert registry.active_model()[1].pk == first.pk  # type: ignore[index]
    # within the tolerance it would have been activated
    assert registry.should_activate({"macro_f1_bundled": 0.80}, _with_f1(0.81))
    assert not registry.should_activate({"macro_f1_bundled": 0.78}, _with_f1(0.81))
    assert registry.should_activate({"macro_f1_bundled": 0.1}, None)


def _with_f1(f1: float) -> ModelVersion:
    return ModelVersion(metrics={"macro_f1_bundled": f1})


def test_second_retrain_is_refused_while_one_runs(world: World) -> None:
    pending = registry.retrain_request(by=world.sam)
    assert pending.state == "training"
    with pytest.raises(ConcurrentChange, match="正在进行"):
        registry.retrain_request(by=world.leo)
    with pytest.raises(ConcurrentChange):
        registry.retrain(by=world.leo)  # the inline path has the same guard
    assert ModelVersion.objects.filter(state="training").count() == 1
    assert len(_actions("model_retrain_requested")) == 1

    # a training row left by a killed worker does not block forever
    ModelVersion.objects.filter(pk=pending.pk).update(
        created_at=timezone.now() - registry.TRAINING_TIMEOUT * 2
    )
    fresh = registry.retrain_request(by=world.leo)
    pending.refresh_from_db()
    assert pending.state == "failed" and "超时" in pending.error and fresh.state == "training"


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_retrains_at_once_one_wins(world: World) -> None:
    """Two people press 重新训练 at the same moment: the partial unique index lets one row in."""
    users = [world.sam, world.leo]
    results = in_threads(2, lambda i: registry.retrain_request(by=users[i]))
    won = [r for r in results if isinstance(r, ModelVersion)]
    refused = [r for r in results if isinstance(r, ConcurrentChange)]
    assert len(won) == 1 and len(refused) == 1, results
    assert ModelVersion.objects.filter(state="training").count() == 1


def test_failed_training_is_recorded(world: World, settings: Any, tmp_path: Path) -> None:
    one_label = tmp_path / "one.jsonl"
    one_label.write_text(
        "\n".join(
            json.dumps({"id": i, "title": "t", "text": "x", "label": "甲"}) for i in range(9)
        ),
        encoding="utf-8",
    )
    settings.INTEL_BUNDLED_DATA = one_label
    mv = registry.train_bundled(by=world.sam)
    assert mv.state == "failed" and "两个不同的类别" in mv.error and not mv.is_active
    assert _actions("model_retrain_finished")[-1].summary == "模型训练失败"
    assert registry.active_model() is None

    settings.INTEL_BUNDLED_DATA = tmp_path / "missing.jsonl"
    gone = registry.retrain(by=world.sam)
    assert gone.state == "failed" and "missing.jsonl" in gone.error
    assert not ModelVersion.objects.filter(state="training").exists()  # the lock is released


def test_activation_is_audited_and_reloaded(world: World, register: Any, settings: Any) -> None:
    first = registry.bootstrap()
    assert first is not None
    for title, text in TRAFFIC[:5]:
        _closed_case(world, register, _leaf("交通运输"), title, text)
    second = registry.retrain()
    assert second.state == "ready"
    registry.activate(second, by=world.sam)
    assert registry.active_model()[1].pk == second.pk  # type: ignore[index]

    registry.activate(first.version, by=world.leo)  # roll back, by version hash
    entry = _actions("model_activate")[-1]
    assert entry.actor_id == world.leo.pk and entry.detail["previous"] == second.version
    model, row = registry.active_model()  # type: ignore[misc]
    assert row.pk == first.pk and model.version == first.version

    # another process activates: seen at the next check, not before
    settings.INTEL_MODEL_CHECK_SECONDS = 3600
    ModelVersion.objects.update(is_active=False)
    ModelVersion.objects.filter(pk=second.pk).update(is_active=True)
    assert registry.active_model()[1].pk == first.pk  # type: ignore[index]  # cached
    settings.INTEL_MODEL_CHECK_SECONDS = 0
    assert registry.active_model()[1].pk == second.pk  # type: ignore[index]

    failed = ModelVersion.objects.create(
        source="retrain", state="failed", created_at=timezone.now()
    )
    with pytest.raises(DomainError, match="不能设为当前"):
        registry.activate(failed, by=world.sam)


def test_tampered_active_model_degrades_to_none(world: World) -> None:
    mv = registry.bootstrap()
    assert mv is not None
    (registry.version_path(mv) / "vocab.json").write_text("{}", encoding="utf-8")
    assert registry.active_model() is None


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_pages_only_for_sysadmin_district_leaders_and_office_heads(world: World) -> None:
    registry.bootstrap()
    office_head = make_user("juzhang", world.office, "unit_head", "信访局局长")
    for user in (world.sam, world.leo, office_head):
        page = _client(user).get("/intel/models/")
        assert page.status_code == 200, user.username
        assert "重新训练" in page.content.decode() and "分类模型</a>" in page.content.decode()
    # case staff, the head of a street's 信访办 (uma), a sibling street: not theirs to change
    for user in (world.alice, world.rita, world.hank, world.uma, world.bob):
        c = _client(user)
        assert c.get("/intel/models/").status_code == 404, user.username
        assert c.get("/intel/models/table/").status_code == 404
        assert c.post("/intel/models/retrain/").status_code == 404
        assert c.post("/intel/models/1/activate/").status_code == 404
        assert "分类模型</a>" not in c.get("/").content.decode()
    assert Client().get("/intel/models/").status_code == 302  # anonymous → login
    assert not ModelVersion.objects.filter(state="training").exists()


def test_retrain_button_polls_until_done(world: World) -> None:
    c = _client(world.sam)
    response = c.post("/intel/models/retrain/", follow=True)
    body = response.content.decode()
    assert "训练中" in body and 'hx-trigger="every 3s"' in body
    refused = c.post("/intel/models/retrain/", follow=True).content.decode()
    assert "正在进行" in refused
    registry.retrain(pending_id=ModelVersion.objects.get(state="training").pk)
    table = c.get("/intel/models/table/").content.decode()
    assert "hx-trigger" not in table and "可用" in table and "设为当前" not in table  # active
    mv = ModelVersion.objects.get(state="ready")
    assert mv.is_active and mv.requested_by_id == world.sam.pk


def test_activate_view(world: World, register: Any) -> None:
    first = registry.bootstrap()
    assert first is not None
    _closed_case(world, register, _leaf("交通运输"), *TRAFFIC[0])
    second = registry.retrain()
    target = first if second.is_active else second
    response = _client(world.leo).post(f"/intel/models/{target.pk}/activate/", follow=True)
    assert "设为当前版本" in response.content.decode()
    target.refresh_from_db()
    assert target.is_active


def test_api_list_and_retrain(world: World) -> None:
    registry.bootstrap()

    def api(user: Any) -> Client:
        _, raw = ApiToken.issue(user=user, name="测试")
        return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})

    alice, sam = api(world.alice), api(world.sam)
    assert alice.get("/api/intel/models").status_code == 404
    assert alice.post("/api/intel/models/retrain").status_code == 404
    listed = sam.get("/api/intel/models").json()
    assert [v["state"] for v in listed] == ["ready"] and listed[0]["is_active"]
    assert listed[0]["macro_f1"] == listed[0]["metrics"]["macro_f1"]
    started = sam.post("/api/intel/models/retrain")
    assert started.status_code == 202 and started.json()["state"] == "training"
    refused = sam.post("/api/intel/models/retrain")
    assert refused.status_code == 409 and "正在进行" in refused.json()["detail"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_task_runs_through_database_backend_and_worker(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        mv = registry.retrain_request(by=world.sam)
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "xinfang.intel.tasks.retrain_model"
    assert queued.status == "READY" and mv.state == "training"

    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

    queued.refresh_from_db()
    mv.refresh_from_db()
    assert queued.status == "SUCCESSFUL", queued.exception_class_path
    assert mv.state == "ready" and mv.is_active
    assert registry.active_model()[1].pk == mv.pk  # type: ignore[index]


def test_retrain_command(world: World, capsys: Any) -> None:
    call_command("intel_retrain", "--now")
    out = capsys.readouterr().out
    mv = ModelVersion.objects.get()
    assert mv.version[:12] in out and "已启用" in out
    call_command("intel_retrain")  # queued for the worker
    assert "已排入" in capsys.readouterr().out
    assert ModelVersion.objects.filter(state="training").count() == 1
