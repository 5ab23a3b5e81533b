"""Which target a figure is held against: the one rule, used by the indicators table and so by the
JSON, the CSV and the PDF (each reads the table).

A target is set for one indicator and one scope: a municipality, an Amanah, a municipality class
(national: every municipality of class A..E), or the national default (none of these: the ministry's).
A figure of scope S takes the target set on S, else on its nearest ancestor (a municipality's Amanah,
...), else, when S is a municipality, the national target for S's class, else the national default,
else none. So a municipality's own beats its Amanah's, which beats its class's, which beats the
national default.

Classes are a municipality's: a figure whose scope is an Amanah or the nation takes no class target,
even when every municipality under it happens to share one class. A figure over several municipalities
(the "total" row) has for scope the nearest scope that covers them all: the municipality itself when
there is one (and so its class), their Amanah when they share one, else the nation (and then no
class, as the Amanah's own row over the same municipalities: one figure, one target, whichever
grouping shows it). A row of one class (group_by=municipality_class) is the exception that proves the
rule: it is that class, so it takes its common scope's own targets (an Amanah's, when its members share
one), else that class's, else the national default, as each of its members without a target of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _

from analytics.models import IndicatorTarget
from inspections.domain.names import label
from inspections.models import Municipality

NATIONAL = None  # the scope of the national default


@dataclass(frozen=True)
class TargetBook:
    """Every target and the municipality tree (id -> parent id, names, and each municipality's class),
    read once per table."""

    targets: dict[tuple[str, int | None], IndicatorTarget]  # (code, scope id; None: national default)
    parents: dict[int, int | None]
    names: dict[int, tuple[str, str]]  # id -> (name_ar, name_en)
    class_targets: dict[tuple[str, str], IndicatorTarget] = field(default_factory=dict)  # (code, class)
    classes: dict[int, str] = field(default_factory=dict)  # municipality id -> class; Amanahs have none

    @classmethod
    def load(cls) -> TargetBook:
        parents, names, classes = {}, {}, {}
        for pk, parent_id, name_ar, name_en, kind, municipality_class in Municipality.objects.values_list(
            "id", "parent_id", "name_ar", "name_en", "kind", "municipality_class"
        ):
            parents[pk] = parent_id
            names[pk] = (name_ar, name_en)
            if kind != Municipality.Kind.AMANAH and municipality_class:
                classes[pk] = municipality_class
        targets, class_targets = {}, {}
        for target in IndicatorTarget.objects.all():
            if target.municipality_class:
                class_targets[(target.code, target.municipality_class)] = target
            else:
                targets[(target.code, target.municipality_id)] = target
        return cls(targets=targets, parents=parents, names=names, class_targets=class_targets, classes=classes)

    def chain(self, scope_id: int | None) -> list[int | None]:
        """The scope, its parent, its parent's parent, ..., then the nation (None)."""
        chain: list[int | None] = []
        current = scope_id
        while current is not None and current not in chain:  # a cycle in bad data ends the walk
            chain.append(current)
            current = self.parents.get(current)
        return [*chain, NATIONAL]

    def scope_class(self, scope_id: int | None) -> str | None:
        """The class whose target a figure of scope `scope_id` may fall back to: a municipality's own
        class; None for an Amanah or the nation (classes are a municipality's)."""
        return None if scope_id is None else self.classes.get(scope_id)

    def resolve(
        self, *, code: str, scope_id: int | None, municipality_class: str | None = None
    ) -> IndicatorTarget | None:
        """The target of `code` for a figure of scope `scope_id`: its own, else the nearest ancestor's,
        else its class's (`municipality_class` when given: a class row's; else the scope's own class,
        a municipality's), else the national default, else None."""
        *scopes, national = self.chain(scope_id)
        for candidate in scopes:
            target = self.targets.get((code, candidate))
            if target is not None:
                return target
        held_class = municipality_class or self.scope_class(scope_id)
        if held_class:
            target = self.class_targets.get((code, held_class))
            if target is not None:
                return target
        return self.targets.get((code, national))

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

    def target_label(self, target: IndicatorTarget) -> str:
        """Where a target was set, in the active language: its scope's name, "Class C", or "National"."""
        if target.municipality_class:
            return class_label(target.municipality_class)
        return self.scope_label(target.municipality_id)

    def figure_target(
        self, *, code: str, scope_id: int | None, municipality_class: str | None = None
    ) -> tuple[IndicatorTarget | None, dict]:
        """The resolved target and the fields every figure carries about it: `target`, `amber_margin`,
        `target_scope` (the municipality or Amanah id it was set on; None for a class target, the
        national default or no target), `target_class` (the class it was set for, else None) and
        `target_scope_label` (that scope's name, "Class C", "National", or None without a target)."""
        target = self.resolve(code=code, scope_id=scope_id, municipality_class=municipality_class)
        if target is None:
            return None, {
                "target": None,
                "amber_margin": None,
                "target_scope": None,
                "target_class": None,
                "target_scope_label": None,
            }
        return target, {
            "target": target.target,
            "amber_margin": target.amber_margin,
            "target_scope": target.municipality_id,
            "target_class": target.municipality_class or None,
            "target_scope_label": self.target_label(target),
        }


def class_label(municipality_class: str) -> str:
    """ "Class C" / "الفئة C": a class's name wherever one is shown (rates and indicators by class,
    a class target's origin, the admin, the indicators page's class options)."""
    return _("Class %(code)s") % {"code": municipality_class}
