"""Checklists endpoints."""

from ninja import Router

router = Router(tags=["checklists"])
