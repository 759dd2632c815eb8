import numpy
import pytest

from tracpro.charts.histograms import histograms
from tracpro.polls.models import Answer, QuestionType
from tracpro.polls.tests.factories import make_answer, make_question, make_response

pytestmark = pytest.mark.django_db


@pytest.fixture
def numeric(acme):
    from tracpro.polls.tests.factories import make_pollrun

    question = make_question(acme, "boys", QuestionType.NUMERIC)
    return question, make_pollrun(question.poll)


@pytest.mark.parametrize(
    "values",
    [
        [2, 4, 4, 4, 5, 5, 7, 9],
        [1, 1000, 3, 7, 250, 12, 18, 44, 61, 2, 2, 90, 100],
        [0.5, 0.25, 0.75],
        [-5, 5],
    ],
)
def test_it_bins_like_numpy_sqrt(numeric, values):
    question, pollrun = numeric
    for value in values:
        make_answer(make_response(pollrun), question, value)
    (bins,) = histograms(Answer.objects.filter(question=question)).values()
    counts, edges = numpy.histogram(values, bins="sqrt")
    assert [b.count for b in bins] == counts.tolist()
    assert [b.low for b in bins] == pytest.approx(edges[:-1].tolist())
    assert bins[-1].high == pytest.approx(edges[-1])


def test_it_makes_one_bin_of_equal_values(numeric):
    question, pollrun = numeric
    for _ in range(3):
        make_answer(make_response(pollrun), question, 7)
    (bins,) = histograms(Answer.objects.filter(question=question)).values()
    assert [(b.low, b.high, b.count) for b in bins] == [(7, 7, 3)]


def test_it_leaves_out_answers_without_a_number(numeric):
    question, pollrun = numeric
    make_answer(make_response(pollrun), question, "lots")
    assert histograms(Answer.objects.filter(question=question)) == {}
