"""Analytics endpoints (violation rates, heatmap, exports)."""

from ninja import Router

router = Router(tags=["analytics"])
