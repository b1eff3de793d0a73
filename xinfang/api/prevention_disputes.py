"""预防排查 API: disputes (under /api/prevention). Same services as the pages."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["预防排查"])
