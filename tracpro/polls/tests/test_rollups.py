"""The rollups the sync keeps by delta equal a rebuild from the raw rows, through
new runs, answers landing later, moved, regrouped, blocked and deleted contacts,
unfollowed regions, a changed same-day rule and a changed question type."""

import pytest

from django.core.management import call_command
from django.db import connection

from tracpro.contacts.models import Contact
from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.models import Region
from tracpro.groups.tests.factories import make_region
from tracpro.orgs.models import SameDayRule
from tracpro.polls import rollups
from tracpro.polls.models import (
    Answer,
    AnswerRollup,
    Question,
    QuestionType,
    ResponseRollup,
    WordRollup,
)
from tracpro.polls.tests.factories import (
    make_answer,
    make_pollrun,
    make_question,
    make_response,
)
from tracpro.polls.tests.integrity import dangling_rows
from tracpro.rapidpro.syncers.run_writer import recompute_values
from tracpro.rapidpro.tests.sync_helpers import SIM_NOW, set_up_edu, sync
from tracpro.simulator.testing import running_simulator


def answer_rollups(org) -> dict:
    rows = AnswerRollup.objects.filter(pollrun__poll__org=org).values_list(
        "question_id",
        "pollrun_id",
        "region_id",
        "local_date",
        "category",
        "count",
        "number_count",
        "number_sum",
        "number_sum_sq",
    )
    return {row[:5]: (row[5], row[6], pytest.approx(row[7]), pytest.approx(row[8])) for row in rows}


def response_rollups(org) -> dict:
    rows = ResponseRollup.objects.filter(pollrun__poll__org=org).values_list(
        "pollrun_id", "region_id", "status", "count"
    )
    return {row[:3]: row[3] for row in rows}


def every_rollup(org) -> dict[str, dict]:
    """Every rollup table's rows of the org: {table: {key: totals}}."""
    snapshot = {}
    with connection.cursor() as cursor:
        for rollup in rollups.ROLLUPS:
            columns = ", ".join(f"t.{column}" for column in [*rollup.keys, *rollup.totals])
            cursor.execute(
                f"SELECT {columns} FROM {rollup.table} t "  # noqa: S608 - our tables
                "JOIN polls_pollrun pr ON pr.id = t.pollrun_id "
                "JOIN polls_poll p ON p.id = pr.poll_id WHERE p.org_id = %s",
                [org.pk],
            )
            width = len(rollup.keys)
            snapshot[rollup.table] = {
                # the count, then sums of floats
                row[:width]: (row[width], *(pytest.approx(value) for value in row[width + 1 :]))
                for row in cursor.fetchall()
            }
    return snapshot


def assert_rollups_match_a_rebuild(org, every_table: bool = False) -> None:
    incremental = every_rollup(org)
    filled = [table for table, rows in incremental.items() if rows]
    assert set(filled) >= {"polls_answerrollup", "polls_responserollup"}
    if every_table:
        assert filled == [rollup.table for rollup in rollups.ROLLUPS]
    rollups.rebuild(org)
    assert every_rollup(org) == incremental
    for rows in every_rollup(org).values():
        assert all(totals[0] > 0 for totals in rows.values())


@pytest.mark.slow
def test_it_keeps_rollups_equal_to_a_rebuild_through_a_sync_with_updates_and_deletions(acme):
    with running_simulator(seed=11, contacts=80, runs=900, now=SIM_NOW) as simulator:
        set_up_edu(acme, simulator)
        assert sync(acme, "contacts", "runs") == {"contacts": "succeeded", "runs": "succeeded"}
        assert_rollups_match_a_rebuild(acme, every_table=True)

        client = simulator.client("edu")
        responding = [c for c in client.get_contacts(group="Kampala").all() if c.status == "active"]
        moved, blocked, deleted, regrouped = responding[:4]
        gulu = client.get_groups(name="Gulu").first()
        client.update_contact(moved.uuid, groups=[gulu.uuid])
        # Same region, another reporter group.
        teachers = "Grade 5 Teachers"
        if teachers in {group.name for group in regrouped.groups}:
            teachers = "Head Teachers"
        client.update_contact(
            regrouped.uuid,
            groups=[client.get_groups(name=name).first().uuid for name in ("Kampala", teachers)],
        )
        client.bulk_block_contacts([blocked.uuid])
        client.delete_contact(deleted.uuid)
        for _ in range(40):
            simulator.tick("edu")  # answers land on waiting runs, runs time out
        simulator.add_runs("edu", 300)
        Region.objects.get(org=acme, name="Mukono").deactivate()
        acme.same_day_rule = SameDayRule.SUM
        acme.save()
        Question.objects.filter(poll__org=acme, result_key="girls").update(
            question_type="categorical"
        )

        assert sync(acme, "contacts", "runs") == {"contacts": "succeeded", "runs": "succeeded"}

        assert Contact.objects.get(org=acme, uuid=moved.uuid).region.name == "Gulu"
        regrouped_groups = Contact.objects.get(org=acme, uuid=regrouped.uuid).reporter_groups
        assert [group.name for group in regrouped_groups.all()] == [teachers]
        assert not Contact.objects.get(org=acme, uuid=blocked.uuid).is_active
        assert not Contact.objects.get(org=acme, uuid=deleted.uuid).is_active
        assert (
            not Answer.objects.filter(question__result_key="girls")
            .exclude(value_to_use=None)
            .exists()
        )
        assert_rollups_match_a_rebuild(acme, every_table=True)
        assert dangling_rows() == {}


def test_it_keeps_rollups_current_when_a_contact_is_edited_in_tracpro(acme):
    north, south = make_region(acme, "North"), make_region(acme, "South")
    question = make_question(acme, "boys")
    pollrun = make_pollrun(question.poll)
    contacts = [make_contact(acme, f"Reporter {i}", region=north) for i in range(3)]
    for number, contact in enumerate(contacts, start=5):
        response = make_response(pollrun, contact)
        Answer.objects.create(
            response=response,
            question=question,
            value=str(number),
            category="Other",
            number=number,
            value_to_use=number,
            submitted_on=pollrun.conducted_on,
            local_date=pollrun.local_date,
        )
    rollups.rebuild(acme)

    moved, dropped = contacts[0], contacts[1]
    with rollups.tracking_contacts(acme, [moved.pk, dropped.pk]):
        moved.region = south
        moved.save()
        dropped.is_active = False
        dropped.save()

    by_region = {
        key[2]: value[2] for key, value in answer_rollups(acme).items()
    }  # region -> number_sum
    assert by_region == {north.pk: pytest.approx(7), south.pk: pytest.approx(5)}
    assert_rollups_match_a_rebuild(acme)


def test_the_rebuild_command_rebuilds_one_org_or_all(acme, beta, capsys):
    for org in (acme, beta):
        make_response(make_pollrun(org), make_contact(org))
    ResponseRollup.objects.all().delete()

    call_command("rebuild_rollups", "acme")
    assert response_rollups(acme) and not response_rollups(beta)

    call_command("rebuild_rollups")
    assert response_rollups(beta)
    assert "beta: rollups rebuilt" in capsys.readouterr().out


def test_words_count_the_answers_that_are_not_numbers(acme):
    """Word clouds are of open-ended questions: the numbers of a numeric question make
    no words, until the question stops being numeric (recompute_values)."""
    pollrun = make_pollrun(acme)
    boys = make_question(pollrun.poll, "boys", QuestionType.NUMERIC)
    make_answer(make_response(pollrun, make_contact(acme)), boys, "12")
    make_answer(make_response(pollrun, make_contact(acme)), boys, "about twelve")
    rollups.rebuild(acme)

    def words() -> set[str]:
        return set(WordRollup.objects.filter(question=boys).values_list("word", flat=True))

    assert words() == {"about", "twelve"}
    Question.objects.filter(pk=boys.pk).update(question_type=QuestionType.OPEN)
    recompute_values(acme, [boys.pk])
    assert words() == {"about", "twelve", "12"}
    assert_rollups_match_a_rebuild(acme)
