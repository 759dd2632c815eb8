"""Set-based writing helpers: staging tables filled by COPY, inserts with model defaults.

The sync writes with a few SQL statements per page rather than one ORM call per
row. Columns a statement does not set get the model field's default, so a field
added to a model later (with a default) never breaks the sync's inserts.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.utils import timezone


def clean_text(value: object, limit: int | None = None) -> str | None:
    """Text Postgres accepts (no NUL characters), cut to a column's length."""
    if value is None:
        return None
    text = str(value).replace("\x00", "")
    return text[:limit] if limit else text


def create_staging_table(name: str, columns: Sequence[tuple[str, str]]) -> None:
    """A temporary table that disappears at the end of the transaction."""
    spec = ", ".join(f"{column} {sql_type}" for column, sql_type in columns)
    with connection.cursor() as cursor:
        # Dropped first too: inside an outer transaction (tests) ON COMMIT is far away.
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TEMP TABLE {name} ({spec}) ON COMMIT DROP")


def copy_rows(table: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence]) -> None:
    """COPY rows into a (staging) table; the fastest way into Postgres. Binary COPY
    with declared types: several times less client work than the text format."""
    names = ", ".join(column for column, _ in columns)
    types = [sql_type for _, sql_type in columns]
    statement = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def copy_into(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY rows (values of `fields`, in order) straight into the model's table, binary.
    Its other columns get their fields' defaults (as `column_defaults`), an automatic
    primary key its sequence."""
    others = [
        field
        for field in model._meta.concrete_fields
        if field.column not in fields and not (field.primary_key and field.column == "id")
    ]
    defaults = tuple(
        field.get_db_prep_save(default_for(model, field), connection) for field in others
    )
    columns = [*fields, *(str(field.column) for field in others)]
    statement = f"COPY {table(model)} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table(model)],
        )
        types = dict(cursor.fetchall())
        with cursor.cursor.copy(statement) as copy:
            copy.set_types([types[column] for column in columns])
            for row in rows:
                copy.write_row((*row, *defaults) if defaults else row)


def analyze(*tables: str) -> None:
    """Refresh the planner's statistics of these tables (cheap: ANALYZE samples).
    A table may name the columns that matter, "table (column, ...)": fewer to read."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def execute(sql: str, params: dict | Sequence | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetch_all(sql: str, params: dict | Sequence | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def column_defaults(model: type[models.Model], provided: Iterable[str]) -> tuple[str, str, dict]:
    """The columns of `model` a statement leaves out, as (", col, ...", ", value, ...",
    params), to append to an INSERT's column and value lists (both "" if none).

    Values are the fields' defaults, cast to the column types, named `default_<column>`.
    """
    provided = set(provided)
    columns, values, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in provided:
            continue
        value = default_for(model, field)
        name = f"default_{field.column}"
        columns.append(field.column)
        values.append(f"%({name})s::{field.db_type(connection)}")
        params[name] = field.get_db_prep_save(value, connection)
    return "".join(f", {c}" for c in columns), "".join(f", {v}" for v in values), params


def default_for(model: type[models.Model], field: models.Field) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField) and field.blank:
        return ""
    raise ImproperlyConfigured(
        f"{model.__name__}.{field.name} needs a default: the RapidPro sync inserts rows "
        "with SQL and leaves it out."
    )


def table(model: type[models.Model]) -> str:
    return model._meta.db_table
