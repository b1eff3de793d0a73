"""xinfang.core.crypto: AES-GCM tokens bound to their column, the key ring, blind indexes."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from xinfang.core import crypto

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()
CTX = b"people.petitioner.id_number"


def test_round_trip_with_a_fresh_nonce_each_time() -> None:
    ring = crypto.parse_key_ring(KEY_A)
    one = crypto.encrypt("11010519491231002X", context=CTX, ring=ring)
    two = crypto.encrypt("11010519491231002X", context=CTX, ring=ring)
    assert one != two  # equal values are not visible in the ciphertext
    assert crypto.decrypt(one, context=CTX, ring=ring) == "11010519491231002X"
    assert crypto.key_id_of(one) == "a"
    raw = base64.b64decode(one)
    assert raw[0] == 1 and raw[1] == 1 and raw[2:3] == b"a"  # version, key id length, key id
    assert len(raw) == 3 + 12 + 18 + 16  # header, nonce, ciphertext, GCM tag


def test_a_token_does_not_decrypt_in_another_column() -> None:
    ring = crypto.parse_key_ring(KEY_A)
    token = crypto.encrypt("13812345678", context=b"people.petitioner.phone", ring=ring)
    with pytest.raises(crypto.CryptoError, match="不属于该字段"):
        crypto.decrypt(token, context=CTX, ring=ring)


@pytest.mark.parametrize("position", [3, 10, 20, -1])
def test_a_tampered_byte_is_detected(position: int) -> None:
    ring = crypto.parse_key_ring(KEY_A)
    raw = bytearray(base64.b64decode(crypto.encrypt("13812345678", context=CTX, ring=ring)))
    raw[position] ^= 0x01
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(base64.b64encode(bytes(raw)).decode(), context=CTX, ring=ring)


def test_unknown_key_id_names_the_key() -> None:
    token = crypto.encrypt("x", context=CTX, ring=crypto.parse_key_ring(KEY_A))
    with pytest.raises(crypto.CryptoError, match="“a”不在 XINFANG_DATA_KEYS 中"):
        crypto.decrypt(token, context=CTX, ring=crypto.parse_key_ring(KEY_B))


@pytest.mark.parametrize("garbage", ["", "not base64!", base64.b64encode(b"\x02abc").decode()])
def test_garbage_is_a_crypto_error(garbage: str) -> None:
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(garbage, context=CTX, ring=crypto.parse_key_ring(KEY_A))


def test_first_key_encrypts_every_key_decrypts() -> None:
    old = crypto.encrypt("x", context=CTX, ring=crypto.parse_key_ring(KEY_A))
    ring = crypto.parse_key_ring(f"{KEY_B},{KEY_A}")
    assert ring.current == "b" and ring.ids == ["b", "a"]
    assert crypto.key_id_of(crypto.encrypt("x", context=CTX, ring=ring)) == "b"
    assert crypto.decrypt(old, context=CTX, ring=ring) == "x"


@pytest.mark.parametrize(
    ("ring", "message"),
    [
        ("", "没有任何数据密钥"),
        ("nokey", "格式应为"),
        ("a b:" + base64.b64encode(b"A" * 32).decode(), "格式应为"),
        ("a:***", "不是有效的 base64"),
        ("a:" + base64.b64encode(b"short").decode(), "长度应为 32 字节"),
        (f"{KEY_A},{KEY_A}", "重复"),
    ],
)
def test_malformed_rings_are_refused(ring: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.parse_key_ring(ring)


def test_blind_index_is_keyed_deterministic_and_separated_by_purpose() -> None:
    key = b"K" * 32
    one = crypto.blind_index("people.id_number", "110105", key=key)
    assert one == crypto.blind_index("people.id_number", "110105", key=key)
    assert one != crypto.blind_index("people.phone", "110105", key=key)
    assert one != crypto.blind_index("people.id_number", "110105", key=b"L" * 32)
    assert len(one) == 64


def test_lookups_try_the_old_index_key_while_reindexing() -> None:
    old = base64.b64encode(b"O" * 32).decode()
    with override_settings(XINFANG_OLD_INDEX_KEY=old):
        found = crypto.blind_indexes("p", "v")
    assert found == [crypto.blind_index("p", "v"), crypto.blind_index("p", "v", key=b"O" * 32)]
    with override_settings(XINFANG_OLD_INDEX_KEY=""):
        assert crypto.blind_indexes("p", "v") == [crypto.blind_index("p", "v")]


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("XINFANG_")}
    base.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", "import xinfang.settings"],
        env={**base, "XINFANG_SECRET_KEY": "s" * 50, **env},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_require_the_keys() -> None:
    missing = _import_settings()
    assert missing.returncode != 0
    assert "XINFANG_DATA_KEYS 或 XINFANG_INDEX_KEY 未设置" in missing.stderr
    bad = _import_settings(XINFANG_DATA_KEYS="a:short", XINFANG_INDEX_KEY=KEY_A[2:])
    assert bad.returncode != 0 and "XINFANG_DATA_KEYS" in bad.stderr
    good = _import_settings(XINFANG_DATA_KEYS=f"{KEY_B},{KEY_A}", XINFANG_INDEX_KEY=KEY_A[2:])
    assert good.returncode == 0, good.stderr
    dev = _import_settings(XINFANG_ALLOW_DEV_SECRET="1")
    assert dev.returncode == 0, dev.stderr
