"""Receivers of the signals of the apps community is built on (connected in CommunityConfig.ready).

Enforcement announces what it did through `enforcement.signals` and imports nothing of community;
each receiver records the matching webhook event in the sender's transaction (the outbox).
"""

from community.services import webhooks
from enforcement import signals as enforcement_signals


def on_penalty_issued(sender, notice, **kwargs) -> None:
    webhooks.penalty_issued(notice=notice)


def on_objection_decided(sender, objection, **kwargs) -> None:
    webhooks.objection_decided(objection=objection)


def connect() -> None:
    enforcement_signals.penalty_issued.connect(on_penalty_issued, dispatch_uid="community.webhooks.penalty_issued")
    enforcement_signals.objection_decided.connect(
        on_objection_decided, dispatch_uid="community.webhooks.objection_decided"
    )
