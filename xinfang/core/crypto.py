"""Encryption of personal data at rest (AES-256-GCM) and keyed blind indexes (HMAC-SHA256).

Why: a petitioner's ID number and phone identify a person who may have accused an official; a
copied database file or backup must not give them away. Values are encrypted under a key that
lives in the environment, never in the database; exact lookup ("who has this ID number?") works
through a keyed hash of the normalised value (blind index) that cannot be reversed without the
separate index key. Design, key handling and rotation: docs/security.md, "个人信息加密".

Key ring — ``XINFANG_DATA_KEYS`` = ``"keyid:base64key,keyid:base64key"`` (32-byte keys). The
first key encrypts; every key in the ring decrypts, chosen by the key id stored in the token.
``XINFANG_INDEX_KEY`` (base64, 32 bytes) keys the blind indexes; ``XINFANG_OLD_INDEX_KEY`` is
the previous index key while ``manage.py rotate_keys --reindex`` runs.

Token (stored as base64 text, portable across SQLite and PostgreSQL)::

    version (1 byte, 0x01) | key id length (1 byte) | key id (ASCII) | nonce (12 bytes) |
    ciphertext + GCM tag (16 bytes)

The associated data is the header (version, key id) plus the column's context, e.g.
``b"people.petitioner.id_number"``: a token copied into another column, or with its key id
edited, fails authentication instead of decrypting to something plausible.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "DEV_DATA_KEYS",
    "DEV_INDEX_KEY",
    "CryptoError",
    "KeyRing",
    "blind_index",
    "blind_indexes",
    "decrypt",
    "encrypt",
    "key_id_of",
    "parse_index_key",
    "parse_key_ring",
]

VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

# Public development keys: used only when XINFANG_DEBUG=1 or XINFANG_ALLOW_DEV_SECRET=1 (see
# settings.py). Anything encrypted under them is as good as plaintext.
DEV_DATA_KEYS = "dev:" + base64.b64encode(b"xinfang-DEV-ONLY-data-key-000001").decode()
DEV_INDEX_KEY = base64.b64encode(b"xinfang-DEV-ONLY-index-key-00001").decode()


class CryptoError(Exception):
    """A token that cannot be decrypted: unknown key id, tampered, wrong column, not a token."""


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{what} 不是有效的 base64 编码") from exc
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"{what} 长度应为 {KEY_BYTES} 字节（base64 解码后），实为 {len(raw)} 字节"
        )
    return raw


@dataclass(frozen=True)
class KeyRing:
    """Data keys by id; ``current`` encrypts."""

    current: str
    keys: dict[str, AESGCM]

    @property
    def ids(self) -> list[str]:
        return list(self.keys)


@functools.lru_cache(maxsize=8)
def parse_key_ring(text: str) -> KeyRing:
    """``"b:BASE64,a:BASE64"`` → a ring whose current key is ``b``. ImproperlyConfigured (Chinese
    message) on an empty ring, a malformed entry, a key that is not 32 bytes, a repeated id."""
    keys: dict[str, AESGCM] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        key_id, sep, b64 = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not _KEY_ID_RE.match(key_id):
            raise ImproperlyConfigured(
                "XINFANG_DATA_KEYS 格式应为“密钥编号:base64密钥”，多个以逗号分隔；"
                "密钥编号只能含字母、数字、下划线和连字符（1–32个字符）"
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"XINFANG_DATA_KEYS 中密钥编号“{key_id}”重复")
        keys[key_id] = AESGCM(_decode_key(b64, f"XINFANG_DATA_KEYS 中的密钥“{key_id}”"))
    if not keys:
        raise ImproperlyConfigured("XINFANG_DATA_KEYS 中没有任何数据密钥")
    return KeyRing(current=next(iter(keys)), keys=keys)


@functools.lru_cache(maxsize=8)
def parse_index_key(text: str, name: str = "XINFANG_INDEX_KEY") -> bytes:
    if not text.strip():
        raise ImproperlyConfigured(f"{name} 为空")
    return _decode_key(text, name)


def _ring() -> KeyRing:
    return parse_key_ring(settings.XINFANG_DATA_KEYS)


def _index_key() -> bytes:
    return parse_index_key(settings.XINFANG_INDEX_KEY)


def _header(key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    return bytes([VERSION, len(kid)]) + kid


def encrypt(plaintext: str, *, context: bytes, ring: KeyRing | None = None) -> str:
    """Encrypt under the ring's current key; a fresh random nonce every time (the same value
    encrypts differently twice — equality is only visible through the blind index)."""
    ring = ring or _ring()
    header = _header(ring.current)
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.keys[ring.current].encrypt(nonce, plaintext.encode("utf-8"), header + context)
    return base64.b64encode(header + nonce + sealed).decode("ascii")


def _split(token: str) -> tuple[bytes, str, bytes, bytes]:
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("密文不是有效的 base64 文本") from exc
    if len(raw) < 2 or raw[0] != VERSION:
        raise CryptoError("密文版本无法识别（不是本系统加密的数据，或已损坏）")
    end = 2 + raw[1]
    if len(raw) < end + NONCE_BYTES + 16:
        raise CryptoError("密文长度不足（已被截断或损坏）")
    try:
        key_id = raw[2:end].decode("ascii")
    except UnicodeDecodeError as exc:
        raise CryptoError("密文中的密钥编号已损坏") from exc
    return raw[:end], key_id, raw[end : end + NONCE_BYTES], raw[end + NONCE_BYTES :]


def key_id_of(token: str) -> str:
    """The id of the key a token was encrypted under (no decryption)."""
    return _split(token)[1]


def decrypt(token: str, *, context: bytes, ring: KeyRing | None = None) -> str:
    """The plaintext, or CryptoError: unknown key id (the key was removed from the ring too early),
    or authentication failure (tampered, truncated, or a token of another column)."""
    ring = ring or _ring()
    header, key_id, nonce, sealed = _split(token)
    key = ring.keys.get(key_id)
    if key is None:
        raise CryptoError(
            f"密文使用的数据密钥“{key_id}”不在 XINFANG_DATA_KEYS 中，"
            "请先把该密钥加回密钥环并运行 manage.py rotate_keys"
        )
    try:
        plain = key.decrypt(nonce, sealed, header + context)
    except InvalidTag as exc:
        raise CryptoError("密文校验失败：数据已被篡改，或不属于该字段") from exc
    return plain.decode("utf-8")


def blind_index(purpose: str, value: str, *, key: bytes | None = None) -> str:
    """HMAC-SHA256(index key, purpose NUL value), hex. ``purpose`` separates the indexes (an ID
    number's index never equals a phone's of the same digits). Callers normalise ``value``."""
    mac = hmac.new(
        key or _index_key(), purpose.encode() + b"\x00" + value.encode("utf-8"), "sha256"
    )
    return mac.hexdigest()


def blind_indexes(purpose: str, value: str) -> list[str]:
    """The index under the current key, and under ``XINFANG_OLD_INDEX_KEY`` while a re-index
    runs — so lookups keep finding rows that are not re-indexed yet."""
    found = [blind_index(purpose, value)]
    old = getattr(settings, "XINFANG_OLD_INDEX_KEY", "")
    if old:
        found.append(blind_index(purpose, value, key=parse_index_key(old, "XINFANG_OLD_INDEX_KEY")))
    return found
