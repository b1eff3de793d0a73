"""Masking for display and phone normalisation/validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinfang.core.masking import mask_id, mask_phone, normalise_phone, validate_phone


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("110105194912310012", "110105********0012"),
        ("11010519491231002x", "110105********002X"),
        ("110105491231002", "11***********02"),
        ("ABCDE", "AB*DE"),
        ("1234", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id(raw: str | None, masked: str) -> None:
    assert mask_id(raw) == masked


@given(st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_mask_id_hides_birth_date(number: str) -> None:
    masked = mask_id(number)
    assert len(masked) == 18
    assert masked[6:14] == "*" * 8
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("010-12345678", "010-****5678"),
        ("0755-1234567", "0755-***4567"),
        ("0755-12345678-123", "0755-****5678-***"),
        ("95588", "95*88"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(raw: str | None, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("13812345678", "13812345678"),
        (" 138-1234-5678 ", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("(010)12345678", "010-12345678"),
        ("（０１０）12345678", "010-12345678"),
        ("0755 8888 1234", "0755-88881234"),
        ("07551234567", "0755-1234567"),
        ("020—87654321", "020-87654321"),
        ("+86 10 12345678", "010-12345678"),
        ("010-12345678转123", "010-12345678-123"),
        ("010-12345678 ext. 45", "010-12345678-45"),
        ("0571-87654321-8", "0571-87654321-8"),
        ("0571-87654321x8", "0571-87654321-8"),
        ("400-123-4567", "4001234567"),
        ("800 123 4567", "8001234567"),
        ("95588", "95588"),
        ("96777", "96777"),
    ],
)
def test_validate_phone_accepts(raw: str, canonical: str) -> None:
    assert validate_phone(raw) == canonical
    assert normalise_phone(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写联系电话"),
        ("1381234567", "手机号应为11位，当前为10位"),
        ("12812345678", "手机号应以13–19开头，当前以“12”开头，请核对"),
        ("62345678", "固定电话请加区号，例如 010-12345678"),
        ("010-123456", "固定电话号码（区号后）应为7–8位，当前为6位"),
        ("0101-2345678", "区号“0101”无效"),
        ("0755-123456789", "固定电话号码（区号后）应为7–8位，当前为9位"),
        ("138abc12345", "请删除“a”"),
        ("abc", "请删除“a”"),
        ("2345678901234", "无法识别的电话号码"),
    ],
)
def test_validate_phone_rejects(raw: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        validate_phone(raw)
    assert message in str(excinfo.value)


def test_normalise_phone_never_raises_on_garbage() -> None:
    assert normalise_phone("  12 34 ") == "1234"
    assert normalise_phone(None) == ""


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_any_mobile_round_trips(mobile: str) -> None:
    spaced = f"{mobile[:3]} {mobile[3:7]}-{mobile[7:]}"
    assert validate_phone(spaced) == mobile
    assert mask_phone(spaced) == mobile[:3] + "****" + mobile[-4:]


@given(st.text(max_size=30))
def test_validate_phone_only_raises_value_error(raw: str) -> None:
    try:
        result = validate_phone(raw)
    except ValueError as exc:
        assert str(exc)
    else:
        assert validate_phone(result) == result  # canonical form is a fixed point
