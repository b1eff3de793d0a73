from __future__ import annotations

import json
from pathlib import Path

import pytest

from xinfang.intel.classifier import Model, train

FIXTURE = Path(__file__).parent / "fixtures" / "train_sample.jsonl"


def fixture_records() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def records() -> list[dict]:
    return fixture_records()


@pytest.fixture(scope="session")
def model(records: list[dict]) -> Model:
    return train(records)


@pytest.fixture(scope="session")
def model_dir(model: Model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model.save(tmp_path_factory.mktemp("intel_model"))
