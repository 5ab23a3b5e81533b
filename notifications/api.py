"""Push registration and the in-app inbox."""

from ninja import Router

router = Router(tags=["notifications"])
