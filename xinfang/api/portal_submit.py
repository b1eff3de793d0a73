"""Public portal API (submit) — owned by the portal submit work; routes are added there."""

from ninja import Router

router = Router(tags=["网上信访（公众）"], auth=None)
