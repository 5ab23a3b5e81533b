"""Findings endpoints."""

from ninja import Router

router = Router(tags=["findings"])
