"""A small, fully known poll world for dashboard tests.

acme (Africa/Kampala):
    regions   Central (boundary) > Kampala (boundary), Wakiso (boundary); Northern > Gulu (boundary)
    groups    Head Teachers, Teachers
    field     facility_code (shown)
    poll      Enrolment: boys (numeric; rules 0-100 "Small", >100 "Large"),
              books (categorical: Enough, Some, None, Other), comment (open)
    dates     May 1 and May 8 (2024), both org-wide

Every contact, answer and figure is listed in `ANSWERS` below, so tests
compute what to expect from the same table the data was built from.
"""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import reverse

from tracpro.contacts.models import Contact, DataField
from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.models import Boundary, Region, ReporterGroup
from tracpro.groups.tests.factories import make_boundary, make_region, make_reporter_group
from tracpro.orgs.models import Org
from tracpro.polls import rollups
from tracpro.polls.models import Poll, PollRun, Question, QuestionType, ResponseStatus
from tracpro.polls.tests.factories import (
    make_answer,
    make_poll,
    make_pollrun,
    make_question,
    make_response,
)

KAMPALA_TZ = ZoneInfo("Africa/Kampala")
MAY_1 = datetime(2024, 5, 1, 9, 0, tzinfo=KAMPALA_TZ)
MAY_8 = datetime(2024, 5, 8, 9, 0, tzinfo=KAMPALA_TZ)

NUMERIC_RULES = [
    {"category": "Small", "test": "has_number_between", "arguments": ["0", "100"]},
    {"category": "Large", "test": "has_number_gt", "arguments": ["100"]},
]

# contact: (region, groups, facility code)
CONTACTS = {
    "Alice": ("Kampala", ["Head Teachers"], "KLA-1"),
    "Bob": ("Kampala", ["Teachers"], "KLA-2"),
    "=Carol": ("Wakiso", ["Head Teachers", "Teachers"], "WAK-1"),
    "Dan": ("Gulu", ["Teachers"], "GUL-1"),
    "Eve": ("Gulu", [], "GUL-2"),
}

# (date, contact): (status, boys, books, comment); None = not answered.
ANSWERS = {
    ("may1", "Alice"): (ResponseStatus.COMPLETE, "120", "Enough", "Need more desks"),
    ("may1", "Bob"): (ResponseStatus.COMPLETE, "80", "Some", "desks and books"),
    ("may1", "=Carol"): (ResponseStatus.PARTIAL, "40", None, None),
    ("may1", "Dan"): (ResponseStatus.COMPLETE, "10", "None", "No books, no desks"),
    ("may1", "Eve"): (ResponseStatus.EMPTY, None, None, None),
    ("may8", "Alice"): (ResponseStatus.COMPLETE, "100", "Enough", "Books arrived"),
    ("may8", "Bob"): (ResponseStatus.PARTIAL, "60", None, None),
    ("may8", "Dan"): (ResponseStatus.EMPTY, None, None, None),
}


# Both poll dates, whatever day the tests run on.
IN_MAY = {"range": "custom", "start": "2024-04-01", "end": "2024-05-31"}


def page_url(name: str, *args, **params) -> str:
    """An org host URL by name, with query parameters."""
    url = reverse(name, urlconf="tracpro.urls", args=args)
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


@dataclass
class World:
    org: Org
    regions: dict[str, Region]
    groups: dict[str, ReporterGroup]
    boundaries: dict[str, Boundary]
    contacts: dict[str, Contact]
    poll: Poll
    questions: dict[str, Question]
    pollruns: dict[str, PollRun]
    responses: dict = field(default_factory=dict)

    def rebuild(self) -> None:
        rollups.rebuild(self.org)


def square(x: float, y: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]],
    }


def build_world(org: Org) -> World:
    boundaries = {
        "Central": make_boundary(org, "Central", level=1, simplified_geometry=square(32, 0)),
        "Kampala": make_boundary(org, "Kampala", level=2, simplified_geometry=square(32.5, 0.2)),
        "Wakiso": make_boundary(org, "Wakiso", level=2, simplified_geometry=square(32, 0.5)),
        "Gulu": make_boundary(org, "Gulu", level=2, simplified_geometry=square(32, 2.5)),
    }
    central = make_region(org, "Central", boundary=boundaries["Central"])
    northern = make_region(org, "Northern")
    regions = {
        "Central": central,
        "Northern": northern,
        "Kampala": make_region(org, "Kampala", parent=central, boundary=boundaries["Kampala"]),
        "Wakiso": make_region(org, "Wakiso", parent=central, boundary=boundaries["Wakiso"]),
        "Gulu": make_region(org, "Gulu", parent=northern, boundary=boundaries["Gulu"]),
    }
    groups = {name: make_reporter_group(org, name) for name in ("Head Teachers", "Teachers")}
    DataField.objects.create(org=org, key="facility_code", label="Facility code", is_visible=True)
    contacts = {}
    for name, (region, group_names, code) in CONTACTS.items():
        contact = make_contact(org, name, regions[region], fields={"facility_code": code})
        contact.reporter_groups.set([groups[g] for g in group_names])
        contacts[name] = contact

    poll = make_poll(org, "Enrolment")
    questions = {
        "boys": make_question(
            poll,
            "boys",
            QuestionType.NUMERIC,
            order=1,
            rules=NUMERIC_RULES,
            categories=["Small", "Large", "Other"],
        ),
        "books": make_question(
            poll,
            "books",
            QuestionType.CATEGORICAL,
            order=2,
            categories=["Enough", "Some", "None", "Other"],
        ),
        "comment": make_question(
            poll, "comment", QuestionType.OPEN, order=3, categories=["All Responses"]
        ),
    }
    pollruns = {"may1": make_pollrun(poll, MAY_1), "may8": make_pollrun(poll, MAY_8)}
    world = World(org, regions, groups, boundaries, contacts, poll, questions, pollruns)
    for (date, name), (status, boys, books, comment) in ANSWERS.items():
        response = make_response(pollruns[date], contacts[name], status)
        world.responses[(date, name)] = response
        if boys is not None:
            category = "Large" if float(boys) > 100 else "Small"
            make_answer(response, questions["boys"], boys, category)
        if books is not None:
            make_answer(response, questions["books"], books, books)
        if comment is not None:
            make_answer(response, questions["comment"], comment, "All Responses")
    world.rebuild()
    return world
