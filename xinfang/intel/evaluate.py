"""Cross-validated evaluation of the routing classifier, printed as markdown tables.

Stratified k-fold (fixed seed) on the training file only: each fold trains :func:`train` from
scratch (vocabularies and idf included) on the other folds, so nothing of the test fold leaks.
Then one model on all records for train time, per-message latency and size on disk.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xinfang.intel.classifier import Model, load, train
from xinfang.intel.features import Record

SEED = 20200


@dataclass
class Report:
    folds: int
    labels: list[str]
    macro_f1: float
    accuracy: float
    fold_f1: list[float]
    per_class: list[tuple[str, float, float, float, int]]  # label, P, R, F1, support
    confusion: np.ndarray
    train_seconds: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    size_bytes: int = 0
    load_ms: float = 0.0
    log_loss: float = 0.0

    def markdown(self) -> str:
        out = [
            f"## {self.folds}-fold CV (stratified, seed {SEED})",
            "",
            "| macro-F1 | accuracy | log-loss | macro-F1 per fold |",
            "|---:|---:|---:|---|",
            f"| {self.macro_f1:.4f} | {self.accuracy:.4f} | {self.log_loss:.3f} | "
            + ", ".join(f"{f:.3f}" for f in self.fold_f1)
            + " |",
            "",
            "| label | precision | recall | F1 | support |",
            "|---|---:|---:|---:|---:|",
        ]
        out += [
            f"| {lab} | {p:.3f} | {r:.3f} | {f:.3f} | {n} |" for lab, p, r, f, n in self.per_class
        ]
        out += ["", "Confusion matrix (rows: true, columns: predicted)", ""]
        out.append("| true \\ pred | " + " | ".join(self.labels) + " |")
        out.append("|---|" + "---:|" * len(self.labels))
        for lab, row in zip(self.labels, self.confusion, strict=True):
            out.append(f"| {lab} | " + " | ".join(str(int(v)) for v in row) + " |")
        if self.train_seconds:
            out += [
                "",
                "## Cost (model trained on all records)",
                "",
                "| train time | latency p50 | latency p95 | latency max | model on disk | load |",
                "|---:|---:|---:|---:|---:|---:|",
                f"| {self.train_seconds:.2f} s | {self.latency_ms['p50']:.3f} ms | "
                f"{self.latency_ms['p95']:.3f} ms | {self.latency_ms['max']:.3f} ms | "
                f"{self.size_bytes / 1024:.0f} KiB | {self.load_ms:.0f} ms |",
            ]
        return "\n".join(out) + "\n"


def cross_validate(records: Sequence[Record], *, folds: int = 5, **train_kw: Any) -> Report:
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        log_loss,
        precision_recall_fscore_support,
    )
    from sklearn.model_selection import StratifiedKFold

    y = np.array([str(r["label"]) for r in records])
    labels = sorted(set(y.tolist()))
    pred = np.empty(len(y), dtype=object)
    proba = np.zeros((len(y), len(labels)))
    fold_f1 = []
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for tr, te in skf.split(np.zeros(len(y)), y):
        model = train([records[i] for i in tr], **train_kw)
        p = model.predict_matrix([records[i] for i in te])
        cols = [model.labels.index(lab) for lab in labels]
        proba[te] = p[:, cols]
        pred[te] = [labels[i] for i in proba[te].argmax(axis=1)]
        fold_f1.append(float(f1_score(y[te], pred[te], average="macro")))
    pr, rc, f1, sup = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return Report(
        folds=folds,
        labels=labels,
        macro_f1=float(f1_score(y, pred, average="macro")),
        accuracy=float(accuracy_score(y, pred)),
        fold_f1=fold_f1,
        per_class=[
            (lab, float(a), float(b), float(c), int(d))
            for lab, a, b, c, d in zip(labels, pr, rc, f1, sup, strict=True)
        ],
        confusion=confusion_matrix(y, pred, labels=labels),
        log_loss=float(log_loss(y, proba, labels=labels)),
    )


def measure_cost(records: Sequence[Record], report: Report, *, latency_n: int = 300) -> Model:
    """Train on all records, time per-message predictions (one record per call), size and load."""
    t0 = time.perf_counter()
    model = train(records)
    report.train_seconds = time.perf_counter() - t0
    sample = [records[i % len(records)] for i in range(latency_n)]
    model.predict_matrix(sample[:5])  # warm up
    times = []
    for rec in sample:
        s = time.perf_counter()
        model.predict_matrix([rec])
        times.append((time.perf_counter() - s) * 1000)
    report.latency_ms = {
        "p50": float(np.percentile(times, 50)),
        "p95": float(np.percentile(times, 95)),
        "max": float(max(times)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        model.meta["cv_macro_f1"] = round(report.macro_f1, 4)
        model.save(tmp)
        report.size_bytes = sum(f.stat().st_size for f in Path(tmp).iterdir())
        s = time.perf_counter()
        load(tmp)
        report.load_ms = (time.perf_counter() - s) * 1000
    return model
