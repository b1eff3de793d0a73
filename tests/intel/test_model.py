from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from xinfang.intel.classifier import Model, ModelError, load, train

BAD_INPUTS: list[dict[str, object]] = [
    {"id": "empty", "title": "", "text": ""},
    {"id": "punct", "title": "？？？", "text": "！！！……，，，。。。"},
    {"id": "long", "title": "噪音", "text": "小区楼下烧烤店深夜噪音扰民，" * 3600},
    {"id": "trad", "title": "關於小區垃圾處理的問題", "text": "環境衛生很差，請相關部門處理。"},
    {"id": "english", "title": "Road repair", "text": "The road near school is broken, please fix"},
    {"id": "emoji", "title": "😡😡", "text": "🚧🚧 路坏了 🙏"},
    {"id": "no-title", "text": "孩子上学的学区划分不合理"},
    {"id": "types", "title": None, "text": 12345},
]


def test_probabilities_sum_to_one_and_labels(model: Model, records: list[dict]) -> None:
    probs = model.predict_proba(records[:10])
    assert len(probs) == 10
    for p in probs:
        assert set(p) == {r["label"] for r in records}
        assert abs(sum(p.values()) - 1.0) < 1e-9


def test_fits_its_training_data(model: Model, records: list[dict]) -> None:
    pred = model.predict(records)
    assert np.mean([p == r["label"] for p, r in zip(pred, records, strict=True)]) > 0.9


def test_bad_inputs_degrade_gracefully(model: Model, records: list[dict]) -> None:
    started = time.perf_counter()
    probs = model.predict_proba(BAD_INPUTS)
    assert time.perf_counter() - started < 1.0
    confident = max(model.predict_proba(records[:1])[0].values())
    for rec, p in zip(BAD_INPUTS, probs, strict=True):
        assert abs(sum(p.values()) - 1.0) < 1e-9
        if str(rec["id"]) in ("empty", "punct", "types"):
            assert max(p.values()) < 0.5 < confident, rec["id"]


def test_save_load_round_trip(model: Model, model_dir: Path, records: list[dict]) -> None:
    loaded = load(model_dir)
    assert loaded.version == model.version and len(model.version) == 16
    assert np.allclose(loaded.predict_matrix(records), model.predict_matrix(records))
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    assert meta["labels"] == model.labels and meta["train_data_sha256"]
    assert {p.name for p in model_dir.iterdir()} == {
        "meta.json",
        "vocab.json",
        "keywords.json",
        "arrays.npz",
    }


def test_deterministic(records: list[dict], model: Model, tmp_path: Path) -> None:
    again = train(records)
    again.save(tmp_path)
    assert again.version == model.version
    assert np.array_equal(again.predict_matrix(records), model.predict_matrix(records))


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_tampered_file_is_refused(model_dir: Path, tmp_path: Path) -> None:
    d = _copy(model_dir, tmp_path / "m")
    vocab = json.loads((d / "vocab.json").read_text(encoding="utf-8"))
    vocab["title_char"]["weight"] = 9.0
    (d / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ModelError, match="版本号不符"):
        load(d)


def test_missing_file_is_refused(model_dir: Path, tmp_path: Path) -> None:
    d = _copy(model_dir, tmp_path / "m")
    (d / "arrays.npz").unlink()
    with pytest.raises(ModelError, match=r"缺少 arrays\.npz"):
        load(d)


def test_pickled_array_is_not_loaded(model_dir: Path, tmp_path: Path) -> None:
    """An object array (which only pickle can carry) with a matching version is still refused:
    np.load runs with allow_pickle=False."""
    d = _copy(model_dir, tmp_path / "m")
    with zipfile.ZipFile(d / "arrays.npz", "a") as zf, zf.open("beta.npy", "w") as f:
        np.lib.format.write_array(f, np.array([object()], dtype=object), allow_pickle=True)
    from xinfang.intel import classifier

    meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    meta["version"] = classifier._content_hash(
        {name: (d / name).read_bytes() for name in classifier.FILES}
    )
    (d / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="无法读取"):
        load(d)
