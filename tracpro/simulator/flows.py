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
    wait: bool = True
    operand: str = "@input"
    categories_tr: dict[str, dict[str, str]] = field(default_factory=dict)
    args_tr: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return snakify(self.result)


@dataclass(frozen=True)
class FlowSpec:
    key: str
    name: str
    steps: tuple[Step, ...]
    outro: dict[str, str]
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

ORG_FLOWS = {
    "edu": (ENROLMENT, ATTENDANCE, TEXTBOOKS, FEEDBACK, TERM_REMINDER, OLD_ENROLMENT),
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

    def message(self, name: str, texts: dict[str, str], column: int = 0) -> dict:
        action = {"uuid": self.uid(name, "action"), "type": "send_msg", "text": texts[self.base]}
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
        names.append("No Response")
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
        if step.timeout_seconds:
            router["wait"]["timeout"] = {
                "seconds": step.timeout_seconds,
                "category_uuid": categories["No Response"]["uuid"],
            }
    return router, categories


def build_definition(
    spec: FlowSpec, flow_uuid: str, uid: Callable[..., str], revision: int
) -> dict:
    """The flow as `definitions.json` serves it."""
    writer = _Writer(uid, "eng")
    pending: list[dict] = []  # exits waiting for the next step's first node
    for step in spec.steps:
        first = None
        if step.wait:
            prompt = writer.message(f"{step.key}/prompt", step.prompt)
            first = prompt
        router, categories = _router(writer, step)
        node = {
            "uuid": uid(step.key, "router"),
            "router": router,
            "exits": [{"uuid": c["exit_uuid"]} for c in categories.values()],
        }
        writer.add(node, "wait_for_response" if step.wait else "split_by_expression")
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
            elif name == "No Response" and step.timeout_text:
                writer.message(f"{step.key}/timeout", step.timeout_text, column=1)
                exit_["destination_uuid"] = writer.nodes[-1]["uuid"]
            else:
                pending.append(exit_)
    outro = writer.message("outro", spec.outro)
    for exit_ in pending:
        exit_["destination_uuid"] = outro["uuid"]
    return {
        "uuid": flow_uuid,
        "name": spec.name,
        "spec_version": SPEC_VERSION,
        "language": "eng",
        "type": "messaging",
        "revision": revision,
        "expire_after_minutes": spec.expires_minutes,
        "localization": writer.localization,
        "nodes": writer.nodes,
        "_ui": {"nodes": writer.ui, "stickies": {}},
    }
