"""MinHash-LSH over character shingles: pure, numpy-vectorised functions for near-duplicates.

Why these choices (the figures are in ``docs/intel.md`` «近似重复与群发», produced by
``bench/bench_neardup.py`` on perturbed real messages):

* **Normalisation** reuses :func:`xinfang.intel.text.normalize` (NFKC: full width → half width,
  lower case, URLs/phones/ID numbers/long digit runs → one placeholder each) and then keeps only
  the "word" characters (CJK, Latin letters, digits, placeholders). Punctuation and whitespace are
  dropped entirely, so ``，`` vs ``,`` vs ``、`` or an extra space changes nothing, and a 群发 text
  whose only difference is each sender's own phone number is still the same text.
* **Shingles** are character k-grams of that string (k = :data:`SHINGLE_K`). Chinese has no
  spaces, so characters, not words, are the unit (no segmenter whose output shifts with an edit).
  Texts shorter than k give one shingle (the whole text); empty texts give none and are never
  linked.
* **Shingle hashing** is a polynomial of the code points, mixed with the SplitMix64 finaliser,
  computed for all positions at once with numpy. It is a fixed function of the text (unlike
  Python's salted ``hash``), so signatures are stable across processes and machines.
* **MinHash** uses :data:`NUM_PERM` universal hash functions ``(a·x + b) mod p`` with
  p = 2⁶¹ − 1 and a, b drawn once from a fixed seed; a < 2³¹ and x < 2³² keep ``a·x + b`` below
  2⁶⁴, so the arithmetic in uint64 is exact. The inputs are scrambled with SplitMix64 first
  (that family alone is biased on structured inputs such as consecutive integers). The minimum
  per function is kept as uint32.
* **LSH banding**: :data:`BANDS` bands of :data:`ROWS` rows; two texts become candidates when any
  band is equal. The S-curve ``1 − (1 − J^r)^b`` sits at ≈ (1/b)^(1/r); candidates are then
  confirmed by the estimated Jaccard ≥ :data:`THRESHOLD`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from xinfang.intel.text import normalize

SHINGLE_K = 3
NUM_PERM = 128
BANDS = 32
ROWS = 4
THRESHOLD = 0.5
SEED = 20261126
# Only the opening of a very long text is compared: 20,000 characters is far more than any real
# message, and bounds time and memory for a 50,000-character paste.
MAX_CHARS = 20_000
# Changing any parameter above changes every signature: stored rows carry this tag, and rows with
# another tag are recomputed by ``intel_neardup --rebuild``.
PARAMS_TAG = f"k{SHINGLE_K}-p{NUM_PERM}-b{BANDS}x{ROWS}-s{SEED}"

_MERSENNE = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64(0xFFFFFFFF)
# Kept: letters and digits of any script (CJK, Latin, kana …) and the placeholders of
# text.normalize; everything else (punctuation, spaces, symbols, emoji) is dropped.
_KEEP_RE = re.compile(r"(?:[^\W_]|[\ue000-\ue003])+")


def _splitmix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64 finaliser: spreads polynomial hashes over all 64 bits (wrap-around intended)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _permutations(
    num_perm: int, seed: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 31, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint64)
    return a, b


_PERM_A, _PERM_B = _permutations(NUM_PERM, SEED)


def canonical(text: str | None) -> str:
    """The compared form: normalised, only word characters, punctuation and spaces removed."""
    norm = normalize(text, limit=MAX_CHARS)
    return "".join(_KEEP_RE.findall(norm)) if norm else ""


def shingles(text: str | None, k: int = SHINGLE_K) -> npt.NDArray[np.uint32]:
    """Sorted unique 32-bit hashes of the character k-grams of :func:`canonical` (text)."""
    s = canonical(text)
    if not s:
        return np.empty(0, dtype=np.uint32)
    cps = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = max(len(cps) - k + 1, 1)
    kk = min(k, len(cps))
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(kk):  # k is 3..5: a loop over offsets, vectorised over positions
            h = h * np.uint64(0x100000001B3) + cps[j : j + n] + np.uint64(1)
        mixed = _splitmix64(h)
    return np.unique((mixed >> np.uint64(32)).astype(np.uint32))


def signature(shingle_hashes: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """MinHash signature (NUM_PERM uint32). An empty set gives all 0xFFFFFFFF (never linked)."""
    if shingle_hashes.size == 0:
        return np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    # Scramble first: the universal family with a < 2³¹ is weak on structured inputs (small or
    # consecutive integers); after SplitMix64 any input set looks random to it.
    with np.errstate(over="ignore"):
        x = _splitmix64(shingle_hashes.astype(np.uint64)) >> np.uint64(32)
    out = np.empty(NUM_PERM, dtype=np.uint32)
    # Blocks of shingles bound the temporary (block × NUM_PERM uint64) for very long texts.
    block = 4096
    mins = np.full(NUM_PERM, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, x.size, block):
        part = x[start : start + block, None]
        v = part * _PERM_A[None, :] + _PERM_B[None, :]  # < 2⁶³ + 2³², exact in uint64
        # v mod (2⁶¹ − 1) without a division: fold the top bits, subtract p once if needed.
        r = (v & _MERSENNE) + (v >> np.uint64(61))
        r -= _MERSENNE * (r >= _MERSENNE)
        hv = r & _MASK32
        np.minimum(mins, hv.min(axis=0), out=mins)
    out[:] = mins.astype(np.uint32)
    return out


def text_signature(text: str | None) -> tuple[npt.NDArray[np.uint32], int]:
    """Signature of a text and its number of distinct shingles (0: nothing to compare)."""
    sh = shingles(text)
    return signature(sh), int(sh.size)


def band_keys(sig: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    """One signed 63-bit key per band (band index mixed in, so one index serves all bands)."""
    return band_keys_batch(sig[None, :])[0]


def band_keys_batch(sigs: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    """:func:`band_keys` of each row of ``sigs`` (n × NUM_PERM) → n × BANDS."""
    rows = sigs.astype(np.uint64).reshape(sigs.shape[0], BANDS, ROWS)
    with np.errstate(over="ignore"):
        h = np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        h = np.broadcast_to(h, (sigs.shape[0], BANDS)).copy()
        for j in range(ROWS):
            h = _splitmix64(h ^ rows[:, :, j])
    return (h >> np.uint64(1)).astype(np.int64)


def estimate(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> float:
    """Estimated Jaccard similarity: the share of equal MinHash values, in [0, 1]."""
    if a.shape != b.shape or a.size == 0:
        return 0.0
    return float(np.count_nonzero(a == b)) / a.size


def estimate_many(
    sig: npt.NDArray[np.uint32], others: npt.NDArray[np.uint32]
) -> npt.NDArray[np.float64]:
    """:func:`estimate` of ``sig`` against each row of ``others`` (n × NUM_PERM)."""
    if others.size == 0:
        return np.empty(0, dtype=np.float64)
    return np.count_nonzero(others == sig[None, :], axis=1) / sig.size


def exact_jaccard(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> float:
    """Exact Jaccard of two shingle-hash sets (sorted unique arrays); 0 when both are empty."""
    if a.size == 0 and b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def to_bytes(sig: npt.NDArray[np.uint32]) -> bytes:
    """Little-endian bytes for storage (4 × NUM_PERM)."""
    return sig.astype("<u4").tobytes()


def from_bytes(raw: bytes | memoryview) -> npt.NDArray[np.uint32]:
    return np.frombuffer(bytes(raw), dtype="<u4").astype(np.uint32)


def s_curve(j: float, bands: int = BANDS, rows: int = ROWS) -> float:
    """Probability that a pair of Jaccard ``j`` shares at least one band."""
    return 1.0 - (1.0 - j**rows) ** bands


@dataclass(frozen=True)
class Fingerprint:
    """What a case stores: its signature, band keys and shingle count."""

    sig: npt.NDArray[np.uint32]
    keys: npt.NDArray[np.int64]
    n_shingles: int

    @property
    def empty(self) -> bool:
        return self.n_shingles == 0


def fingerprint(parts: Sequence[str | None]) -> Fingerprint:
    """Fingerprint of the concatenated ``parts`` (e.g. summary and content of a case)."""
    text = "\n".join(p for p in parts if p)
    sig, n = text_signature(text)
    return Fingerprint(sig=sig, keys=band_keys(sig), n_shingles=n)
