"""Keyword priors from the office's category tree (``categories.jsonl``: level1/level2/level3).

``data/keywords.json`` ships inside the project (built once by :func:`build` from the public
Teddy Cup 2020 tree; see docs/intel.md) so that training on ``train.jsonl`` alone needs nothing
else. For each first-level label: the level-2/3 names and their rjieba words of ≥ 2 characters,
minus generic words and words that occur under more than one first-level label.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache
from pathlib import Path

import rjieba

KEYWORDS_PATH = Path(__file__).parent / "data" / "keywords.json"
GENERIC = {"其他", "管理", "问题", "建设", "服务", "政策", "工作", "相关", "处理", "办理", "行业"}


def build(categories_path: Path) -> dict[str, list[str]]:
    terms: dict[str, set[str]] = defaultdict(set)
    for line in categories_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        for name in (row["level2"], row["level3"]):
            for part in name.replace("、", " ").replace("/", " ").split():
                candidates = {part, *rjieba.cut(part)}
                terms[row["level1"]].update(
                    w for w in candidates if len(w) >= 2 and w not in GENERIC
                )
    owners: dict[str, set[str]] = defaultdict(set)
    for label, words in terms.items():
        for w in words:
            owners[w].add(label)
    return {
        label: sorted(w for w in words if len(owners[w]) == 1)
        for label, words in sorted(terms.items())
    }


@cache
def load() -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(KEYWORDS_PATH.read_text(encoding="utf-8"))
    return data


if __name__ == "__main__":  # python -m xinfang.intel.keywords CATEGORIES.jsonl
    import sys

    out = build(Path(sys.argv[1]))
    KEYWORDS_PATH.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{KEYWORDS_PATH}: {sum(map(len, out.values()))} keywords, {len(out)} labels")
