"""What enforcement announces, for the apps built on it (it imports none of them).

Both are sent inside the transaction that wrote the change, after the write, so a receiver that
records something (community's webhook outbox) commits or rolls back with it:

- `penalty_issued(sender=PenaltyNotice, notice=...)`: a penalty notice was issued
  (services/penalties.py `finding_assess`);
- `objection_decided(sender=Objection, objection=...)`: an objection was decided and its notice's
  amount and status follow the decision (services/objections.py `objection_decide`).
"""

from django.dispatch import Signal

penalty_issued = Signal()
objection_decided = Signal()
