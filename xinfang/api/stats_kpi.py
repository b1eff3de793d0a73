"""统计考核 API (/api/stats) — kpi. Skeleton router (issue 8); endpoints added by its owner."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["统计考核"])
