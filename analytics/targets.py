"""Which target a figure is held against: the one rule, used by the indicators table and so by the
JSON, the CSV and the PDF (each reads the table).

A target is set for one indicator and one scope: a municipality, an Amanah, or the national default
(no municipality: the ministry's). A figure of scope S takes the target set on S, else on its nearest
ancestor (a municipality's Amanah, ...), else the national default, else none. A figure over several
municipalities (the "total" row) has for scope the nearest scope that covers them all: the
municipality itself when there is one, their Amanah when they share one, else the nation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from analytics.models import IndicatorTarget
from inspections.domain.names import label
from inspections.models import Municipality

NATIONAL = None  # the scope of the national default


@dataclass(frozen=True)
class TargetBook:
    """Every target and the municipality tree (id -> parent id, and names), read once per table."""

    targets: dict[tuple[str, int | None], IndicatorTarget]
    parents: dict[int, int | None]
    names: dict[int, tuple[str, str]]  # id -> (name_ar, name_en)

    @classmethod
    def load(cls) -> TargetBook:
        parents, names = {}, {}
        for pk, parent_id, name_ar, name_en in Municipality.objects.values_list(
            "id", "parent_id", "name_ar", "name_en"
        ):
            parents[pk] = parent_id
            names[pk] = (name_ar, name_en)
        targets = {(target.code, target.municipality_id): target for target in IndicatorTarget.objects.all()}
        return cls(targets=targets, parents=parents, names=names)

    def chain(self, scope_id: int | None) -> list[int | None]:
        """The scope, its parent, its parent's parent, ..., then the nation (None)."""
        chain: list[int | None] = []
        current = scope_id
        while current is not None and current not in chain:  # a cycle in bad data ends the walk
            chain.append(current)
            current = self.parents.get(current)
        return [*chain, NATIONAL]

    def resolve(self, *, code: str, scope_id: int | None) -> IndicatorTarget | None:
        """The target of `code` for a figure of scope `scope_id`: its own, else the nearest ancestor's,
        else the national default, else None."""
        for candidate in self.chain(scope_id):
            target = self.targets.get((code, candidate))
            if target is not None:
                return target
        return None

    def common_scope(self, municipality_ids: Iterable[int]) -> int | None:
        """The nearest scope covering every one of `municipality_ids` (None: the nation)."""
        chains = [self.chain(pk) for pk in municipality_ids]
        if not chains:
            return NATIONAL
        others = [set(chain) for chain in chains[1:]]
        return next((scope for scope in chains[0] if all(scope in chain for chain in others)), NATIONAL)

    def scope_label(self, scope_id: int | None) -> str:
        """The scope's name in the active language; "National" for the national default."""
        if scope_id is None:
            return _("National")
        name_ar, name_en = self.names.get(scope_id, ("", ""))
        return label(name_ar, name_en, translation.get_language()) or str(scope_id)

    def figure_target(self, *, code: str, scope_id: int | None) -> tuple[IndicatorTarget | None, dict]:
        """The resolved target and the fields every figure carries about it: `target`, `amber_margin`,
        `target_scope` (the id it was set on, None for the national default or no target) and
        `target_scope_label` (that scope's name, "National", or None without a target)."""
        target = self.resolve(code=code, scope_id=scope_id)
        if target is None:
            return None, {"target": None, "amber_margin": None, "target_scope": None, "target_scope_label": None}
        return target, {
            "target": target.target,
            "amber_margin": target.amber_margin,
            "target_scope": target.municipality_id,
            "target_scope_label": self.scope_label(target.municipality_id),
        }
