"""Roll-up maintenance for writes that go through the ORM one row at a time (the admin, the demo,
factories, any Visit.save() / Answer.save() / delete()), and for the visit sync's bulk insert
(inspections.signals.visits_stored). The old contribution is subtracted before the write and the new
one added after it, in the writer's transaction (a visit still pending under ROLLUPS_DEFERRED is
settled first: analytics.rollups). queryset.update(), bulk_create and raw SQL send no signal: such
paths call analytics.rollups.rollups_apply themselves or run `manage.py rollups_rebuild`."""

from analytics.rollups import rollups_apply, rollups_apply_answers, rollups_settle, rollups_visits_stored


def visit_before_save(sender, instance, raw=False, **kwargs) -> None:
    if instance.pk is not None and not instance._state.adding:
        rollups_apply(visit_ids=[instance.pk], sign=-1)


def visit_after_save(sender, instance, raw=False, **kwargs) -> None:
    rollups_apply(visit_ids=[instance.pk])


def visit_before_delete(sender, instance, **kwargs) -> None:
    # Its answers are deleted with it and subtract their own item rows (answer_before_delete).
    rollups_apply(visit_ids=[instance.pk], sign=-1, answers=False)


def answer_before_save(sender, instance, raw=False, **kwargs) -> None:
    if instance.pk is not None and not instance._state.adding:
        rollups_apply_answers(answer_ids=[instance.pk], sign=-1)
    elif instance.visit_id is not None:
        rollups_settle(visit_ids=[instance.visit_id])  # a new answer on a visit still pending


def answer_after_save(sender, instance, raw=False, **kwargs) -> None:
    rollups_apply_answers(answer_ids=[instance.pk])


def answer_before_delete(sender, instance, **kwargs) -> None:
    rollups_apply_answers(answer_ids=[instance.pk], sign=-1)


def connect() -> None:
    from django.db.models.signals import post_save, pre_delete, pre_save

    from inspections.models import Answer, Visit
    from inspections.signals import visits_stored

    visits_stored.connect(rollups_visits_stored, dispatch_uid="analytics.rollups.visits_stored")
    pre_save.connect(visit_before_save, sender=Visit, dispatch_uid="analytics.rollups.visit_pre_save")
    post_save.connect(visit_after_save, sender=Visit, dispatch_uid="analytics.rollups.visit_post_save")
    pre_delete.connect(visit_before_delete, sender=Visit, dispatch_uid="analytics.rollups.visit_pre_delete")
    pre_save.connect(answer_before_save, sender=Answer, dispatch_uid="analytics.rollups.answer_pre_save")
    post_save.connect(answer_after_save, sender=Answer, dispatch_uid="analytics.rollups.answer_post_save")
    pre_delete.connect(answer_before_delete, sender=Answer, dispatch_uid="analytics.rollups.answer_pre_delete")
