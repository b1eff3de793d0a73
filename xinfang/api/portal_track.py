"""Public portal API (track) — owned by the portal track work; routes are added there."""

from ninja import Router

router = Router(tags=["网上信访（公众）"], auth=None)
