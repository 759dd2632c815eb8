"""Flows become polls and their results questions (unit tests, RapidPro faked at the
seam); admins' choices survive every sync, and no poll is deleted with its data."""

from tracpro.polls.models import Poll, Question, QuestionType
from tracpro.polls.tests.factories import make_pollrun, make_response
from tracpro.rapidpro.tests import fakes
from tracpro.rapidpro.tests.sync_helpers import state, sync


def router_node(
    result_name: str, cases: list[tuple[str, list[str], str]], node: str | None = None
) -> dict:
    categories = []
    for _, _, category in cases:
        if category not in categories:
            categories.append(category)
    categories.append("Other" if cases else "All Responses")
    uuid_of = {name: f"cat-{i}" for i, name in enumerate(categories)}
    return {
        "uuid": node or fakes.new_uuid(),
        "router": {
            "type": "switch",
            "result_name": result_name,
            "wait": {"type": "msg"},
            "cases": [
                {
                    "uuid": f"case-{i}",
                    "type": test,
                    "arguments": args,
                    "category_uuid": uuid_of[category],
                }
                for i, (test, args, category) in enumerate(cases)
            ],
            "categories": [
                {"uuid": uuid_of[n], "name": n, "exit_uuid": f"exit-{n}"} for n in categories
            ],
            "default_category_uuid": uuid_of[categories[-1]],
        },
        "exits": [{"uuid": f"exit-{n}"} for n in categories],
    }


def add_flow(rapidpro, name: str, nodes: list[dict], archived: bool = False) -> dict:
    results = [
        fakes.result(
            Question_key(node["router"]["result_name"]),
            node["router"]["result_name"],
            [c["name"] for c in node["router"]["categories"]],
            node["uuid"],
        )
        for node in nodes
    ]
    item = fakes.flow(name, results, archived=archived)
    rapidpro.flows.append(item)
    rapidpro.definitions[item["uuid"]] = {"uuid": item["uuid"], "name": name, "nodes": nodes}
    return item


def Question_key(name: str) -> str:
    return name.lower().replace(" ", "_")


def select(org, name: str) -> Poll:
    Poll.objects.filter(org=org, rapidpro_name=name).update(is_active=True)
    return Poll.objects.get(org=org, rapidpro_name=name)


def test_every_flow_becomes_an_unselected_poll_without_questions(acme, rapidpro):
    add_flow(rapidpro, "Enrolment", [router_node("Boys", [("has_number", [], "Number")])])
    add_flow(rapidpro, "Reminder", [])

    assert sync(acme, "flows") == {"flows": "succeeded"}

    polls = {p.rapidpro_name: p for p in Poll.objects.for_org(acme)}
    assert not polls["Enrolment"].is_active and polls["Enrolment"].result_count == 1
    assert polls["Reminder"].result_count == 0
    assert not Question.objects.exists()


def test_a_selected_polls_results_become_typed_questions_in_flow_order(acme, rapidpro):
    comment = router_node("Comment", [])
    books = router_node(
        "Books", [("has_any_word", ["enough"], "Enough"), ("has_number", [], "Counted")]
    )
    number = router_node(
        "Pupils", [("has_number_between", ["1", "10"], "Few"), ("has_number_gt", ["10"], "Many")]
    )
    number["exits"][0]["destination_uuid"] = books["uuid"]
    books["exits"][0]["destination_uuid"] = comment["uuid"]
    # Listed out of order: the questions follow the flow from its first node.
    add_flow(rapidpro, "Survey", [number, comment, books])
    assert sync(acme, "flows") == {"flows": "succeeded"}
    select(acme, "Survey")

    assert sync(acme, "flows") == {"flows": "succeeded"}

    questions = list(Question.objects.filter(poll__rapidpro_name="Survey"))
    assert [q.result_key for q in questions] == ["pupils", "books", "comment"]
    pupils, books_q, comment_q = questions
    assert pupils.question_type == QuestionType.NUMERIC
    assert pupils.categories == ["Few", "Many", "Other"]
    assert pupils.rules == [
        {"category": "Few", "test": "has_number_between", "arguments": ["1", "10"]},
        {"category": "Many", "test": "has_number_gt", "arguments": ["10"]},
    ]
    assert books_q.question_type == QuestionType.CATEGORICAL
    assert comment_q.question_type == QuestionType.OPEN and comment_q.categories == []


def test_admins_names_types_and_choices_survive_a_sync(acme, rapidpro):
    node = router_node("Pupils", [("has_number", [], "Number")])
    flow = add_flow(rapidpro, "Enrolment", [node])
    sync(acme, "flows")
    poll = select(acme, "Enrolment")
    sync(acme, "flows")
    Poll.objects.filter(pk=poll.pk).update(name="Term enrolment")
    Question.objects.filter(poll=poll).update(
        name="Pupils (P5)", question_type=QuestionType.OPEN, is_active=False
    )

    flow["name"] = "Enrolment 2025"
    node["router"]["result_name"] = "Pupils"
    node["router"]["cases"].append(
        {"uuid": "x", "type": "has_text", "arguments": [], "category_uuid": "cat-0"}
    )
    flow["results"][0]["categories"] = ["Number", "Text", "Other"]
    assert sync(acme, "flows") == {"flows": "succeeded"}

    poll.refresh_from_db()
    question = Question.objects.get(poll=poll)
    assert (poll.name, poll.rapidpro_name) == ("Term enrolment", "Enrolment 2025")
    assert (question.name, question.question_type, question.is_active) == (
        "Pupils (P5)",
        "open",
        False,
    )
    assert question.rapidpro_type == QuestionType.CATEGORICAL  # what the flow now implies


def test_a_question_type_follows_the_flow_until_an_admin_changes_it(acme, rapidpro):
    node = router_node("Pupils", [("has_number", [], "Number")])
    flow = add_flow(rapidpro, "Enrolment", [node])
    sync(acme, "flows")
    select(acme, "Enrolment")
    sync(acme, "flows")

    node["router"]["cases"][0]["type"] = "has_text"
    flow["results"][0]["name"] = "Pupils count"  # the flows API shows a change
    node["router"]["result_name"] = "Pupils count"
    assert sync(acme, "flows") == {"flows": "succeeded"}

    question = Question.objects.get(result_key="pupils")
    assert question.question_type == question.rapidpro_type == QuestionType.CATEGORICAL


def test_archived_and_vanished_flows_deactivate_their_polls_and_keep_their_data(acme, rapidpro):
    kept = add_flow(rapidpro, "Attendance", [router_node("Absent", [("has_number", [], "Number")])])
    gone = add_flow(rapidpro, "Textbooks", [router_node("Books", [("has_text", [], "Text")])])
    sync(acme, "flows")
    for name in ("Attendance", "Textbooks"):
        poll = select(acme, name)
        make_response(make_pollrun(poll))
    sync(acme, "flows")

    kept["archived"] = True
    rapidpro.flows.remove(gone)
    assert sync(acme, "flows") == {"flows": "succeeded"}

    polls = {p.rapidpro_name: p for p in Poll.objects.for_org(acme)}
    assert (polls["Attendance"].flow_state, polls["Attendance"].is_active) == ("archived", False)
    assert (polls["Textbooks"].flow_state, polls["Textbooks"].is_active) == ("missing", False)
    assert all(poll.pollruns.get().responses.count() == 1 for poll in polls.values())
    assert Question.objects.filter(poll__org=acme).count() == 2


def test_a_result_the_flow_dropped_is_kept_but_marked_absent(acme, rapidpro):
    first, second = (
        router_node("Boys", [("has_number", [], "N")]),
        router_node("Girls", [("has_number", [], "N")]),
    )
    flow = add_flow(rapidpro, "Enrolment", [first, second])
    sync(acme, "flows")
    select(acme, "Enrolment")
    sync(acme, "flows")

    rapidpro.definitions[flow["uuid"]]["nodes"] = [first]
    flow["results"] = flow["results"][:1]
    assert sync(acme, "flows") == {"flows": "succeeded"}

    assert dict(Question.objects.values_list("result_key", "is_present")) == {
        "boys": True,
        "girls": False,
    }


def test_an_unchanged_flow_needs_no_definition(acme, rapidpro):
    add_flow(rapidpro, "Enrolment", [router_node("Boys", [("has_number", [], "N")])])
    sync(acme, "flows")
    select(acme, "Enrolment")
    sync(acme, "flows")
    rapidpro.requests.clear()

    assert sync(acme, "flows") == {"flows": "succeeded"}

    # the flows and the workspace (its time zone): no definition
    assert [endpoint for endpoint, _ in rapidpro.requests] == ["flows", "org"]
    assert state(acme, "flows").counts["updated"] == 0


def test_selecting_a_poll_syncs_its_runs_at_once(
    acme, rapidpro, celery_eager, django_capture_on_commit_callbacks
):
    add_flow(rapidpro, "Enrolment", [router_node("Boys", [("has_number", [], "N")])])
    sync(acme, "flows")
    select(acme, "Enrolment")

    with django_capture_on_commit_callbacks(execute=True):
        assert sync(acme, "flows") == {"flows": "succeeded"}

    assert state(acme, "runs").last_success_on is not None
    assert acme.sync_streams.get(name__startswith="flow:").finished_on is not None
