"""Responses counted from what contacts did, not from how their runs ended.

A run that ended through a wait's timeout was stored as a complete response, and a
timeout's value (goflow's time of the timeout) as an answer in "No Response". This
takes those answers out, makes every response without a single answer empty (its
contact never answered), and rebuilds the chart rollups of every org. Responses the
next sync reads again get their exact status (from `responded` and the flow's own
timeout categories, which the next flows sync fetches for every poll).
"""

from types import SimpleNamespace

from django.db import migrations

DROP_TIMEOUTS = """
    DELETE FROM polls_answer WHERE category = 'No Response'
"""
EMPTY_WITHOUT_ANSWERS = """
    UPDATE polls_response r SET status = 'empty'
    WHERE r.status <> 'empty'
      AND NOT EXISTS (SELECT 1 FROM polls_answer a WHERE a.response_id = r.id)
"""


def recount(apps, schema_editor):
    from tracpro.polls.rollups import rebuild

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DROP_TIMEOUTS)
        cursor.execute(EMPTY_WITHOUT_ANSWERS)
    for org_id in apps.get_model("orgs", "Org").objects.values_list("pk", flat=True):
        # Only the rollups that exist at this migration (later ones fill their own).
        rebuild(SimpleNamespace(pk=org_id), tables=("polls_answerrollup", "polls_responserollup"))


class Migration(migrations.Migration):
    dependencies = [("polls", "0007_voice_polls_timeouts_and_no_response")]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop, elidable=True)]
