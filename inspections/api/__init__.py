"""The inspections app's routers, mounted by backend/api.py."""

from ninja import Router


def routers() -> list[tuple[str, Router]]:
    from inspections.api import (
        auth,
        checklists,
        client_config,
        establishments,
        findings,
        health,
        municipalities,
        rounds,
        visits,
    )

    return [
        ("", health.router),
        ("", client_config.router),
        ("", auth.router),
        ("", municipalities.router),
        ("", establishments.router),
        ("", checklists.router),
        ("", rounds.router),
        ("", visits.router),
        ("", findings.router),
    ]
