"""The vectorised prediction path (``Block.row``, ``KeywordPrior.row``, ``Model._scores``) must give
the same features and probabilities as the straightforward implementation it replaced, which is
kept here as the reference: a ``Counter`` of string n-grams looked up one by one in the
vocabulary, and one substring test per category name."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.intel.test_model import BAD_INPUTS
from xinfang.intel import text as T
from xinfang.intel.classifier import Model
from xinfang.intel.features import Block, Doc, KeywordPrior, to_doc


def reference_tokens(block: Block, doc: Doc) -> Counter[str]:
    s = getattr(doc, block.field)
    if block.kind == "char":
        grams: list[str] = []
        for run in T.RUN_RE.findall(s):
            for n in (1, 2, 3):
                grams += [run[i : i + n] for i in range(len(run) - n + 1)]
        return Counter(grams)
    toks = [w for w in T.rjieba.cut(s) if T.RUN_RE.search(w)]
    return Counter(toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)])


def reference_row(block: Block, doc: Doc) -> dict[int, float]:
    vals = {}
    for t, k in reference_tokens(block, doc).items():
        j = block.vocab.get(t)
        if j is not None:
            vals[j] = (1.0 + math.log(k)) * float(block.idf[j])
    norm = math.sqrt(sum(v * v for v in vals.values()))
    return {j: v * block.weight / norm for j, v in vals.items()} if norm else {}


def reference_prior(prior: KeywordPrior, doc: Doc) -> np.ndarray:
    out = np.zeros(prior.size)
    for j, lab in enumerate(prior.labels):
        kws = prior.keywords.get(lab, ())
        out[2 * j] = math.log1p(sum(1 for k in kws if k in doc.title))
        out[2 * j + 1] = math.log1p(sum(1 for k in kws if k in doc.body))
    return out * prior.weight


def reference_proba(model: Model, doc: Doc) -> np.ndarray:
    x = []
    for b in model.blocks:
        dense = np.zeros(b.size)
        for j, v in reference_row(b, doc).items():
            dense[j] = v
        x.append(dense)
    x.append(reference_prior(model.prior, doc))
    z = (model.coef @ np.concatenate(x) + model.intercept) * model.beta
    e = np.exp(z - z.max())
    return np.asarray(e / e.sum())


def _docs(records: list[dict]) -> list[Doc]:
    extra = [{"title": r["text"][:30], "text": r["title"] + "，" + r["text"]} for r in records[:10]]
    return [to_doc(r) for r in [*records, *BAD_INPUTS, *extra]]


def test_block_rows_equal_reference(model: Model, records: list[dict]) -> None:
    for doc in _docs(records):
        for b in model.blocks:
            cols, vals = b.row(doc)
            ref = reference_row(b, doc)
            assert sorted(cols.tolist()) == sorted(ref), (b.name, doc.title)
            got = dict(zip(cols.tolist(), vals.tolist(), strict=True))
            assert all(math.isclose(got[j], v, rel_tol=1e-12) for j, v in ref.items())


def test_keyword_prior_equals_reference(model: Model, records: list[dict]) -> None:
    for doc in _docs(records):
        assert np.array_equal(model.prior.row(doc), reference_prior(model.prior, doc))


def test_keyword_prior_short_names_are_tested_directly() -> None:
    prior = KeywordPrior(
        keywords={"a": ["水", "", "供水"], "b": ["电费"]}, labels=["a", "b"], weight=1
    )
    doc = Doc(title="水", body="停电，电费")
    assert np.allclose(prior.row(doc), reference_prior(prior, doc))


def test_probabilities_equal_reference(model: Model, records: list[dict]) -> None:
    docs = _docs(records)
    recs: list[dict[str, object]] = [{"title": d.title, "text": d.body} for d in docs]
    fast = model.predict_matrix(recs)
    for row, doc in zip(fast, docs, strict=True):
        assert np.allclose(row, reference_proba(model, doc), rtol=1e-9, atol=1e-12)


def test_sparse_features_match_fast_rows(model: Model, records: list[dict]) -> None:
    """The training path (``Model.features``, Counter based) and the fast rows agree."""
    docs = _docs(records)[:20]
    x = model.features(docs).toarray()
    offset = 0
    for b in model.blocks:
        for i, doc in enumerate(docs):
            cols, vals = b.row(doc)
            dense = np.zeros(b.size)
            dense[cols] = vals
            assert np.allclose(x[i, offset : offset + b.size], dense, atol=1e-15)
        offset += b.size


@pytest.mark.parametrize("text", ["", "a", "噪音，扰民", "ab12 cd\ue001中文", "𠀀𠀁𠀂x"])
def test_char_keys_are_the_char_ngrams(text: str) -> None:
    expected = sorted(T.char_key(g) for g in T.char_ngrams(text, 1, 3))
    assert sorted(T.char_ngram_keys(text, 1, 3).tolist()) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("噪音扰民小区ab9 ，。\ue000😡𠀀"), max_size=40))
def test_char_keys_property(text: str) -> None:
    """Keys are a bijection of the n-gram multiset (no collisions, nothing lost)."""
    grams = list(T.char_ngrams(text, 1, 3))
    keys = T.char_ngram_keys(text, 1, 3).tolist()
    assert sorted(keys) == sorted(T.char_key(g) for g in grams)
    assert len(set(keys)) == len(set(grams))
