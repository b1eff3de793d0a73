"""Model registry: which routing classifiers exist, which one is active, training and retraining.

* :func:`active_model` — the active version's loaded :class:`~xinfang.intel.classifier.Model`,
  cached per process and re-checked with one indexed query at most every
  ``INTEL_MODEL_CHECK_SECONDS`` (so another process's activation is seen within seconds); ``None``
  when no ready model exists or its files are missing/changed (callers show no suggestion).
* Services (writes): :func:`train_bundled` (the first model, from the shipped public data),
  :func:`retrain_request` (queue a retrain: the background task runs :func:`retrain`),
  :func:`retrain` (bundled data + the office's own closed cases), :func:`activate` (roll back or
  forward to any ready version). Each records audit rows.
* Files: ``INTEL_MODEL_DIR/<version>/`` per version, written by ``Model.save`` and read with the
  hash-checked ``classifier.load``; the ``ModelVersion`` row stores the directory name.

The activation rule, the training set and the metrics are described in docs/intel.md
"模型版本与再训练".
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.audit.services import audit_record
from xinfang.core.errors import ConcurrentChange, DomainError
from xinfang.intel import classifier
from xinfang.intel.features import Record
from xinfang.intel.jsonl import read_jsonl
from xinfang.intel.models import ModelVersion
from xinfang.intel.suggest import first_level_of

log = logging.getLogger(__name__)

# A candidate is activated unless its macro-F1 on the bundled messages (out-of-fold) is lower
# than the active version's by more than this.
ACTIVATION_TOLERANCE = 0.02
# A category is learnt only with at least this many examples (5-fold CV needs one per fold).
MIN_PER_LABEL = 5
# Up to this many training records the score is 5-fold CV; above it, one 80/20 holdout.
CV_MAX_RECORDS = 2000
CV_FOLDS = 5
# A training row older than this is taken as a crashed worker and marked failed.
TRAINING_TIMEOUT = timedelta(hours=1)

# The case states whose category the office has settled (the clerk's final choice).
CLOSED_STATES = ("closed", "final", "evaluated", "reviewed")


# -- reading ---------------------------------------------------------------------------------


@dataclass
class _Loaded:
    model: classifier.Model | None = None
    version: ModelVersion | None = None
    checked: float = float("-inf")


_state = _Loaded()
_lock = threading.Lock()


def model_dir() -> Path:
    return Path(settings.INTEL_MODEL_DIR)


def version_path(mv: ModelVersion) -> Path:
    return model_dir() / mv.path


def _check_seconds() -> float:
    return float(getattr(settings, "INTEL_MODEL_CHECK_SECONDS", 5.0))


def active_model() -> tuple[classifier.Model, ModelVersion] | None:
    """The active model and its row, or ``None`` (no ready model: callers degrade gracefully).

    Loading costs ~0.2 s, so the model is kept per process; whether it is still the active one
    is asked at most every ``INTEL_MODEL_CHECK_SECONDS`` (one query on the partial unique index
    of ``is_active``). A version whose files are missing or fail the hash check is logged and
    treated as no model, never raised to the page."""
    now = time.monotonic()
    st = _state
    if now - st.checked < _check_seconds():
        return (st.model, st.version) if st.model is not None and st.version is not None else None
    with _lock:
        row = (
            ModelVersion.objects.filter(is_active=True, state=ModelVersion.State.READY)
            .only("pk", "version", "path", "source", "created_at")
            .first()
        )
        if row is None:
            _state.model, _state.version = None, None
        elif _state.version is not None and _state.version.version == row.version:
            _state.version = row  # same files (the version is their hash): keep the loaded model
        else:
            try:
                _state.model, _state.version = classifier.load(version_path(row)), row
            except classifier.ModelError as e:
                log.error("active routing model %s cannot be loaded: %s", row.version, e)
                _state.model, _state.version = None, None
        _state.checked = time.monotonic()
        if _state.model is None or _state.version is None:
            return None
        return _state.model, _state.version


def forget_active() -> None:
    """Make the next :func:`active_model` call ask the database (after an activation here)."""
    _state.checked = float("-inf")


def may_manage_models(user: Any) -> bool:
    """Who may list, retrain and switch the routing model — one model serves the whole
    deployment, so the people answerable for routing at the district level: 系统管理员 (system
    configuration; the page shows no case content), 领导 of a 区/县 unit, and 单位负责人/领导 of a
    petition office that is not a 街道/乡镇 信访办 (the 信访局). Everyone else gets a 404."""
    from xinfang.org import roles as R
    from xinfang.org.models import Unit, UnitType
    from xinfang.org.policy import posts_of

    posts = posts_of(user)
    if any(p.role == R.SYSADMIN for p in posts):
        return True
    heads = [p.unit_id for p in posts if p.role in (R.UNIT_HEAD, R.LEADER)]
    if not heads:
        return False
    leaders = [p.unit_id for p in posts if p.role == R.LEADER]
    return (
        Unit.objects.filter(pk__in=heads, is_petition_office=True)
        .exclude(unit_type=UnitType.STREET)
        .exists()
        or Unit.objects.filter(pk__in=leaders, unit_type=UnitType.DISTRICT).exists()
    )


def training_running() -> ModelVersion | None:
    return ModelVersion.objects.filter(state=ModelVersion.State.TRAINING).first()


# -- training data ---------------------------------------------------------------------------


def bundled_records() -> list[Record]:
    path = Path(settings.INTEL_BUNDLED_DATA)
    with path.open("rb") as f:
        return read_jsonl(f)


def own_records() -> list[Record]:
    """The office's closed cases as training records: title = summary, text = content, label =
    the first-level name of the category the clerk finally chose. 检举控告 cases are included
    as text only: they feed the weights, and nothing of them is ever displayed (the registry
    shows counts). This is a system read, not a user's, so it is not scoped by
    ``cases_visible_to``."""
    from xinfang.cases.models import Case

    rows = (
        Case.objects.filter(status__in=CLOSED_STATES, category__isnull=False)
        .order_by("pk")
        .values_list("pk", "summary", "content", "category__full_name", "category__name")
    )
    out: list[Record] = []
    for pk, summary, content, full_name, name in rows.iterator(chunk_size=2000):
        label = first_level_of(full_name, name)
        if label:
            out.append({"id": f"case-{pk}", "title": summary, "text": content, "label": label})
    return out


def _drop_rare(records: list[Record]) -> tuple[list[Record], list[str]]:
    counts: dict[str, int] = {}
    for r in records:
        counts[str(r["label"])] = counts.get(str(r["label"]), 0) + 1
    rare = sorted(lab for lab, n in counts.items() if n < MIN_PER_LABEL)
    return [r for r in records if str(r["label"]) not in rare], rare


# -- scoring ---------------------------------------------------------------------------------


def score(records: list[Record], n_bundled: int) -> dict[str, Any]:
    """Out-of-sample macro-F1 of the training configuration on ``records`` (the first
    ``n_bundled`` are the shipped public messages): 5-fold stratified CV up to
    ``CV_MAX_RECORDS`` records, else one stratified 80/20 holdout. ``macro_f1_bundled`` is the
    same predictions restricted to the bundled messages — the yardstick every version shares,
    used by the activation rule."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold, train_test_split

    from xinfang.intel.evaluate import SEED

    started = time.perf_counter()
    y = np.array([str(r["label"]) for r in records])
    pred = np.empty(len(y), dtype=object)
    tested = np.zeros(len(y), dtype=bool)
    if len(records) <= CV_MAX_RECORDS:
        method = f"cv{CV_FOLDS}"
        splits = list(
            StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y)
        )
    else:
        method = "holdout20"
        idx = np.arange(len(y))
        tr, te = train_test_split(idx, test_size=0.2, stratify=y, random_state=SEED)
        splits = [(tr, te)]
    for tr, te in splits:
        model = classifier.train([records[i] for i in tr])
        pred[te] = model.predict([records[i] for i in te])
        tested[te] = True
    yt, pt = y[tested], pred[tested].astype(str)
    bundled = tested.copy()
    bundled[n_bundled:] = False
    out: dict[str, Any] = {
        "method": method,
        "macro_f1": round(float(f1_score(yt, pt, average="macro")), 4),
        "accuracy": round(float(accuracy_score(yt, pt)), 4),
        "score_seconds": round(time.perf_counter() - started, 1),
    }
    if bundled.any():
        out["macro_f1_bundled"] = round(
            float(f1_score(y[bundled], pred[bundled].astype(str), average="macro")), 4
        )
    return out


def should_activate(candidate: dict[str, Any], active: ModelVersion | None) -> bool:
    """The rule: no active version → yes; else the candidate's bundled-subset macro-F1 must be
    at least the active one's minus ``ACTIVATION_TOLERANCE`` (an active version without that
    figure is replaced)."""
    if active is None:
        return True
    old = active.metrics.get("macro_f1_bundled")
    new = candidate.get("macro_f1_bundled")
    if old is None:
        return True
    if new is None:
        return False
    return float(new) >= float(old) - ACTIVATION_TOLERANCE


# -- services --------------------------------------------------------------------------------


def _start(*, source: str, by: Any) -> ModelVersion:
    """Insert the ``training`` row — the lock that lets one training run at a time (a partial
    unique index; a stale row from a killed worker is failed first)."""
    stale = timezone.now() - TRAINING_TIMEOUT
    ModelVersion.objects.filter(state=ModelVersion.State.TRAINING, created_at__lt=stale).update(
        state=ModelVersion.State.FAILED,
        finished_at=timezone.now(),
        error="超时未完成（训练进程中断）",
    )
    try:
        with transaction.atomic():
            mv = ModelVersion.objects.create(
                source=source,
                state=ModelVersion.State.TRAINING,
                requested_by=by if getattr(by, "pk", None) else None,
                created_at=timezone.now(),
            )
            audit_record(
                action="model_retrain_requested",
                actor=by,
                obj=mv,
                summary=f"申请训练分类模型（{mv.get_source_display()}）",
            )
    except IntegrityError as e:
        running = training_running()
        since = timezone.localtime(running.created_at).strftime("%H:%M") if running else "刚才"
        raise ConcurrentChange(
            f"已有一个模型训练正在进行（{since} 开始），请等它完成后再发起重新训练。"
        ) from e
    return mv


def retrain_request(*, by: Any) -> ModelVersion:
    """Queue a retrain: guard = no training running (else ``DomainError``); effect = a
    ``training`` row and an audit row now, the task ``retrain_model`` enqueued after commit."""
    from xinfang.intel.tasks import retrain_model

    mv = _start(source=ModelVersion.Source.RETRAIN, by=by)
    transaction.on_commit(lambda: retrain_model.enqueue(mv.pk))
    return mv


def retrain(*, by: Any = None, pending_id: int | None = None) -> ModelVersion:
    """The retrain task's body: bundled data + own closed cases → a new version, scored,
    stored, and activated by :func:`should_activate`. ``pending_id`` is the row made by
    :func:`retrain_request`; without it the row is made here (``intel_retrain --now``), with the
    same one-at-a-time guard. Failures end in state ``failed`` with the error, never raised."""
    if pending_id is None:
        mv = _start(source=ModelVersion.Source.RETRAIN, by=by)
    else:
        found = ModelVersion.objects.filter(
            pk=pending_id, state=ModelVersion.State.TRAINING
        ).first()
        if found is None:  # already finished (task retried) or failed as stale
            return ModelVersion.objects.get(pk=pending_id)
        mv = found
    return _train_and_store(mv, lambda: (bundled_records(), own_records()), activate_rule=True)


def train_bundled(*, by: Any = None) -> ModelVersion:
    """The first model: trained on the shipped public data only, and activated. Training the
    same data twice gives the same version, which is then only (re)activated."""
    mv = _start(source=ModelVersion.Source.BUNDLED, by=by)
    return _train_and_store(mv, lambda: (bundled_records(), []), activate_rule=False)


def bootstrap(*, by: Any = None) -> ModelVersion | None:
    """Idempotent first start: nothing when a ready version is active; activates a ready one
    when none is; trains the bundled model when there is none. Returns the version made or
    activated, ``None`` when nothing was done."""
    if ModelVersion.objects.filter(is_active=True, state=ModelVersion.State.READY).exists():
        return None
    ready = ModelVersion.objects.filter(state=ModelVersion.State.READY).order_by("-created_at")
    for mv in ready:
        if classifier_loadable(mv):
            return activate(mv, by=by)
    return train_bundled(by=by)


def classifier_loadable(mv: ModelVersion) -> bool:
    try:
        classifier.load(version_path(mv))
    except classifier.ModelError:
        return False
    return True


def _train_and_store(
    mv: ModelVersion,
    load: Callable[[], tuple[list[Record], list[Record]]],
    *,
    activate_rule: bool,
) -> ModelVersion:
    """Read the data, score, train, store; any failure (unreadable bundled file, one label, a
    full disk) ends the row as failed with the reason — the training lock is never left held."""
    started = time.perf_counter()
    try:
        bundled, own = load()
        records, rare = _drop_rare(bundled + own)
        # _drop_rare keeps the order: the surviving bundled records come first.
        n_bundled = sum(1 for r in bundled if str(r["label"]) not in rare)
        metrics = score(records, n_bundled)
        t0 = time.perf_counter()
        model = classifier.train(records)
        metrics["train_seconds"] = round(time.perf_counter() - t0, 1)
        metrics["total_seconds"] = round(time.perf_counter() - started, 1)
        if rare:
            metrics["dropped_labels"] = rare
        model.meta["registry_metrics"] = metrics
        n_own = len(records) - n_bundled
        return _store(mv, model, metrics, n_train=len(records), n_own=n_own, rule=activate_rule)
    except Exception as e:  # any training failure ends the row, with the reason shown
        log.exception("training model version row %s failed", mv.pk)
        _fail(mv, f"{type(e).__name__}: {e}")
        return ModelVersion.objects.get(pk=mv.pk)


def _fail(mv: ModelVersion, error: str) -> None:
    with transaction.atomic():
        ModelVersion.objects.filter(pk=mv.pk, state=ModelVersion.State.TRAINING).update(
            state=ModelVersion.State.FAILED, finished_at=timezone.now(), error=error[:2000]
        )
        audit_record(
            action="model_retrain_finished",
            actor=mv.requested_by,
            obj=mv,
            summary="模型训练失败",
            detail={"error": error[:300]},
        )


def _store(
    mv: ModelVersion,
    model: classifier.Model,
    metrics: dict[str, Any],
    *,
    n_train: int,
    n_own: int,
    rule: bool,
) -> ModelVersion:
    base = model_dir()
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".training-{mv.pk}"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(tmp)
    version = model.version
    same = ModelVersion.objects.filter(version=version).exclude(pk=mv.pk).first()
    if same is not None:
        shutil.rmtree(tmp, ignore_errors=True)
        _fail(mv, f"训练结果与已有版本 {version[:12]} 完全相同（训练数据没有变化），未新增版本。")
        if not rule and not ModelVersion.objects.filter(is_active=True).exists():
            try:
                activate(same, by=mv.requested_by)
            except DomainError as e:
                log.error("bundled model %s exists but cannot be activated: %s", version, e)
        return ModelVersion.objects.get(pk=mv.pk)
    final = base / version
    shutil.rmtree(final, ignore_errors=True)  # leftovers of a crash before the row was written
    tmp.rename(final)
    active = ModelVersion.objects.filter(is_active=True).first()
    go = should_activate(metrics, active) if rule else True
    with transaction.atomic():
        ModelVersion.objects.filter(pk=mv.pk).update(
            version=version,
            state=ModelVersion.State.READY,
            finished_at=timezone.now(),
            n_train=n_train,
            n_own=n_own,
            labels=model.labels,
            metrics=metrics,
            path=version,
        )
        mv.refresh_from_db()
        audit_record(
            action="model_retrain_finished",
            actor=mv.requested_by,
            obj=mv,
            summary=f"模型训练完成：版本 {version[:12]}，macro-F1 {metrics.get('macro_f1')}",
            detail={
                "version": version,
                "n_train": n_train,
                "n_own": n_own,
                "metrics": {k: v for k, v in metrics.items() if k != "dropped_labels"},
                "activate": go,
            },
        )
    if go:
        activate(mv, by=mv.requested_by)
    return ModelVersion.objects.get(pk=mv.pk)


def activate(mv: ModelVersion | str, *, by: Any) -> ModelVersion:
    """Make ``mv`` (a row or its version hash) the active model. Guard: ready and its files pass
    the hash check. Effect: every other version inactive, this one active (the partial unique
    index allows one), an audit row; this process reloads at once, others within
    ``INTEL_MODEL_CHECK_SECONDS``."""
    if isinstance(mv, str):
        found = ModelVersion.objects.filter(version=mv).first()
        if found is None:
            raise DomainError(f"没有版本号为 {mv[:16]} 的模型。", field="version")
        mv = found
    if mv.state != ModelVersion.State.READY:
        raise DomainError(
            f"模型 {mv.version[:12] or mv.pk} 状态为“{mv.get_state_display()}”，不能设为当前。"
        )
    if not classifier_loadable(mv):
        raise DomainError(f"模型 {mv.version[:12]} 的文件缺失或被改动，不能设为当前。")
    previous = ModelVersion.objects.filter(is_active=True).exclude(pk=mv.pk).first()
    try:
        with transaction.atomic():
            ModelVersion.objects.filter(is_active=True).exclude(pk=mv.pk).update(is_active=False)
            changed = ModelVersion.objects.filter(pk=mv.pk, state=ModelVersion.State.READY).update(
                is_active=True
            )
            if not changed:
                raise DomainError("该模型版本已不可用，请刷新后重试。")
            audit_record(
                action="model_activate",
                actor=by,
                obj=mv,
                summary=f"启用分类模型 {mv.version[:12]}"
                + (f"（原为 {previous.version[:12]}）" if previous else ""),
                detail={"version": mv.version, "previous": previous.version if previous else ""},
            )
    except IntegrityError as e:
        raise DomainError("另一位用户同时切换了模型版本，请刷新页面后重试。") from e
    transaction.on_commit(forget_active)
    forget_active()
    mv.refresh_from_db()
    return mv
