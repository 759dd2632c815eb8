"""Stop words for word clouds: the function words of TracPro's languages.

Deliberately short lists (articles, pronouns, prepositions, conjunctions,
auxiliaries). The big generic lists also drop words such as "good", "help",
"problem" or "work", which are exactly what open answers to a poll are about.
"""

from collections.abc import Iterable

_WORDS = {
    "en": """
        a about above after again against all am an and any are as at be because been
        before being below between both but by can could did do does doing down during each
        few for from further had has have having he her here hers herself him himself his how no
        i if in into is it it's its itself just me more most my myself nor not of off on once
        only or other our ours ourselves out over own same she should so some such than that
        that's the their theirs them themselves then there these they this those through to
        too under until up very was we were what when where which while who whom why will
        with would you your yours yourself yourselves i'm don't didn't isn't
    """,
    "fr": """
        à au aux avec ce ces cet cette dans de des du elle elles en est et été être eu il ils
        je la le les leur leurs lui ma mais me même mes moi mon ne nos notre nous on ont ou
        où par pas pour qu que qui sa se ses son sont sur ta te tes toi ton tu un une vos
        votre vous y c'est j'ai n'est d'un d'une l'on qu'il
    """,
    "es": """
        a al algo como con de del donde el ella ellas ellos en entre era es esa ese eso esta
        está están este esto fue ha han hay la las le les lo los más me mi mis muy nada ni
        no nos o para pero por que qué se sea ser si sí sin sobre son su sus también te tu
        tus un una uno unos y ya yo
    """,
    "pt": """
        a ao aos as até com como da das de dela dele do dos e é ela elas ele eles em entre
        era essa esse esta está este eu foi há isso isto já la lhe mais mas me meu minha
        muito na não nas nem no nos nós o os ou para pela pelo por que quem se sem ser seu
        sua são também te tem um uma você
    """,
    "sw": """
        na ya wa kwa ni za la cha vya katika hii huu hiyo hilo hicho kuwa au lakini pia sana
        kama ili bila baada kabla juu chini mimi wewe yeye sisi ninyi wao yangu yako yake
        yetu yenu yao hapa pale huko tu bado si hakuna ndiyo hapana
    """,
    "ar": """
        في من على إلى الى عن مع هذا هذه ذلك تلك هو هي هم هن أنا انا نحن أنت انت أنتم كان
        كانت يكون قد لقد لا لم لن ما ماذا هل و أو او ثم بل لكن إن ان أن كل بعض عند عندما
        التي الذي الذين حتى إذا اذا كما أيضا ايضا فقط جدا غير بين بعد قبل منذ
    """,
    "fa": """
        و در به از که این آن را با برای است هست بود شد شود می‌شود نیست هم تا یا اما ولی
        اگر چون پس من تو او ما شما آنها ایشان یک های ها هر چه چی خیلی فقط نه بله دیگر
        روی زیر بین بر بی همه باید کرد کند کنند دارد داریم
    """,  # noqa: RUF001
    "ps": """
        د په او چې له ته هم دا دې یو یوه کې نه خو هغه هغې زه مونږ موږ تاسو دوی دي ده وو
        شو وي سره لپاره پر تر څخه نو یا ولې چیرې کوم څه دغه هر ډېر ډیر ځینې باندې
    """,
}

STOP_WORDS: dict[str, frozenset[str]] = {
    language: frozenset(words.split()) for language, words in _WORDS.items()
}


def stop_words(languages: Iterable[str]) -> list[str]:
    """The stop words of all the given languages (ISO 639-1 codes; unknown ones add none)."""
    found: set[str] = set()
    for language in languages:
        found |= STOP_WORDS.get(language, frozenset())
    return sorted(found)
