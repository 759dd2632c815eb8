"""The simulated orgs' flows, written in today's flow spec (14.x) export format.

Each flow is declared as a short list of steps (questions with a wait, calculated
"split by expression" results) and `build_definition()` writes the full
definition: send_msg action nodes, switch routers with waits, cases, categories
(Other, No Response, All Responses), localization and `_ui`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from .engine import snakify

SPEC_VERSION = "14.4.1"


@dataclass(frozen=True)
class Case:
    test: str
    args: tuple[str, ...]
    category: str


@dataclass(frozen=True)
class Step:
    """A question (wait=True) or a calculated result (wait=False) of a flow."""

    result: str
    cases: tuple[Case, ...] = ()
    prompt: dict[str, str] = field(default_factory=dict)
    retry: dict[str, str] = field(default_factory=dict)
    timeout_seconds: int = 0
    timeout_text: dict[str, str] = field(default_factory=dict)
    timeout_category: str = "No Response"  # flows may rename it
    wait: bool = True
    # IVR: {"type": "digits", "count": 1} (menu), {"type": "digits", "terminated_by": "#"}
    # (keypad) or {"type": "audio"} (recording), as the editor's voice waits write them
    hint: dict | None = None
    operand: str = "@input"
    categories_tr: dict[str, dict[str, str]] = field(default_factory=dict)
    args_tr: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return snakify(self.result)


@dataclass(frozen=True)
class ResultAction:
    """A `set_run_result` action after the last question (a result no router writes)."""

    name: str
    value: str
    category: str = ""


@dataclass(frozen=True)
class FlowSpec:
    key: str
    name: str
    steps: tuple[Step, ...]
    outro: dict[str, str]
    results: tuple[ResultAction, ...] = ()
    flow_type: str = "message"  # as the flows API names it: message, voice...
    poll: bool = True
    archived: bool = False
    expires_minutes: int = 1440
    created_days_ago: int = 120
    keyword: str | None = None


def _numeric_question(result: str, prompt: dict, bands: list[Case], **extra) -> Step:
    retry = {
        "eng": "Sorry, please reply with a number only, for example 120.",
        "fra": "Désolé, répondez seulement avec un nombre, par exemple 120.",
        "ara": "عذراً، يرجى الرد برقم فقط، مثلاً 120.",
    }
    return Step(result=result, cases=tuple(bands), prompt=prompt, retry=retry, **extra)


SIZE_BANDS = [
    Case("has_number_lt", ("100",), "Under 100"),
    Case("has_number_between", ("100", "300"), "100 - 300"),
    Case("has_number_gt", ("300",), "Over 300"),
]
SIZE_TR = {
    "fra": {"Under 100": "Moins de 100", "Over 300": "Plus de 300", "Other": "Autre"},
    "ara": {"Under 100": "أقل من 100", "Over 300": "أكثر من 300", "Other": "أخرى"},
}

ENROLMENT = FlowSpec(
    key="enrolment",
    name="Enrolment",
    keyword="enrol",
    steps=(
        _numeric_question(
            "Boys",
            {
                "eng": "How many boys are enrolled in your school this term?",
                "fra": "Combien de garçons sont inscrits dans votre école ce trimestre ?",
                "ara": "كم عدد الأولاد المسجلين في مدرستك هذا الفصل؟",
            },
            SIZE_BANDS,
            categories_tr=SIZE_TR,
        ),
        _numeric_question(
            "Girls",
            {
                "eng": "How many girls are enrolled in your school this term?",
                "fra": "Combien de filles sont inscrites dans votre école ce trimestre ?",
                "ara": "كم عدد البنات المسجلات في مدرستك هذا الفصل؟",
            },
            SIZE_BANDS,
            categories_tr=SIZE_TR,
        ),
        Step(
            result="Girls per 100 Boys",
            wait=False,
            operand="@(round(results.girls.value / results.boys.value * 100, 1))",
            cases=(
                Case("has_number_lt", ("90",), "Below 90"),
                Case("has_number_between", ("90", "110"), "90 - 110"),
                Case("has_number_gt", ("110",), "Above 110"),
            ),
        ),
    ),
    outro={
        "eng": "Thank you! We recorded @results.boys boys and @results.girls girls.",
        "fra": "Merci ! Nous avons noté @results.boys garçons et @results.girls filles.",
        "ara": "شكراً! سجلنا @results.boys أولاد و @results.girls بنات.",
    },
)

ATTENDANCE = FlowSpec(
    key="attendance",
    name="Attendance",
    keyword="absent",
    steps=(
        _numeric_question(
            "Absent Pupils",
            {
                "eng": "How many P5 pupils were absent from school today?",
                "fra": "Combien d'élèves de P5 étaient absents aujourd'hui ?",
                "ara": "كم عدد تلاميذ الصف الخامس الغائبين اليوم؟",
            },
            [
                Case("has_number_eq", ("0",), "0"),
                Case("has_number_between", ("1", "49"), "1 - 49"),
                Case("has_number_between", ("50", "99"), "50 - 99"),
                Case("has_number_gt", ("99",), "100+"),
            ],
            timeout_seconds=43_200,
            timeout_text={
                "eng": "We did not receive today's attendance report. We will ask again next week.",
                "fra": "Nous n'avons pas reçu le rapport d'aujourd'hui. Nous redemanderons.",
                "ara": "لم نستلم تقرير الحضور اليوم. سنسأل مرة أخرى الأسبوع القادم.",
            },
        ),
    ),
    results=(
        # a share of a class of 40: a number no router writes
        ResultAction("Absence Rate", "@(round(results.absent_pupils.value / 40 * 100, 0))"),
    ),
    outro={
        "eng": "Thank you for reporting attendance.",
        "fra": "Merci d'avoir signalé les présences.",
        "ara": "شكراً على الإبلاغ عن الحضور.",
    },
)

TEXTBOOKS = FlowSpec(
    key="textbooks",
    name="Textbooks",
    keyword="books",
    steps=(
        Step(
            result="Textbooks",
            prompt={
                "eng": "Do your P5 pupils have enough textbooks? Reply ENOUGH, SOME or NONE.",
                "fra": "Vos élèves de P5 ont-ils assez de manuels ? "
                "Répondez ASSEZ, QUELQUES ou AUCUN.",
                "ara": "هل لدى تلاميذ الصف الخامس كتب كافية؟ أجب: كافية، بعض، أو لا يوجد.",
            },
            cases=(
                Case("has_any_word", ("enough yes all",), "Enough"),
                Case("has_any_word", ("some few half",), "Some"),
                Case("has_any_word", ("none no zero",), "None"),
            ),
            args_tr={
                "fra": (
                    ("assez oui tous suffisant",),
                    ("quelques peu moitié",),
                    ("aucun non zéro",),
                ),
                "ara": (("كافية نعم كل",), ("بعض قليل نصف",), ("يوجد لا صفر",)),
            },
            categories_tr={
                "fra": {
                    "Enough": "Assez",
                    "Some": "Quelques-uns",
                    "None": "Aucun",
                    "Other": "Autre",
                },
                "ara": {"Enough": "كافية", "Some": "بعض", "None": "لا يوجد", "Other": "أخرى"},
            },
            retry={
                "eng": "Please reply ENOUGH, SOME or NONE.",
                "fra": "Répondez ASSEZ, QUELQUES ou AUCUN.",
                "ara": "يرجى الرد: كافية، بعض، أو لا يوجد.",
            },
        ),
    ),
    outro={
        "eng": "Thanks, your answer has been recorded.",
        "fra": "Merci, votre réponse a été enregistrée.",
        "ara": "شكراً، تم تسجيل إجابتك.",
    },
)

FEEDBACK = FlowSpec(
    key="feedback",
    name="Feedback",
    keyword="feedback",
    steps=(
        Step(
            result="Feedback",
            prompt={
                "eng": "What is the biggest challenge at your school this week?",
                "fra": "Quel est le plus grand défi de votre école cette semaine ?",
                "ara": "ما هو أكبر تحدٍ في مدرستك هذا الأسبوع؟",
            },
        ),
    ),
    outro={
        "eng": "Thank you for your feedback.",
        "fra": "Merci pour vos commentaires.",
        "ara": "شكراً على ملاحظاتك.",
    },
)

TERM_REMINDER = FlowSpec(
    key="single_message",
    name="Single Message",
    poll=False,
    steps=(),
    outro={
        "eng": "Reminder: the new school term starts on Monday. Please report enrolment.",
        "fra": "Rappel : le nouveau trimestre commence lundi. Merci de signaler les inscriptions.",
        "ara": "تذكير: يبدأ الفصل الدراسي الجديد يوم الاثنين. يرجى الإبلاغ عن التسجيل.",
    },
)

OLD_ENROLMENT = FlowSpec(
    key="enrolment_2023",
    name="Enrolment 2023 (old)",
    archived=True,
    created_days_ago=600,
    steps=(
        Step(
            result="Total Pupils",
            prompt={"eng": "How many pupils are enrolled in your school?"},
            cases=(Case("has_number", (), "Has Number"),),
        ),
    ),
    outro={"eng": "Thank you."},
)

STOCK = FlowSpec(
    key="stock_levels",
    name="Stock Levels",
    keyword="stock",
    steps=(
        Step(
            result="ACT Doses",
            prompt={"eng": "How many doses of ACT (malaria treatment) are in stock today?"},
            cases=(
                Case("has_number_eq", ("0",), "Stock Out"),
                Case("has_number_lt", ("50",), "Low"),
                Case("has_number_gte", ("50",), "Adequate"),
            ),
            retry={"eng": "Please reply with the number of doses, for example 75."},
        ),
        Step(
            result="ORS Packets",
            prompt={"eng": "How many ORS packets are in stock?"},
            cases=(Case("has_number", (), "Has Number"),),
            retry={"eng": "Please reply with a number."},
            timeout_seconds=21_600,
            timeout_text={"eng": "No ORS count received. Thank you."},
        ),
        Step(
            result="Stock Days",
            wait=False,
            operand="@(round(results.act_doses.value / 5, 0))",
            cases=(
                Case("has_number_lte", ("7",), "One week or less"),
                Case("has_number_gt", ("7",), "More than a week"),
            ),
        ),
    ),
    results=(ResultAction("Reported By", "@input", "Reported"),),
    outro={"eng": "Thank you, stock levels recorded."},
)

SERVICE_RATING = FlowSpec(
    key="service_rating",
    name="Service Rating",
    keyword="rate",
    steps=(
        Step(
            result="Rating",
            prompt={
                "eng": "How would you rate services at the health facility? GOOD, FAIR or POOR?"
            },
            cases=(
                Case("has_any_word", ("good excellent great",), "Good"),
                Case("has_any_word", ("fair ok okay average",), "Fair"),
                Case("has_any_word", ("poor bad terrible",), "Poor"),
            ),
            timeout_seconds=86_400,
            timeout_text={"eng": "We did not get your rating. Thank you."},
            timeout_category="Timed Out",
        ),
    ),
    outro={"eng": "Thank you for rating our services."},
)

PATIENT_COMMENTS = FlowSpec(
    key="patient_comments",
    name="Patient Comments",
    steps=(
        Step(
            result="Comment",
            prompt={"eng": "Any comments from patients this week?"},
            cases=(Case("has_text", (), "Has Text"),),
        ),
    ),
    outro={"eng": "Thank you."},
)

SCHOOL_VISIT = FlowSpec(
    key="school_visit",
    name="School Visit Call",
    flow_type="voice",
    steps=(
        Step(
            result="School Open",
            prompt={"eng": "Press 1 if the school is open today, 2 if closed, 3 if partly."},
            cases=(
                Case("has_number_eq", ("1",), "Open"),
                Case("has_number_eq", ("2",), "Closed"),
                Case("has_number_eq", ("3",), "Partly Open"),
            ),
            hint={"type": "digits", "count": 1},
        ),
        Step(
            result="Teachers Present",
            prompt={"eng": "Enter the number of teachers present, then press the hash key."},
            cases=(Case("has_number_between", ("0", "200"), "Valid"),),
            hint={"type": "digits", "terminated_by": "#"},
        ),
        Step(
            result="Visit Report",
            prompt={"eng": "After the tone, describe what you saw at the school."},
            hint={"type": "audio"},
        ),
    ),
    outro={"eng": "Thank you. Goodbye."},
)

ORG_FLOWS = {
    "edu": (
        ENROLMENT,
        ATTENDANCE,
        TEXTBOOKS,
        FEEDBACK,
        TERM_REMINDER,
        OLD_ENROLMENT,
        SCHOOL_VISIT,
    ),
    "health": (STOCK, SERVICE_RATING, PATIENT_COMMENTS),
}


class _Writer:
    """Accumulates the nodes, localization and `_ui` of one definition."""

    def __init__(self, uid: Callable[..., str], base_lang: str) -> None:
        self.uid = uid
        self.base = base_lang
        self.nodes: list[dict] = []
        self.ui: dict[str, dict] = {}
        self.localization: dict[str, dict] = {}

    def translate(self, lang: str, item_uuid: str, key: str, values: list[str]) -> None:
        if lang != self.base:
            self.localization.setdefault(lang, {})[item_uuid] = {key: values}

    def add(self, node: dict, ui_type: str, column: int = 0) -> dict:
        self.nodes.append(node)
        self.ui[node["uuid"]] = {
            "position": {"left": 100 + 360 * column, "top": 20 + 140 * len(self.ui)},
            "type": ui_type,
        }
        return node

    def message(
        self, name: str, texts: dict[str, str], column: int = 0, voice: bool = False
    ) -> dict:
        kind = "say_msg" if voice else "send_msg"
        action = {"uuid": self.uid(name, "action"), "type": kind, "text": texts[self.base]}
        for lang, text in texts.items():
            self.translate(lang, action["uuid"], "text", [text])
        node = {"uuid": self.uid(name, "node"), "actions": [action], "exits": [{}]}
        node["exits"][0]["uuid"] = self.uid(name, "exit")
        return self.add(node, "execute_actions", column)


def _router(writer: _Writer, step: Step) -> tuple[dict, dict[str, dict]]:
    """The switch router of a step, and its categories by name."""
    uid, name = writer.uid, step.key
    names: list[str] = []
    for case in step.cases:
        if case.category not in names:
            names.append(case.category)
    names.append("Other" if step.cases else "All Responses")
    if step.timeout_seconds:
        names.append(step.timeout_category)
    categories = {
        n: {"uuid": uid(name, "category", n), "name": n, "exit_uuid": uid(name, "exit", n)}
        for n in names
    }
    cases = []
    for i, case in enumerate(step.cases):
        entry = {
            "uuid": uid(name, "case", i),
            "type": case.test,
            "arguments": list(case.args),
            "category_uuid": categories[case.category]["uuid"],
        }
        cases.append(entry)
        for lang, per_case in step.args_tr.items():
            writer.translate(lang, entry["uuid"], "arguments", list(per_case[i]))
    for lang, names_tr in step.categories_tr.items():
        for base_name, translated in names_tr.items():
            if base_name in categories:
                writer.translate(lang, categories[base_name]["uuid"], "name", [translated])
    router: dict = {
        "type": "switch",
        "operand": step.operand,
        "result_name": step.result,
        "cases": cases,
        "categories": list(categories.values()),
        "default_category_uuid": categories["Other" if step.cases else "All Responses"]["uuid"],
    }
    if step.wait:
        router["wait"] = {"type": "msg"}
        if step.hint:
            router["wait"]["hint"] = dict(step.hint)
        if step.timeout_seconds:
            router["wait"]["timeout"] = {
                "seconds": step.timeout_seconds,
                "category_uuid": categories[step.timeout_category]["uuid"],
            }
    return router, categories


def build_definition(
    spec: FlowSpec, flow_uuid: str, uid: Callable[..., str], revision: int
) -> dict:
    """The flow as `definitions.json` serves it."""
    writer = _Writer(uid, "eng")
    voice = spec.flow_type == "voice"
    pending: list[dict] = []  # exits waiting for the next step's first node
    for step in spec.steps:
        first = None
        if step.wait:
            prompt = writer.message(f"{step.key}/prompt", step.prompt, voice=voice)
            first = prompt
        router, categories = _router(writer, step)
        node = {
            "uuid": uid(step.key, "router"),
            "router": router,
            "exits": [{"uuid": c["exit_uuid"]} for c in categories.values()],
        }
        writer.add(node, _ui_type(step))
        if first is None:
            first = node
        else:
            first["exits"][0]["destination_uuid"] = node["uuid"]
        for exit_ in pending:
            exit_["destination_uuid"] = first["uuid"]
        by_exit = {e["uuid"]: e for e in node["exits"]}
        pending = []
        for name, category in categories.items():
            exit_ = by_exit[category["exit_uuid"]]
            if name == "Other" and step.retry:
                retry = writer.message(f"{step.key}/retry", step.retry, column=1)
                retry["exits"][0]["destination_uuid"] = node["uuid"]
                exit_["destination_uuid"] = retry["uuid"]
            elif name == step.timeout_category and step.timeout_text:
                writer.message(f"{step.key}/timeout", step.timeout_text, column=1, voice=voice)
                exit_["destination_uuid"] = writer.nodes[-1]["uuid"]
            else:
                pending.append(exit_)
    if spec.results:
        node = _result_actions(writer, spec.results)
        for exit_ in pending:
            exit_["destination_uuid"] = node["uuid"]
        pending = node["exits"]
    outro = writer.message("outro", spec.outro, voice=voice)
    for exit_ in pending:
        exit_["destination_uuid"] = outro["uuid"]
    return {
        "uuid": flow_uuid,
        "name": spec.name,
        "spec_version": SPEC_VERSION,
        "language": "eng",
        "type": "voice" if voice else "messaging",
        "revision": revision,
        "expire_after_minutes": spec.expires_minutes,
        "localization": writer.localization,
        "nodes": writer.nodes,
        "_ui": {"nodes": writer.ui, "stickies": {}},
    }


def _ui_type(step: Step) -> str:
    """The editor's name for a router node."""
    if not step.wait:
        return "split_by_expression"
    hint = step.hint or {}
    if hint.get("type") == "audio":
        return "wait_for_recording"
    if hint.get("type") == "digits":
        return "wait_for_menu" if hint.get("count") == 1 else "wait_for_digits"
    return "wait_for_response"


def _result_actions(writer: _Writer, results: tuple[ResultAction, ...]) -> dict:
    """One node of `set_run_result` actions (goflow's SetRunResult)."""
    actions = [
        {
            "uuid": writer.uid("results", "action", i),
            "type": "set_run_result",
            "name": result.name,
            "value": result.value,
            "category": result.category,
        }
        for i, result in enumerate(results)
    ]
    node = {
        "uuid": writer.uid("results", "node"),
        "actions": actions,
        "exits": [{"uuid": writer.uid("results", "exit")}],
    }
    return writer.add(node, "execute_actions")
