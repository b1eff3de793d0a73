"""统计考核 API (/api/stats) — dashboard. Skeleton router (issue 8)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["统计考核"])
