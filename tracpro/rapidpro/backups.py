"""Backups of what TracPro owns, over pg_dump / pg_restore.

A backup holds the whole schema and the data of every table except the bulk of
the mirror: the runs the sync copies from RapidPro and can copy again (responses,
answers, their rollups) and the sync's own progress (SyncState, SyncStream,
RunArchive), so that after a restore every sync starts from the beginning and
refills them. Everything else is kept: users, memberships, orgs and their
settings, regions and their tree, reporter groups, the chosen polls and questions
and their names, contact field choices, indicators, the message log, and every
table a new app adds unless it is listed in MIRROR_MODELS below. Contacts, poll
dates and inbox messages are kept although the sync could fetch them again: part
of them is TracPro's own (a contact added or changed here and not yet pushed, a
poll date started here, a reply's mark on the message it answered), and the
message log points at them; the sync then updates them in place.

The data of sessions and login-throttling records is left out too: they are
short-lived, and a restore logs everyone out.
"""

import glob
import os
import shutil
import subprocess
from pathlib import Path

from django.apps import apps
from django.db import connection
from django.db.models import Model

# Rows the sync refills from RapidPro, and its progress. A model not listed here
# is backed up: a new table is safe by default.
MIRROR_MODELS = (
    "polls.Response",
    "polls.Answer",
    "polls.AnswerRollup",
    "polls.ResponseRollup",
    "polls.AnswerGroupRollup",
    "polls.ResponseGroupRollup",
    "polls.NumberRollup",
    "polls.WordRollup",
    "orgs.SyncState",
    "rapidpro.SyncStream",
    "rapidpro.RunArchive",
)
TRANSIENT_MODELS = (
    "sessions.Session",
    "axes.AccessAttempt",
    "axes.AccessAttemptExpiration",
    "axes.AccessFailureLog",
    "axes.AccessLog",
)


class BackupError(Exception):
    pass


def excluded_tables() -> list[str]:
    """Tables whose rows stay out of a backup (their many-to-many tables too)."""
    tables: list[str] = []
    for label in (*MIRROR_MODELS, *TRANSIENT_MODELS):
        model: type[Model] = apps.get_model(label)
        tables.append(model._meta.db_table)
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through  # None only before the models are ready
            if through is not None and through._meta.auto_created:
                tables.append(through._meta.db_table)
    return tables


def pg_tool(name: str) -> str:
    """pg_dump or pg_restore: from PG_BIN, PATH, or Debian's server folders (newest)."""
    folder = os.environ.get("PG_BIN")
    if folder:
        return str(Path(folder) / name)
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    if not candidates:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return candidates[-1]


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def connection_env(database: dict) -> dict[str, str]:
    """libpq's environment for a Django DATABASES entry: no password on a command line."""
    values = {
        "PGHOST": database.get("HOST") or "",
        "PGPORT": str(database.get("PORT") or ""),
        "PGUSER": database.get("USER") or "",
        "PGPASSWORD": database.get("PASSWORD") or "",
        "PGDATABASE": database["NAME"],
    }
    return {**os.environ, **{key: value for key, value in values.items() if value}}


def backup(path: Path, database: dict | None = None) -> None:
    """Write a pg_dump archive (custom format, compressed) of what TracPro owns."""
    database = database or connection.settings_dict
    command = [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
    command += [f"--exclude-table-data={table}" for table in excluded_tables()]
    command += [f"--file={path}"]
    _run(command, database)


def restore(path: Path, database: dict | None = None, *, replace: bool = False) -> None:
    """Load an archive. Into an empty database unless `replace`, which drops what
    the archive holds first. Everything or nothing: one transaction."""
    database = database or connection.settings_dict
    if not replace and not is_empty(database):
        raise BackupError(
            f"The database {database['NAME']} is not empty; restore into an empty one, "
            "or pass --replace to drop and replace its tables."
        )
    command = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    command += ["--single-transaction", f"--dbname={database['NAME']}"]
    if replace:
        command += ["--clean", "--if-exists"]
    command += [str(path)]
    _run(command, database)


def is_empty(database: dict) -> bool:
    query = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    if database["NAME"] == connection.settings_dict["NAME"]:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchone()[0] == 0
    psql = pg_tool("psql")
    output = _run([psql, "-tAc", query], database)
    return output.strip() == "0"


def _run(command: list[str], database: dict) -> str:
    result = subprocess.run(  # noqa: S603 - fixed tools, arguments from settings
        command, env=connection_env(database), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")
    return result.stdout
