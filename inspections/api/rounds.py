"""Rounds endpoints."""

from ninja import Router

router = Router(tags=["rounds"])
