"""A per-process cache for small reference data (holiday overrides, deadline rules, unit facts).

Hot paths such as registration read the same few rows on every request. One generation of the
data is built by a factory and kept until it is older than ``ttl`` seconds or cleared. Saving or
deleting a watched model clears it in this process at once — and again after the commit, since
another thread may have re-read the old rows between ``save()`` and COMMIT. Other processes
(web workers) and bulk ``update()`` calls, which send no signals, catch up within ``ttl``.
Only data that stays safe when up to ``ttl`` old belongs here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

DEFAULT_TTL_SECONDS = 60.0


class ReferenceCache(Generic[T]):
    def __init__(
        self,
        factory: Callable[[], T],
        *,
        name: str,
        watch: Iterable[type[models.Model]] = (),
        ttl: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self.factory = factory
        self.ttl = ttl
        self._generation: tuple[float, T] | None = None
        for model in watch:
            for signal in (post_save, post_delete):
                signal.connect(
                    self._changed,
                    sender=model,
                    weak=False,
                    dispatch_uid=f"refcache:{name}:{model._meta.label}:{id(signal)}",
                )

    def get(self) -> T:
        """The current generation, building a new one when there is none or it is too old.
        Replaced wholesale, so a reader never sees a half-cleared generation."""
        generation = self._generation
        if generation is None or time.monotonic() - generation[0] > self.ttl:
            generation = self._generation = (time.monotonic(), self.factory())
        return generation[1]

    def clear(self) -> None:
        self._generation = None

    def _changed(self, sender: type, **kwargs: Any) -> None:
        self.clear()
        transaction.on_commit(self.clear, using=kwargs.get("using"))
