import pytest

from tracpro.charts.data import filtered_answers
from tracpro.charts.filters import Filters
from tracpro.charts.words import TOP_WORDS, word_counts
from tracpro.contacts.tests.factories import make_contact
from tracpro.polls.models import QuestionType
from tracpro.polls.tests.factories import make_answer, make_question, make_response

pytestmark = pytest.mark.django_db


def cloud(org, question, answers: list[tuple[object, str]], **filters):
    """Answer `question` once per (contact, text) and count the words."""
    pollrun = question.poll.pollruns.first()
    for contact, text in answers:
        make_answer(make_response(pollrun, contact), question, text)
    queryset = filtered_answers(org, Filters(**filters), [question.pk], [pollrun.pk])
    return word_counts(queryset, org).get(question.pk, [])


@pytest.fixture
def open_question(acme):
    from tracpro.polls.tests.factories import make_pollrun

    question = make_question(acme, "comment", QuestionType.OPEN)
    make_pollrun(question.poll)
    return question


def test_it_lower_cases_and_drops_stop_words_and_single_letters(acme, open_question):
    contacts = [make_contact(acme, name) for name in ("A", "B")]
    words = cloud(
        acme,
        open_question,
        [
            (contacts[0], "The RAIN, the rain! And a flood."),
            (contacts[1], "Rain: it is rainy"),
        ],
    )
    assert words == [("rain", 2), ("flood", 1), ("rainy", 1)]


def test_it_counts_each_contact_once_per_word(acme, open_question):
    talker, quiet = make_contact(acme, "Talker"), make_contact(acme, "Quiet")
    words = cloud(
        acme,
        open_question,
        [
            (talker, "desks desks desks"),
            (talker, "desks broken"),
            (quiet, "books"),
        ],
    )
    assert dict(words) == {"desks": 1, "broken": 1, "books": 1}


def test_it_keeps_apostrophes_and_hyphens_inside_words(acme, open_question):
    words = cloud(acme, open_question, [(make_contact(acme, "A"), "'well-fed' teacher's pay -")])
    assert dict(words) == {"well-fed": 1, "teacher's": 1, "pay": 1}


def test_it_uses_the_stop_words_of_every_org_language(acme, open_question):
    # acme speaks en, fr and fa.
    words = cloud(
        acme,
        open_question,
        [
            (make_contact(acme, "A"), "les livres et des cahiers"),
            (make_contact(acme, "B"), "کتاب و دفتر در مدرسه"),
        ],
    )
    assert dict(words) == {"livres": 1, "cahiers": 1, "کتاب": 1, "دفتر": 1, "مدرسه": 1}


def test_it_splits_arabic_punctuation(acme, open_question):
    words = cloud(acme, open_question, [(make_contact(acme, "A"), "كتب،دفاتر؟ أقلام")])
    assert dict(words) == {"كتب": 1, "دفاتر": 1, "أقلام": 1}


def test_it_keeps_the_top_words_most_used_first(acme, open_question):
    contacts = [make_contact(acme, f"C{i}") for i in range(3)]
    answers = [(contacts[0], " ".join(f"word{i:03d}" for i in range(TOP_WORDS + 20)))]
    answers += [(contact, "common word005") for contact in contacts[1:]]
    words = cloud(acme, open_question, answers)
    assert len(words) == TOP_WORDS
    assert words[:2] == [("word005", 3), ("common", 2)]


def test_it_only_counts_contacts_in_the_filters(acme, open_question):
    from tracpro.groups.tests.factories import make_region

    north, south = make_region(acme, "North"), make_region(acme, "South")
    words = cloud(
        acme,
        open_question,
        [
            (make_contact(acme, "N", north), "water"),
            (make_contact(acme, "S", south), "roads"),
        ],
        region_ids=frozenset([north.pk]),
    )
    assert words == [("water", 1)]
