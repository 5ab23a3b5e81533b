"""Demo data: checklists (part of `manage.py seed_demo`). Idempotent: a second run adds nothing."""


def seed(*, stdout=None) -> None:
    """Placeholder until this part of the demo is written."""
