"""`field__any=values`: the rows whose field is one of `values`, sent as ONE parameter.

Django's `__in` writes one placeholder per value: a batch of 100 ids compiles and binds 100
parameters, and every batch size is a new statement text for psycopg to parse. The visit sync
looks up its client ids, establishments, stops and open findings by such lists in every batch, and
on a 2-core machine that Python work was a measured part of the sync's cost (bench/sync.py; a
100-id read of open findings 4.1 ms with `__in`, 2.4 ms with `__any`, same rows).

PostgreSQL: `field = ANY(%s)` with the list as one array. SQLite: `field IN (SELECT value FROM
json_each(%s))` with the list as one JSON text (no variable limit either). Values are prepared by
the field as `__in` prepares them (UUIDs as SQLite stores them, foreign keys as their target), so
`__any` returns exactly what `__in` returns; an empty list matches nothing without a query, as
`__in` does. Meant for lists of ids, UUIDs and short texts.
"""

import json

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup, Model


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False  # prepared value by value below, as a list

    def get_prep_lookup(self):
        field = self.lhs.output_field
        prepare = getattr(field, "target_field", field).get_prep_value
        return [prepare(value.pk if isinstance(value, Model) else value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, values)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*lhs_params, json.dumps(values, default=str))


def register() -> None:
    """Called once from InspectionsConfig.ready(). Foreign keys keep their own lookups
    (ForeignObject does not inherit Field's), so the lookup is registered on both."""
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)
