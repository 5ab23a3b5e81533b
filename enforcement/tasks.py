"""The enforcement sweep (every minute, by beat): seal new evidence, assess due findings (serious
at once, others when their grace lapsed), sign the finished days' chain heads. Idempotent: each
step writes through unique keys (one link per object, one assessment per finding, one signature
per day), so a redelivered or overlapping run adds nothing."""

from backend.celery import app
from enforcement.services.evidence import evidence_seal_pending, evidence_sign_finished_days
from enforcement.services.penalties import penalties_assess_due


@app.task(name="enforcement.sweep", acks_late=True)
def enforcement_sweep() -> dict:
    return {
        "sealed": evidence_seal_pending(),
        "assessed": penalties_assess_due(),
        "days_signed": evidence_sign_finished_days(),
    }
