"""What the simulated orgs look like: regions, groups, fields, names and texts."""

from dataclasses import dataclass, replace

from .flows import ORG_FLOWS, FlowSpec


@dataclass(frozen=True)
class District:
    name: str
    region: str
    propensity: float  # how likely a contact here answers a poll
    size: int  # typical enrolment (boys) or stock level
    parity: float  # girls per boy
    absent: int  # typical absent pupils
    books: tuple[float, float, float]  # enough / some / none
    divisions: tuple[str, ...] = ()  # sub-district groups (a third level of regions)


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    name: str
    languages: tuple[str, ...]
    districts: tuple[District, ...]
    reporters: tuple[str, ...]
    targets: dict[str, tuple[str, ...]]  # flow key -> reporter groups it is started for
    fields: tuple[tuple[str, str, str], ...]
    labels: tuple[str, ...]
    flows: tuple[FlowSpec, ...]
    share: float = 1.0  # part of --contacts / --runs (health: a small fixed share)
    family: str = ""  # "edu" or "health": whose texts and field values it uses


EDU = OrgSpec(
    slug="edu",
    name="Uganda Education Monitoring",
    languages=("eng", "fra", "ara"),
    districts=(
        District(
            "Kampala",
            "Central",
            0.86,
            420,
            1.03,
            18,
            (0.55, 0.35, 0.10),
            divisions=("Kampala Central", "Kawempe", "Makindye", "Nakawa", "Rubaga"),
        ),
        District("Wakiso", "Central", 0.74, 380, 1.01, 22, (0.45, 0.40, 0.15)),
        District("Mukono", "Central", 0.62, 300, 0.98, 25, (0.40, 0.40, 0.20)),
        District("Gulu", "Northern", 0.46, 260, 0.86, 38, (0.20, 0.45, 0.35)),
        District("Lira", "Northern", 0.31, 240, 0.83, 44, (0.15, 0.45, 0.40)),
        District("Jinja", "Eastern", 0.70, 330, 0.97, 24, (0.40, 0.45, 0.15)),
        District("Mbale", "Eastern", 0.52, 290, 0.93, 30, (0.30, 0.45, 0.25)),
        District("Mbarara", "Western", 0.66, 310, 0.99, 21, (0.35, 0.45, 0.20)),
        District("Kasese", "Western", 0.27, 220, 0.90, 47, (0.15, 0.40, 0.45)),
    ),
    reporters=("Head Teachers", "Grade 5 Teachers", "SMC Members"),
    targets={
        "enrolment": ("Head Teachers",),
        "attendance": ("Grade 5 Teachers", "Head Teachers"),
        "textbooks": ("Grade 5 Teachers",),
        "feedback": ("SMC Members", "Head Teachers"),
        "single_message": ("Head Teachers", "Grade 5 Teachers", "SMC Members"),
        "school_visit": ("Head Teachers",),
    },
    fields=(
        ("facility_code", "Facility Code", "text"),
        ("gender", "Gender", "text"),
        ("district", "District", "district"),
        ("school_type", "School Type", "text"),
        ("enrolled_on", "Enrolled On", "datetime"),
        ("head_count", "Head Count", "number"),
    ),
    labels=("Urgent", "Textbooks", "Training"),
    flows=ORG_FLOWS["edu"],
    family="edu",
)

HEALTH = OrgSpec(
    slug="health",
    name="Uganda Health Monitoring",
    languages=("eng",),
    districts=(
        District("Gulu", "Northern", 0.58, 90, 1.0, 0, (0.5, 0.3, 0.2)),
        District("Lira", "Northern", 0.41, 70, 1.0, 0, (0.4, 0.4, 0.2)),
        District("Mbale", "Eastern", 0.67, 110, 1.0, 0, (0.5, 0.3, 0.2)),
        District("Kasese", "Western", 0.36, 60, 1.0, 0, (0.3, 0.4, 0.3)),
    ),
    reporters=("Village Health Teams", "Facility In-Charges"),
    targets={
        "stock_levels": ("Facility In-Charges",),
        "service_rating": ("Village Health Teams",),
        "patient_comments": ("Village Health Teams", "Facility In-Charges"),
    },
    fields=(
        ("facility_code", "Facility Code", "text"),
        ("gender", "Gender", "text"),
        ("district", "District", "district"),
        ("facility_level", "Facility Level", "text"),
        ("registered_on", "Registered On", "datetime"),
        ("catchment_population", "Catchment Population", "number"),
    ),
    labels=("Stockout", "Complaint"),
    flows=ORG_FLOWS["health"],
    share=0.1,
    family="health",
)

ORG_SPECS = (EDU, HEALTH)


def org_specs(count: int = len(ORG_SPECS)) -> tuple[OrgSpec, ...]:
    """The workspaces to serve (`--orgs`): edu and health, then small workspaces
    ws03, ws04, ... shaped like edu and health in turn, each with its own slug (so
    its own token and UUIDs) and health's small share of --contacts / --runs."""
    extra = tuple(
        replace(
            EDU if number % 2 else HEALTH,
            slug=f"ws{number:02d}",
            name=f"Workspace {number:02d}",
            share=HEALTH.share,
        )
        for number in range(len(ORG_SPECS) + 1, count + 1)
    )
    return ORG_SPECS[:count] + extra


# health gets 10% of --contacts / --runs, within these bounds
HEALTH_CONTACTS = (20, 300)
HEALTH_RUNS = (100, 3000)

LANGUAGE_MIX = {  # by region: eng / fra / ara / none
    "Central": (0.90, 0.05, 0.02, 0.03),
    "Eastern": (0.88, 0.06, 0.02, 0.04),
    "Northern": (0.72, 0.04, 0.20, 0.04),
    "Western": (0.78, 0.16, 0.02, 0.04),
}

FIRST_NAMES = {
    "eng": [
        "Grace",
        "Moses",
        "Sarah",
        "Joseph",
        "Agnes",
        "Peter",
        "Florence",
        "Isaac",
        "Esther",
        "Samuel",
        "Ruth",
        "David",
        "Harriet",
        "Emmanuel",
        "Betty",
        "Ronald",
        "Juliet",
        "Patrick",
        "Doreen",
        "Henry",
        "Scovia",
        "Brian",
        "Prossy",
        "Denis",
        "Winnie",
        "Robert",
        "Annet",
        "Charles",
        "Immaculate",
        "Godfrey",
    ],
    "fra": [
        "Jean-Pierre",
        "Marie",
        "Claude",
        "Espérance",
        "Emmanuel",
        "Chantal",
        "Innocent",
        "Béatrice",
        "Désiré",
        "Solange",
    ],
    "ara": [
        "Amina",
        "Hassan",
        "Fatima",
        "Abdallah",
        "Mariam",
        "Yusuf",
        "Khadija",
        "Ibrahim",
        "Zainab",
        "Omar",
    ],
    "ara-script": [
        "أمينة",
        "حسن",
        "فاطمة",
        "عبدالله",
        "مريم",
        "يوسف",
        "خديجة",
        "إبراهيم",
        "زينب",
        "عمر",
    ],
}
LAST_NAMES = {
    "eng": [
        "Okello",
        "Nakato",
        "Mukasa",
        "Achieng",
        "Opio",
        "Namubiru",
        "Kato",
        "Atim",
        "Ssekandi",
        "Babirye",
        "Wasswa",
        "Nambi",
        "Odongo",
        "Nansubuga",
        "Tumusiime",
        "Kyomuhendo",
        "Mugisha",
        "Akello",
        "Ocen",
        "Nalwanga",
        "Byaruhanga",
        "Auma",
        "Kiggundu",
        "Nakitende",
        "Ochieng",
        "Asiimwe",
        "Muwanga",
        "Apio",
        "Tusiime",
        "Lubega",
    ],
    "fra": [
        "Habimana",
        "Uwimana",
        "Niyonzima",
        "Mukamana",
        "Ndayisaba",
        "Mbuyi",
        "Nshimiyimana",
        "Bizimana",
        "Uwase",
        "Kabongo",
    ],
    "ara": [
        "Deng",
        "Abdelrahman",
        "Mohamed",
        "Ali",
        "Osman",
        "Juma",
        "Taban",
        "Lado",
        "Wani",
        "Ismail",
    ],
    "ara-script": [
        "دينق",
        "عبدالرحمن",
        "محمد",
        "علي",
        "عثمان",
        "جمعة",
        "تعبان",
        "لادو",
        "واني",
        "إسماعيل",
    ],
}

FEEDBACK = {
    "eng": (
        "Many pupils are absent because of the harvest season.",
        "We need more desks for the P5 classroom.",
        "The latrines are full and need emptying.",
        "Two teachers are on sick leave this week.",
        "Heavy rains damaged the roof of one classroom.",
        "Parents cannot afford the exam fees.",
        "School feeding stopped this week, attendance dropped.",
        "We have no chalk and very few exercise books.",
        "The borehole is broken, children fetch water far away.",
        "Teachers have not received their salaries for two months.",
        "Girls miss school during their periods, we need sanitary pads.",
        "Everything is going well, thank you.",
    ),
    "fra": (
        "Beaucoup d'élèves sont absents à cause de la récolte.",
        "Nous manquons de bancs pour la classe de P5.",
        "Les latrines sont pleines.",
        "Deux enseignants sont malades cette semaine.",
        "La pluie a endommagé le toit d'une salle de classe.",
        "Les parents ne peuvent pas payer les frais d'examen.",
        "Tout va bien, merci.",
    ),
    "ara": (
        "كثير من التلاميذ غائبون بسبب موسم الحصاد.",
        "نحتاج إلى مزيد من المقاعد لفصل الصف الخامس.",
        "المراحيض ممتلئة وتحتاج إلى تفريغ.",
        "معلمان في إجازة مرضية هذا الأسبوع.",
        "الأمطار الغزيرة أتلفت سقف أحد الفصول.",
        "الأهالي لا يستطيعون دفع رسوم الامتحانات.",
        "كل شيء على ما يرام، شكراً.",
    ),
}

PATIENT_COMMENTS = (
    "Patients waited more than four hours to be seen.",
    "The nurse was very helpful and kind.",
    "No malaria tests were available on Tuesday.",
    "The maternity ward needs more beds.",
    "Patients asked for evening opening hours.",
    "Drugs were out of stock, patients were sent to buy them.",
    "Good service this week.",
)

INBOX = {
    "eng": (
        "Hello, when is the next teacher training?",
        "Our school was closed today because of heavy rain.",
        "Please send more textbooks for P5.",
        "How do I report enrolment for the new term?",
        "URGENT: a classroom roof collapsed this morning.",
        "Thank you for the reminder.",
        "The head teacher has been transferred, who reports now?",
        "We received the textbooks, thank you.",
    ),
    "fra": (
        "Bonjour, quand aura lieu la prochaine formation ?",
        "L'école était fermée aujourd'hui à cause de la pluie.",
        "Merci d'envoyer plus de manuels pour la P5.",
    ),
    "ara": (
        "مرحباً، متى التدريب القادم للمعلمين؟",
        "أغلقت المدرسة اليوم بسبب الأمطار.",
        "نرجو إرسال المزيد من الكتب المدرسية.",
    ),
}

HEALTH_INBOX = (
    "We have run out of ACT, please resupply.",
    "The fridge for vaccines is not working.",
    "When is the next VHT meeting?",
    "A patient complained about the waiting time.",
    "Thank you.",
)

BROADCASTS = {
    "edu": (
        "Reminder: please submit this week's attendance report by Friday.",
        "Term 2 enrolment figures are due next Monday.",
        "Teacher training will take place at the district office on Saturday.",
        "Thank you to all schools that reported last week!",
    ),
    "health": (
        "Reminder: report stock levels every Monday.",
        "VHT meeting at the health centre on Thursday.",
    ),
}

TEXTBOOK_WORDS = {
    "eng": (
        ("Enough", "yes enough", "ENOUGH books"),
        ("Some", "some", "few"),
        ("None", "no", "NONE"),
    ),
    "fra": (("assez", "oui assez"), ("quelques", "peu"), ("aucun", "non")),
    "ara": (("كافية", "نعم كافية"), ("بعض", "قليل"), ("لا يوجد", "لا")),
}
UNCLEAR = {
    "eng": ("not sure", "I will check", "many", "?"),
    "fra": ("je ne sais pas", "beaucoup"),
    "ara": ("لا أعرف", "كثير"),
}
