"""A voice poll's recordings play in a real browser, straight from where RapidPro
keeps them (here the simulator, which serves its recordings itself)."""

import copy

import pytest
from playwright.sync_api import expect

from tracpro.contacts.tests.factories import make_contact
from tracpro.polls import rollups
from tracpro.polls.models import QuestionType
from tracpro.polls.tests.factories import (
    make_answer,
    make_poll,
    make_pollrun,
    make_question,
    make_response,
)
from tracpro.simulator.testing import running_simulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_recording_plays_in_the_responses_tab(acme, ann, local_page, site_url, log_in, settings):
    with running_simulator(contacts=30, runs=0) as simulator:
        recording = f"{simulator.base_url}/sim/media/edu/visit.wav"
        # As an operator does with CSP_MEDIA_SRC: the policy lets the page play
        # recordings from RapidPro's media host, and from nowhere else.
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["media-src"] = ["'self'", simulator.base_url]
        settings.CONTENT_SECURITY_POLICY = policy
        poll = make_poll(acme, "School Visit Call", flow_type="voice")
        question = make_question(poll, "visit_report", QuestionType.RECORDING)
        pollrun = make_pollrun(poll)
        make_answer(make_response(pollrun, make_contact(acme, "Grace")), question, recording)
        rollups.rebuild(acme)  # as the sync keeps them: the tab counts its rows from them
        log_in(ann, acme)

        local_page.goto(site_url(acme, f"/response/by_pollrun/{pollrun.pk}/"))
        audio = local_page.locator("audio.recording")
        expect(audio).to_have_attribute("src", recording)

        handle = audio.element_handle()
        local_page.evaluate("a => { a.muted = true; return a.play(); }", handle)
        local_page.wait_for_function("a => a.currentTime > 0 || a.ended", arg=handle)
        duration = local_page.evaluate("a => a.duration", handle)
        assert duration == pytest.approx(1.0, abs=0.05)  # the simulator's one-second tone
        assert local_page.evaluate("a => a.error", handle) is None
