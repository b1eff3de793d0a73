"""GB 11643-1999 validation: examples with exact messages, plus checksum properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinfang.core.idcard import (
    PROVINCE_CODES,
    IdInfo,
    IdNumberError,
    id_check_digit,
    validate_hk_mo_tw_permit,
    validate_id_number,
)

TODAY = date(2025, 6, 1)


def _error(raw: str, **kwargs: date) -> IdNumberError:
    with pytest.raises(IdNumberError) as excinfo:
        validate_id_number(raw, today=kwargs.get("today", TODAY))
    return excinfo.value


def test_valid_number_with_x() -> None:
    info = validate_id_number("11010519491231002X", today=TODAY)
    assert info == IdInfo(
        number="11010519491231002X",
        birth_date=date(1949, 12, 31),
        sex="F",
        region_code="110105",
    )


def test_normalises_spaces_lowercase_and_full_width() -> None:
    assert validate_id_number(" 110105 19491231 002x ", today=TODAY).number == "11010519491231002X"
    assert validate_id_number("１１０１０５１９４９１２３１００２Ｘ", today=TODAY).number == (
        "11010519491231002X"
    )


def test_sex_from_17th_digit() -> None:
    first17 = "11010519800101001"  # 17th digit 1 → male
    assert validate_id_number(first17 + id_check_digit(first17), today=TODAY).sex == "M"


def test_wrong_checksum_exact_message() -> None:
    err = _error("110105194912310025")
    assert str(err) == "身份证号第18位校验码应为X，当前为5"
    assert err.message == str(err)
    assert err.code == "checksum"
    assert isinstance(err, ValueError)


def test_length_message() -> None:
    assert str(_error("11010519491231002")) == "身份证号应为18位（或15位旧号），当前为17位"


def test_empty() -> None:
    assert _error("   ").code == "required"


def test_letters() -> None:
    err = _error("1101051949123100AX")
    assert str(err).startswith("身份证号只能包含数字，第18位可以是X")
    assert "第17位是“A”" in str(err)
    assert _error("X10105194912310021").code == "chars"


def test_unicode_digits_are_not_digits() -> None:
    # Arabic-Indic digits satisfy str.isdigit() but are not valid ID characters.
    assert _error("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X").code == "chars"


def test_bad_province() -> None:
    first17 = "99010519491231002"
    err = _error(first17 + id_check_digit(first17))
    assert str(err) == "身份证号前6位地址码无效（省级代码99不存在）"


def test_nonexistent_date() -> None:
    first17 = "11010519990231001"
    err = _error(first17 + id_check_digit(first17))
    assert str(err) == "身份证号中的出生日期19990231不存在"


def test_future_date() -> None:
    first17 = "11010520300101001"
    err = _error(first17 + id_check_digit(first17))
    assert "身份证号中的出生日期晚于今天" in str(err)
    assert err.code == "future"


def test_born_today_is_valid() -> None:
    first17 = "110105" + TODAY.strftime("%Y%m%d") + "001"
    assert validate_id_number(first17 + id_check_digit(first17), today=TODAY).birth_date == TODAY


def test_before_1900() -> None:
    first17 = "11010518991231001"
    err = _error(first17 + id_check_digit(first17))
    assert "出生日期早于1900年" in str(err)


def test_date_checked_before_checksum() -> None:
    # A wrong date is the more useful message even when the checksum is also wrong.
    assert _error("110105199902310010").code == "date"


def test_15_digit_conversion() -> None:
    info = validate_id_number("110105491231002", today=TODAY)
    assert info.number == "11010519491231002X"
    assert info.birth_date == date(1949, 12, 31)
    assert info.sex == "F"


def test_15_digit_letters_and_bad_date() -> None:
    assert _error("11010549123100X").code == "chars"
    assert str(_error("110105990231001")) == "身份证号中的出生日期19990231不存在"


def test_id_check_digit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        id_check_digit("1234")


def test_permit_valid_and_region() -> None:
    first17 = "81000019900101001"
    info = validate_hk_mo_tw_permit(first17 + id_check_digit(first17), today=TODAY)
    assert info.region_code == "810000"
    with pytest.raises(IdNumberError) as excinfo:
        validate_hk_mo_tw_permit("11010519491231002X", today=TODAY)
    assert "港澳台居民居住证号码前6位应为810000" in str(excinfo.value)
    assert "当前为110105" in str(excinfo.value)


def test_permit_checksum_and_length() -> None:
    with pytest.raises(IdNumberError) as excinfo:
        validate_hk_mo_tw_permit("830000199001010010", today=TODAY)
    expected = id_check_digit("83000019900101001")
    assert str(excinfo.value) == f"港澳台居民居住证号码第18位校验码应为{expected}，当前为0"
    with pytest.raises(IdNumberError, match="应为18位，当前为15位"):
        validate_hk_mo_tw_permit("810000900101001", today=TODAY)


def test_default_today_uses_local_date() -> None:
    tomorrow = date.today() + timedelta(days=2)
    first17 = "110105" + tomorrow.strftime("%Y%m%d") + "001"
    with pytest.raises(IdNumberError, match="晚于今天"):
        validate_id_number(first17 + id_check_digit(first17))


# --- properties ------------------------------------------------------------------------------

valid_first17 = st.builds(
    lambda province, rest, born, seq: f"{province}{rest}{born:%Y%m%d}{seq}",
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.from_regex(r"[0-9]{3}", fullmatch=True),
)


@given(valid_first17)
def test_appending_check_digit_validates(first17: str) -> None:
    info = validate_id_number(first17 + id_check_digit(first17), today=TODAY)
    assert info.number[:17] == first17
    assert info.sex == ("M" if int(first17[16]) % 2 else "F")


@given(valid_first17, st.integers(min_value=0, max_value=17), st.integers(1, 9))
def test_changing_one_digit_breaks_checksum(first17: str, pos: int, delta: int) -> None:
    # A changed region digit may fail the province check first and a changed date digit the
    # date check; whichever check fires, a one-digit typo must never validate.
    number = first17 + id_check_digit(first17)
    ch = number[pos]
    replaced = str(delta) if ch == "X" else str((int(ch) + delta) % 10)
    changed = number[:pos] + replaced + number[pos + 1 :]
    with pytest.raises(IdNumberError):
        validate_id_number(changed, today=TODAY)


@given(valid_first17, st.integers(min_value=0, max_value=16), st.integers(1, 9))
def test_single_digit_change_changes_check_digit(first17: str, pos: int, delta: int) -> None:
    # MOD 11-2 detects every single-digit substitution in the first 17 digits.
    changed = first17[:pos] + str((int(first17[pos]) + delta) % 10) + first17[pos + 1 :]
    assert id_check_digit(changed) != id_check_digit(first17)
