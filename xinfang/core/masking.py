"""Masking of ID and phone numbers for display, and phone-number normalisation/validation.

Why: petitioners' identities are sensitive (信访人信息保密). Lists, exports, logs and anything
shown to staff without a need to know must use the masked form; the full number is shown only
on the case page to people allowed to see it. Phone numbers are normalised to one canonical
spelling so that searching for "138 1234 5678" finds "138-1234-5678".
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["mask_id", "mask_phone", "normalise_phone", "validate_phone"]

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
# Canonical landline: area code, local number, optional extension.
_LANDLINE_RE = re.compile(r"(0[0-9]{2,3})-([0-9]{7,8})(?:-([0-9]{1,6}))?")
_DASHES = "‐‑‒–—―−"  # various dashes people paste from Word / web pages
_EXTENSION_MARKERS = re.compile(r"(分机|转|EXT\.?|X|#)", re.IGNORECASE)
_COUNTRY_PREFIX = re.compile(r"^(\+86|0086)-?")


def _normalise_text(raw: str | None) -> str:
    """Full-width → ASCII (NFKC), drop all whitespace."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(text.split())


def _mask_middle(text: str, head: int, tail: int) -> str:
    """Keep ``head`` leading and ``tail`` trailing characters; never reveal a short value whole."""
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def mask_id(number: str | None) -> str:
    """110105194912310021 → 110105********0021: region and last 4 are enough to tell people apart
    on a list, the birth date (the most guessable/abusable part) is hidden."""
    text = _normalise_text(number).upper()
    if not text:
        return ""
    if len(text) == 18:
        return text[:6] + "*" * 8 + text[-4:]
    return _mask_middle(text, 2, 2)


def mask_phone(phone: str | None) -> str:
    """13812345678 → 138****5678; 010-12345678 → 010-****5678; anything else: first/last 2."""
    text = normalise_phone(phone)
    if not text:
        return ""
    if _MOBILE_RE.fullmatch(text):
        return text[:3] + "****" + text[-4:]
    match = _LANDLINE_RE.fullmatch(text)
    if match:
        area, local, ext = match.groups()
        masked = f"{area}-{_mask_middle(local, 0, 4)}"
        return masked + (f"-{'*' * len(ext)}" if ext else "")
    return _mask_middle(text, 2, 2)


def _clean(raw: str | None) -> str:
    """Textual clean-up only: full-width, spaces, dashes, brackets, country code, extensions."""
    text = _normalise_text(raw)
    for dash in _DASHES:
        text = text.replace(dash, "-")
    # "(0755)12345678" / "（0755）12345678" (NFKC already turned full-width brackets to ASCII)
    text = re.sub(r"^\((0[0-9]{2,3})\)-?", r"\1-", text)
    without_country = _COUNTRY_PREFIX.sub("", text)
    if without_country != text:
        # "+86 10 12345678": international form drops the trunk 0 of the area code.
        text = without_country
        if not _MOBILE_RE.fullmatch(text.replace("-", "")) and not text.startswith("0"):
            text = "0" + text
    elif re.fullmatch(r"861[3-9][0-9]{9}", text):
        text = text[2:]
    text = _EXTENSION_MARKERS.sub("-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-")
    return text


def _parse_landline(text: str, digits: str) -> str:
    if "-" in text:
        area, _, rest = text.partition("-")
        local, _, ext = rest.partition("-")
        if "-" in ext:
            raise ValueError(
                f"无法识别的固定电话“{text}”，格式应为 区号-号码-分机，如 010-12345678-123"
            )
    else:
        # Without a separator the split is still unambiguous: 010 and 02X are the only 3-digit
        # area codes, all others (0311, 0755 …) have 4 digits.
        alen = 3 if digits[:2] in ("01", "02") else 4
        area, local, ext = digits[:alen], digits[alen:], ""
    three_digit_area = area[:2] in ("01", "02")
    if (three_digit_area and len(area) != 3) or (not three_digit_area and len(area) != 4):
        raise ValueError(
            f"区号“{area}”无效：北京、上海、广州等城市区号为3位（010、02X），其他地区为4位（如0755）"
        )
    if not 7 <= len(local) <= 8:
        raise ValueError(f"固定电话号码（区号后）应为7–8位，当前为{len(local)}位")
    if ext and len(ext) > 6:
        raise ValueError(f"分机号最多6位，当前为{len(ext)}位")
    return f"{area}-{local}" + (f"-{ext}" if ext else "")


def validate_phone(raw: str | None) -> str:
    """Return the canonical form or raise ValueError with a Chinese message.

    Canonical forms: mobile ``13812345678``; landline ``010-12345678`` or ``0755-1234567-123``;
    service numbers ``4001234567`` / ``8001234567`` / ``95588`` / ``96777`` as plain digits.
    """
    text = _clean(raw)
    if not text:
        raise ValueError("请填写联系电话")
    bad = re.search(r"[^0-9-]", text)
    if bad:
        raise ValueError(
            f"电话号码只能包含数字和“-”（分机号可写作 010-12345678-123），请删除“{bad.group()}”"
        )
    digits = text.replace("-", "")
    if digits[:3] in ("400", "800") and len(digits) == 10:
        return digits
    if digits[:2] in ("95", "96") and 5 <= len(digits) <= 8 and not text.startswith("0"):
        return digits
    if digits.startswith("1"):
        if len(digits) != 11:
            raise ValueError(f"手机号应为11位，当前为{len(digits)}位")
        if not _MOBILE_RE.fullmatch(digits):
            raise ValueError(f"手机号应以13–19开头，当前以“{digits[:2]}”开头，请核对")
        return digits
    if digits.startswith("0"):
        return _parse_landline(text, digits)
    if 7 <= len(digits) <= 8:
        raise ValueError("固定电话请加区号，例如 010-12345678")
    raise ValueError(
        f"无法识别的电话号码“{text}”：手机号为11位（如13812345678），"
        "固定电话需带区号（如010-12345678）"
    )


def normalise_phone(raw: str | None) -> str:
    """Canonical form if the number is valid, otherwise the cleaned text; never raises.

    Used for search and masking of data that may predate validation (imports, old records).
    """
    try:
        return validate_phone(raw)
    except ValueError:
        return _clean(raw)
