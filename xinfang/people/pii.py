"""A petitioner's encrypted columns: their contexts, blind-index purposes and normalisation.

One home for what the model, the data migration, ``rotate_keys`` and the lookups must agree on.
Only the ID number and the phone are encrypted; names and addresses are not (docs/security.md).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from xinfang.core.crypto import blind_index, decrypt, encrypt
from xinfang.core.masking import normalise_phone

ID_CONTEXT = b"people.petitioner.id_number"
PHONE_CONTEXT = b"people.petitioner.phone"
ID_PURPOSE = "people.id_number"
ID_TAIL_PURPOSE = "people.id_tail"
PHONE_PURPOSE = "people.phone"
ID_TAIL_LENGTH = 6


@dataclass(frozen=True)
class EncryptedColumn:
    """A ``*_enc`` column of a model and the context its tokens are bound to."""

    model: str  # app_label.ModelName
    column: str
    context: bytes


# Everything ``manage.py rotate_keys`` re-encrypts. A new encrypted column is added here.
ENCRYPTED_COLUMNS = [
    EncryptedColumn("people.Petitioner", "id_number_enc", ID_CONTEXT),
    EncryptedColumn("people.Petitioner", "phone_enc", PHONE_CONTEXT),
    # the public portal (xinfang.portal.models: contexts written out here, pii stays import-free)
    EncryptedColumn("portal.PortalAccount", "phone_enc", b"portal.account.phone"),
    EncryptedColumn("portal.PendingSubmission", "payload_enc", b"portal.pending.payload"),
]


def normalise_id(value: str) -> str:
    """The spelling an ID number is stored and indexed in: NFKC, no spaces, upper case."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def id_columns(number: str | None, *, key: bytes | None = None) -> dict[str, str | None]:
    """Column values for an ID number (None/"" → no ID: NULL index, empty token)."""
    if not number:
        return {"id_number_enc": "", "id_number_bidx": None, "id_tail_bidx": ""}
    number = normalise_id(number)
    return {"id_number_enc": encrypt(number, context=ID_CONTEXT), **id_indexes(number, key=key)}


def id_indexes(number: str, *, key: bytes | None = None) -> dict[str, str | None]:
    """The blind indexes of an ID number: the whole number, and its last six characters."""
    number = normalise_id(number)
    return {
        "id_number_bidx": blind_index(ID_PURPOSE, number, key=key),
        "id_tail_bidx": blind_index(ID_TAIL_PURPOSE, number[-ID_TAIL_LENGTH:], key=key),
    }


def phone_index(phone: str, *, key: bytes | None = None) -> str:
    return blind_index(PHONE_PURPOSE, normalise_phone(phone), key=key)


def phone_columns(phone: str | None, *, key: bytes | None = None) -> dict[str, str]:
    """Column values for a phone: stored as given (the services store it canonical), indexed
    by its canonical spelling so any typed spelling finds it."""
    phone = (phone or "").strip()
    if not phone:
        return {"phone_enc": "", "phone_bidx": ""}
    return {
        "phone_enc": encrypt(phone, context=PHONE_CONTEXT),
        "phone_bidx": phone_index(phone, key=key),
    }


def decrypt_id(token: str) -> str | None:
    return decrypt(token, context=ID_CONTEXT) if token else None


def decrypt_phone(token: str) -> str:
    return decrypt(token, context=PHONE_CONTEXT) if token else ""
