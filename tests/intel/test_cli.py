"""The CLI contract used by the evaluation: intel_train / intel_predict (one real subprocess
round trip, the rest through call_command)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.intel.conftest import FIXTURE
from tests.intel.test_model import BAD_INPUTS

ROOT = Path(__file__).resolve().parents[2]


def _predict(model_dir: Path, lines: list[str]) -> list[dict]:
    out = io.StringIO()
    stdin = io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))
    call_command(
        "intel_predict", model=str(model_dir), stdin=stdin, stdout=out, stderr=io.StringIO()
    )
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_round_trip_predict_in_subprocess(tmp_path: Path, records: list[dict]) -> None:
    env = {**os.environ, "XINFANG_ALLOW_DEV_SECRET": "1"}
    model_dir = tmp_path / "model"
    out = io.StringIO()  # training in-process: a second interpreter would re-import sklearn
    call_command("intel_train", data=str(FIXTURE), model=str(model_dir), stdout=out)
    assert "trained" in out.getvalue() and "版本" in out.getvalue()
    queries = [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in reversed(records)]
    stdin = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries)
    pred = subprocess.run(
        [sys.executable, "manage.py", "intel_predict", "--model", str(model_dir)],
        cwd=ROOT,
        env=env,
        input=stdin.encode("utf-8"),
        capture_output=True,
        check=True,
    )
    rows = [json.loads(line) for line in pred.stdout.decode("utf-8").splitlines()]
    assert [r["id"] for r in rows] == [q["id"] for q in queries]  # same order, nothing else
    labels = {r["label"] for r in records}
    for row in rows:
        assert row["label"] in labels and set(row["scores"]) == labels
        assert abs(sum(row["scores"].values()) - 1.0) < 1e-6
        assert row["label"] == max(row["scores"], key=row["scores"].get)
    assert "," in pred.stdout.decode("utf-8") and "\\u" not in pred.stdout.decode("utf-8")
    assert "已预测" in pred.stderr.decode("utf-8")


def test_bad_inputs_through_cli(model_dir: Path) -> None:
    lines = [json.dumps(r, ensure_ascii=False) for r in BAD_INPUTS] + [""]
    rows = _predict(model_dir, lines)
    assert [r["id"] for r in rows] == [r["id"] for r in BAD_INPUTS]
    for row in rows:
        assert abs(sum(row["scores"].values()) - 1.0) < 1e-6


def test_malformed_line_names_the_line(model_dir: Path) -> None:
    lines = ['{"id": "1", "title": "a", "text": "b"}', '{"id": "2", "title": ', "[1, 2]"]
    out = io.StringIO()
    with pytest.raises(CommandError) as e:
        call_command(
            "intel_predict",
            model=str(model_dir),
            stdin=io.BytesIO("\n".join(lines).encode()),
            stdout=out,
        )
    assert "第 2 行不是合法的 JSON" in str(e.value) and "第 3 行应为 JSON 对象" in str(e.value)
    assert out.getvalue() == ""  # nothing half-written


def test_missing_model_dir(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="不完整"):
        call_command("intel_predict", model=str(tmp_path / "none"), stdin=io.BytesIO(b""))


def test_train_rejects_missing_labels(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": 1, "title": "a", "text": "b"}\n', encoding="utf-8")
    with pytest.raises(CommandError, match="缺少 label"):
        call_command("intel_train", data=str(data), model=str(tmp_path / "m"), stdout=io.StringIO())


def test_eval_prints_tables() -> None:
    out = io.StringIO()
    call_command("intel_eval", data=str(FIXTURE), folds=3, no_cost=True, stdout=out)
    text = out.getvalue()
    assert "3-fold CV" in text and "macro-F1" in text and "Confusion matrix" in text
