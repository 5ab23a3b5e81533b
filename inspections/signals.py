"""Cache invalidation only (no business rules here): cached scopes follow memberships and
municipalities, and the published-version map follows checklist versions, whoever changes them
(services, the admin, imports, the demo seed). Both act once the change is committed."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal, receiver

from inspections.models import ChecklistVersion, Membership, Municipality
from inspections.selectors.checklists import published_versions_forget
from inspections.selectors.scope import scope_cache_clear

# Sent by bulk writes of visits that bypass Model.save() (the visit sync inserts with one statement),
# inside their transaction, with `visit_ids` once the visits and their answers are written. Apps that
# keep data derived from visits (analytics' roll-ups) connect to it; inspections never imports them.
visits_stored = Signal()


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
@receiver(post_save, sender=Municipality)
@receiver(post_delete, sender=Municipality)
@receiver(m2m_changed, sender=Membership.municipalities.through)
def _scopes_changed(**kwargs) -> None:
    transaction.on_commit(scope_cache_clear)


@receiver(post_save, sender=ChecklistVersion)
@receiver(post_delete, sender=ChecklistVersion)
def _versions_changed(**kwargs) -> None:
    transaction.on_commit(published_versions_forget)
