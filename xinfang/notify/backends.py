"""Where messages to petitioners go: a small interface with two backends, no real SMS gateway.

``XINFANG_MESSAGE_BACKEND`` names the backend: ``"database"`` (default — the message is stored
and counts as sent; the portal shows it to the petitioner) or ``"console"`` (also logged, with
the phone number masked, for demonstrations). A real gateway is a subclass of
:class:`MessageBackend` whose ``send`` raises on failure; register it in ``BACKENDS``.

A backend reads the contact (phone, address) from the ``Petitioner`` when it sends — the
message row never holds a copy of it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings

log = logging.getLogger("xinfang.notify.messages")


def mask_query_codes(text: str) -> str:
    """A query code opens the case on the portal: never written to a log in full."""
    from xinfang.cases.registration import QUERY_CODE_ALPHABET, QUERY_CODE_LENGTH

    chars = re.escape(QUERY_CODE_ALPHABET)
    pattern = rf"(?<![{chars}])([{chars}]{{2}})[{chars}]{{{QUERY_CODE_LENGTH - 2}}}(?![{chars}])"
    return re.sub(pattern, lambda m: m.group(1) + "*" * (QUERY_CODE_LENGTH - 2), text)


class MessageBackend:
    """Base class: ``send(message)`` delivers one ``OutboundMessage`` or raises."""

    name = "base"

    def send(self, message: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class DatabaseBackend(MessageBackend):
    """Stored only: the portal reads the messages from the database."""

    name = "database"

    def send(self, message: Any) -> None:
        return None


class ConsoleBackend(MessageBackend):
    """Writes each message to the log; the phone number is masked, never logged in full."""

    name = "console"

    def send(self, message: Any) -> None:
        person = message.petitioner
        if message.channel == "sms":
            to = person.phone_masked or "（无电话）"
        elif message.channel == "letter":
            to = "住址（略）" if person.address else "（无住址）"
        else:
            to = "网上信访平台"
        log.info(
            "信访人消息 case=%s channel=%s to=%s kind=%s: %s",
            message.case_id,
            message.channel,
            to,
            message.kind,
            mask_query_codes(message.body),
        )


BACKENDS: dict[str, type[MessageBackend]] = {
    DatabaseBackend.name: DatabaseBackend,
    ConsoleBackend.name: ConsoleBackend,
}


def get_backend(name: str | None = None) -> MessageBackend:
    key = name or getattr(settings, "XINFANG_MESSAGE_BACKEND", "") or "database"
    try:
        return BACKENDS[key]()
    except KeyError:
        raise ValueError(f"未知的信访人消息发送方式：{key}") from None
