"""Citizen ID number validation (GB 11643-1999) and 港澳台居民居住证 numbers.

Why this exists: a petitioner's identity is the key used to find repeat petitions and to merge
records, so a mistyped number silently splits one person into two. Every check below produces a
message that tells the clerk *which* part of the number is wrong, so they can ask the petitioner
again instead of guessing.

Pure Python on purpose (no Django models, no DB): it runs in forms, the API and bulk imports.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

__all__ = [
    "PERMIT_REGION_CODES",
    "PROVINCE_CODES",
    "IdInfo",
    "IdNumberError",
    "id_check_digit",
    "validate_hk_mo_tw_permit",
    "validate_id_number",
]

# ISO 7064 MOD 11-2 as specified by GB 11643-1999.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_MAP = "10X98765432"

# Province-level codes of GB/T 2260. 71 (台湾) and 81/82 (香港/澳门) exist in the standard;
# 83 is used only by 台湾居民居住证 numbers. We accept 83 here as well because permit holders
# routinely present the permit in the ordinary "身份证号" field and the number format is the same.
PROVINCE_CODES: frozenset[str] = frozenset(
    [str(c) for c in range(11, 16)]
    + [str(c) for c in range(21, 24)]
    + [str(c) for c in range(31, 38)]
    + [str(c) for c in range(41, 47)]
    + [str(c) for c in range(50, 55)]
    + [str(c) for c in range(61, 66)]
    + ["71", "81", "82", "83"]
)

PERMIT_REGION_CODES: dict[str, str] = {"810000": "香港", "820000": "澳门", "830000": "台湾"}

_ID18_RE = re.compile(r"[0-9]{17}[0-9X]")
_ID15_RE = re.compile(r"[0-9]{15}")
_EARLIEST_BIRTH = date(1900, 1, 1)


class IdNumberError(ValueError):
    """A number that fails validation; ``message`` is the Chinese text shown to the clerk.

    ``code`` is a stable machine-readable reason (``required``, ``length``, ``chars``,
    ``region``, ``date``, ``too_old``, ``future``, ``checksum``) for callers that need to
    branch, e.g. an import that tolerates only checksum errors on legacy data.
    """

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class IdInfo:
    """What a valid number tells us; ``number`` is always the 18-digit normalised form."""

    number: str
    birth_date: date
    sex: str  # "M" or "F"
    region_code: str


def id_check_digit(first17: str) -> str:
    """Return the 18th character (0-9 or X) for the given first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"计算校验码需要17位数字，当前为“{first17}”")
    total = sum(int(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_MAP[total % 11]


def _normalise(raw: str) -> str:
    """Full-width digits/letters → ASCII, drop all whitespace, uppercase the X.

    Chinese input methods often produce full-width ``１１０…`` or ``ｘ``; rejecting those would
    only make clerks retype numbers that are in fact correct.
    """
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(text.split()).upper()


def _first_bad_char(number: str, allow_x_last: bool) -> tuple[int, str] | None:
    for i, ch in enumerate(number, start=1):
        if "0" <= ch <= "9":
            continue
        if allow_x_last and ch == "X" and i == len(number):
            continue
        return i, ch
    return None


def _today(today: date | None) -> date:
    """Local date in the configured time zone (Asia/Shanghai), not the server's UTC date."""
    if today is not None:
        return today
    try:
        from django.conf import settings
        from django.utils import timezone

        if settings.configured:
            return timezone.localdate()
    except ImportError:  # pragma: no cover - Django is always installed in this project
        pass
    return date.today()


def _parse_birth(yyyymmdd: str, label: str, today: date) -> date:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise IdNumberError(f"{label}中的出生日期{yyyymmdd}不存在", "date") from None
    if born < _EARLIEST_BIRTH:
        raise IdNumberError(f"{label}中的出生日期早于1900年（{yyyymmdd}），请核对", "too_old")
    if born > today:
        raise IdNumberError(f"{label}中的出生日期晚于今天（{yyyymmdd}），请核对第7–14位", "future")
    return born


def _check_18(number: str, label: str, today: date) -> IdInfo:
    """Date and checksum checks shared by ID cards and residence permits."""
    born = _parse_birth(number[6:14], label, today)
    expected = id_check_digit(number[:17])
    if number[17] != expected:
        # Kept exactly in this form: other modules and tests match on it.
        raise IdNumberError(f"{label}第18位校验码应为{expected}，当前为{number[17]}", "checksum")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number=number, birth_date=born, sex=sex, region_code=number[:6])


def validate_id_number(raw: str, *, today: date | None = None) -> IdInfo:
    """Validate an 18-digit (or legacy 15-digit) resident ID number; raise IdNumberError.

    15-digit numbers (issued before 1999, births 1900–1999) are upgraded to 18 digits by
    inserting "19" before the year and computing the check digit, so the same person always
    ends up under the same stored number.
    """
    label = "身份证号"
    number = _normalise(raw)
    if not number:
        raise IdNumberError("请填写身份证号", "required")
    if len(number) not in (15, 18):
        raise IdNumberError(f"{label}应为18位（或15位旧号），当前为{len(number)}位", "length")
    if len(number) == 15:
        bad = _first_bad_char(number, allow_x_last=False)
        if bad is not None:
            raise IdNumberError(f"15位旧{label}只能包含数字，第{bad[0]}位是“{bad[1]}”", "chars")
        assert _ID15_RE.fullmatch(number)
        first17 = number[:6] + "19" + number[6:]
        number = first17 + id_check_digit(first17)
    else:
        bad = _first_bad_char(number, allow_x_last=True)
        if bad is not None:
            raise IdNumberError(
                f"{label}只能包含数字，第18位可以是X（第{bad[0]}位是“{bad[1]}”）", "chars"
            )
        assert _ID18_RE.fullmatch(number)
    province = number[:2]
    if province not in PROVINCE_CODES:
        raise IdNumberError(f"{label}前6位地址码无效（省级代码{province}不存在）", "region")
    return _check_18(number, label, _today(today))


def validate_hk_mo_tw_permit(raw: str, *, today: date | None = None) -> IdInfo:
    """Validate a 港澳台居民居住证 number: 18 characters, region 810000/820000/830000.

    The permit uses the ID-card layout and checksum but a fixed region code, which is what
    tells it apart (and what clerks most often get wrong when copying it).
    """
    label = "港澳台居民居住证号码"
    number = _normalise(raw)
    if not number:
        raise IdNumberError(f"请填写{label}", "required")
    if len(number) != 18:
        raise IdNumberError(f"{label}应为18位，当前为{len(number)}位", "length")
    bad = _first_bad_char(number, allow_x_last=True)
    if bad is not None:
        raise IdNumberError(
            f"{label}只能包含数字，第18位可以是X（第{bad[0]}位是“{bad[1]}”）", "chars"
        )
    region = number[:6]
    if region not in PERMIT_REGION_CODES:
        raise IdNumberError(
            f"{label}前6位应为810000（香港）、820000（澳门）或830000（台湾），当前为{region}",
            "region",
        )
    return _check_18(number, label, _today(today))
