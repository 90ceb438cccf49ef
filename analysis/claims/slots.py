"""Non-numeric slots of a sentence: places, sectors, direction of change, and who it is about (the subject gate).

Every function takes text already passed through ``prepare_text`` (casefolded), except where noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from analysis.claims.alternation import by_first_letter
from analysis.claims.attribution import without_attributions
from analysis.claims.places import GAZETTEER

_PARENTS = {name: parents for name, (_, parents) in GAZETTEER.items() if parents}


class _Lexicon:
    """Named alternatives compiled into one regex, so that a text is scanned once for all of them."""

    def __init__(self, patterns: dict[str, str], before: str = r"\b", after: str = r"\b") -> None:
        self._names = list(patterns)
        groups = "|".join(f"(?P<g{index}>{pattern})" for index, pattern in enumerate(patterns.values()))
        self._regex = re.compile(f"{before}(?:{groups}){after}")
        # The same alternatives without the groups or the closing context: a match of the full regex always starts
        # where this one does, and the regex engine tries it several times faster (no group to enter per name).
        self._scan = re.compile(f"{before}(?:{by_first_letter(patterns.values())})")

    def names(self, text: str) -> frozenset[str]:
        """The names whose alternatives occur in ``text`` (the matches of ``finditer``, found faster)."""
        found = set()
        position = 0
        while (hit := self._scan.search(text, position)) is not None:
            match = self._regex.match(text, hit.start())
            if match is None:
                position = hit.start() + 1
                continue
            found.add(self._names[int(str(match.lastgroup)[1:])])
            position = max(match.end(), hit.start() + 1)
        return frozenset(found)


_WORD_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


class _PhraseIndex:
    """Plain phrases of one to three words looked up by word n-grams: faster than one huge regex alternation."""

    def __init__(self, phrases: dict[str, str]) -> None:
        self._names = {
            phrase.strip(): name for name, alternatives in phrases.items() for phrase in alternatives.split("|")
        }
        # Only a word that begins some phrase can begin a match: the n-grams are built from those words only.
        self._first_words = frozenset(phrase.split(" ", 1)[0] for phrase in self._names)

    def names(self, text: str) -> frozenset[str]:
        """The names whose phrases occur in ``text`` as whole words."""
        words = _WORD_RE.findall(text)
        found = set()
        for start, word in enumerate(words):
            if word not in self._first_words:
                continue
            for size in (1, 2, 3):
                if start + size > len(words):
                    break
                name = self._names.get(word if size == 1 else " ".join(words[start : start + size]))
                if name is not None:
                    found.add(name)
        return frozenset(found)


_PLACES = _PhraseIndex({name: phrases for name, (phrases, _) in GAZETTEER.items()})
# The US written "US"/"U.S." is told from the pronoun "us" by case, so it is looked for in the raw text.
_US_RE = re.compile(r"\bU\.?S\.?(?![\w$])")
_SOURCE_RE = re.compile(
    r"(?i)\b[\w.']+(?:'s)?(?:\s+(?:official|state|central|own|national|military|statistics))?\s+"
    r"(?:intelligence|spy|agency|officials|government|ministry|authorities|data|figures|statistics|media|customs"
    r"|treasury|court|central bank|justice department|state department)\b"
)
_SOURCE_WORD_RE = re.compile(
    r"\b(?:intelligence|spy|agency|officials|government|ministry|authorities|data|figures|statistics|media|customs"
    r"|treasury|court|central bank|justice department|state department)\b"
)
# Places inside North Korea: workers there are not overseas labour.
_DOMESTIC_RE = re.compile(
    r"\b(?:kaesong|rason|sinuiju|wonsan|hamhung|chongjin|nampo|hyesan|in pyongyang"
    # Pyongyang's own projects: "Pyongyang's new Hwasong housing district" (not "Pyongyang's workers abroad").
    r"|pyongyang's (?:new |own )?(?:[\w-]+ ){0,2}(?:district|housing|apartments|hospital|street|stadium)s?)\b"
)

_SECTOR_PATTERNS: dict[str, str] = {
    "construction": r"construction|building sites?|building projects?|builders?|construction sites?",
    "seafood": r"seafood|fish[- ]processing|fish|shellfish|squid",
    "logging": r"logging|loggers?|timber|lumber|forestry",
    "clothing": r"clothing|clothes|garments?|textiles?|sewing|sew|apparel",
    "it": r"information technology|software|tech|technology|it workers?|it jobs?",
    "restaurants": r"restaurants?|waitress(?:es)?|catering",
    "farming": r"farms?|farming|agriculture|agricultural|farmhands?",
    "mining": r"mines?|mining|miners?",
    "shipyards": r"shipyards?|shipbuilding",
    "medical": r"medical|hospitals?|doctors|nurses",
    "fishing": r"fishing|fishermen|fleets?",
    "electronics": r"electronics|electronic (?:parts|components|goods|devices)|circuit boards?"
    r"|(?:mobile |smart)?phone (?:parts|components)",
    "wigs and eyelashes": r"wigs?|hairpieces?|(?:false |fake )?eyelashes",
    "food processing": r"food (?:plants?|factor(?:y|ies)|processing)",
}
_IT_RE = re.compile(r"(?<![A-Za-z0-9])IT(?![A-Za-z0-9])")
_SECTORS = _Lexicon(_SECTOR_PATTERNS, r"(?<![\w-])", r"(?![\w-])")
# "on farms rather than construction sites", "fish-processing plants, not building sites": what follows is what it
# is not ("…, not only in construction" adds instead). The negated words run to the end of the clause, at most four.
_NEGATED_RE = re.compile(
    r"(?:\b(?:rather than|instead of|not in|not on|not at)|(?<=,)\s*not(?! (?:only|just|merely|least|yet|even|all"
    r"|always)\b))\b(?:[^\w.;:!?]+\w+){1,4}"
)
# "Besides construction, …", "beyond building sites": what follows is the known background, not what the sentence
# says of the workers' trade. The words run to the end of the phrase, at most three, never past a comma.
_BACKGROUND_RE = re.compile(
    r"\b(?:besides|apart from|aside from|beyond|in addition to|other than)\b(?:[^\w.;:!?,]+[\w-]+){1,3}",
    re.IGNORECASE,  # also read in the uncased text, where "IT" is found
)
# Who the workers are: sex and age, when a sentence says so.
_PROFILE = _Lexicon(
    {
        "women": r"women|woman|female|females|girls|waitress(?:es)?",
        "men": r"men|man|male|males",
        "young": r"young|younger|teenage\w*|in their (?:teens|twenties|20s)",
        "older": r"middle-aged|elderly|older|in their (?:forties|fifties|sixties|40s|50s|60s)",
    }
)

# Kinds of visa, by the word before "visa(s)": "on student and tourist visas" names two.
_VISA_KINDS = {"student": r"student|study|educational", "training": r"training|trainee|internship",
               "tourist": r"tourist|visitor|travel",
               "work": r"work|working|labou?r|employment", "business": r"business|commercial",
               "diplomatic": r"diplomatic|official|service", "transit": r"transit"}
_VISA_RE = re.compile(
    r"\b(?P<kinds>(?:(?:" + "|".join(_VISA_KINDS.values()) + r")(?:\s*(?:,|and|or|·|/)\s*)?)+)\s*visas?\b"
)
_VISA_KIND_RE = re.compile("|".join(f"(?P<{name}>\\b(?:{words})\\b)" for name, words in _VISA_KINDS.items()))
# Whether something is barred or allowed: "barred countries from issuing" vs "allowed them to continue issuing".
_BAN_RE = re.compile(
    r"\b(?:bann?(?:ed|s|ing)?|barr(?:ed|ing)|bars|prohibit\w*|forb[ai]d\w*|outlaw\w*|stopped (?:granting|issuing)"
    r"|suspend\w* (?:the )?(?:granting|issuing|issuance)|halted (?:granting|issuing))\b"
)
# Whether the workers may go out: "confined to company compounds", "kept inside", "locked in their dormitories"
# against "free to leave", "walk around town unsupervised". Not whether something is allowed at all: "plants
# continue to employ North Koreans" says nothing of the women's freedom.
_CONFINED_RE = re.compile(
    r"\b(?:confined (?:to|in|inside)|kept (?:inside|indoors|in their)|locked (?:in|inside|up)"
    r"|(?:rarely|seldom|never|not) (?:be )?(?:allowed|permitted) to (?:leave|go out)|cannot leave|can't leave)\b"
)
_FREE_RE = re.compile(
    r"\b(?:free(?:ly)? to (?:leave|go|come)|(?:may|can) (?:leave|go out|come and go)|leave freely|come and go"
    r"|walk around (?:\w+ )?unsupervised|go out (?:freely|unsupervised))\b"
)
_ALLOW_RE = re.compile(
    r"\b(?:allow(?:ed|s|ing)?|permitted|permits? (?:countries|states|them|workers)|let (?:countries|states)"
    r"|free(?:ly)? to (?:leave|go|come)|(?:may|can) (?:leave|go out|come and go)|leave freely|come and go"
    r"|continu\w+ (?:to (?:issue|grant|hire|employ|send)|issuing|granting|hiring)|resum\w+|lift\w* (?:the )?ban)\b"
)
_INCREASE = r"ris(?:e|es|ing|en)|rose|increas\w*|grow|grew|grown|growing|more (?:frequent|common|often)"
_INCREASE += r"|surg\w+|climb\w*|higher|jump\w*|soar\w*|doubl\w+|expand\w*|easier|up from|more and more"
_DECREASE = r"fall|fell|fallen|falling|drop\w*|declin\w+|decreas\w+|rarer|rare|less (?:frequent|common|often)"
_DECREASE += r"|fewer(?! than)|lower|cut|cuts|shrank|shrink\w*|reduc\w+|plung\w+|slump\w*|harder|down from"
_DECREASE += r"|less and less"
_INWARD = r"entered|enter|entering|enters|arriv\w+|crossed into|came to|sent to|sends? \w+ to|dispatch\w* to|brought in"
_INWARD += r"|took in|flocked to|hired|recruited"
_OUTWARD = r"left|leave|leaving|departed|depart\w*|returned home|went home|repatriat\w+|expelled|deported"
_OUTWARD += r"|sen[dt] (?:\w+ ){0,4}(?:home|back)|withdr[ae]w\w*|pulled out"
# Keeping workers where they are: "let them stay", "keep employing them", "delayed their repatriation".
_STAY_RE = re.compile(
    r"\b(?:let (?:\w+ ){0,2}(?:stay|remain)|allow\w* (?:\w+ ){0,2}to (?:stay|remain)|keep (?:employing|hiring)"
    r"|continu\w* (?:to (?:employ|hire)|employing|hiring)|(?:delay|postpon|put off)\w* (?:\w+ ){0,3}repatriat\w+"
    r"|(?:declined|refused|failed|did not|didn't|has not|hasn't|have not) (?:yet )?(?:to )?(?:send|sent|return)"
    r" (?:\w+ ){0,3}(?:home|back))\b"
)
_INWARD_RE = re.compile(rf"\b(?:{_INWARD})\b")
_OUTWARD_RE = re.compile(rf"\b(?:{_OUTWARD})\b")
_INCREASE_RE = re.compile(rf"\b(?:{_INCREASE})\b")
_DECREASE_RE = re.compile(rf"\b(?:{_DECREASE})\b")

# North Korea by name, and the state organisations that only ever mean North Korea.
_DPRK_RE = re.compile(
    r"\b(?:north korean?s?|north korea's|dprk|pyongyang|n\.\s?korean?|the north|kim jong[- ]un|mansudae"
    r"|the regime|kim's|workers' party of korea|korean people's army|reconnaissance general bureau"
    r"|chongryon|komid"
    # The UN's sanctions committee on North Korea and its panel, named without the country in reporting on it.
    r"|panel of experts|1718 committee)\b"
)
_WORKER_NOUN = (
    r"workers?|labou?rers?|labou?r|workforce|manpower|employees?|staff|waitress(?:es)?|builders?|loggers?"
    r"|deminers?|mine-clearers?|specialists|crews?|welders|seamstresses|migrants?|nationals"
    r"|developers|programmers|coders|engineers|technicians|miners|sappers|personnel"
)
# "student" and "tourist" in "on student and tourist visas" name kinds of visa, not who the sentence is about.
_NOT_A_VISA = r"(?!(?:\s*(?:,|and|or|·|/)\s*[\w-]+)*\s*visas?\b)"
_ROLE_PATTERNS: dict[str, str] = {
    # First, so that its words win where a worker word starts them ("crew members" are sailors, "crews" workers).
    "sailor": r"sailors?|seamen|seafarers?|crew members?|crewmen|fishermen|fishing crews?",
    "worker": _WORKER_NOUN,
    "soldier": r"soldiers?|troops?|servicemen|infantry|conscripts|army|military personnel",
    "hacker": r"hackers?|hacking|cyber\w*",
    "defector": r"defectors?|refugees?|escapees",
    "diplomat": r"diplomats?|ambassadors?|envoys?",
    "student": rf"students?{_NOT_A_VISA}",
    "tourist": rf"(?:tourists?|visitors?){_NOT_A_VISA}|holiday\w*",
    "prisoner": r"prisoners?|prison|inmates?",
}
_ROLES = _Lexicon(_ROLE_PATTERNS)
# Roles that make a sentence about someone else even when it also speaks of workers ("troops used as workers").
_STRONG_ROLES = frozenset({"soldier", "hacker", "prisoner"})
_WORKER_RE = re.compile(rf"\b(?:{_WORKER_NOUN})\b")
# Words saying that someone works or is sent to work: the predicate of nearly every labour claim.
_LABOUR_RE = re.compile(
    rf"\b(?:{_WORKER_NOUN}|working|worked|employed|employment|jobs?|hired|dispatch\w*|deployed"
    r"|repatriat\w+|work permits?|work authoris\w+|to work|put to work|camps|sites|factories|plants|workshops"
    # Pay is earned by work: "the money North Koreans make overseas", "their wages", "the women's monthly pay".
    r"|wages?|salar(?:y|ies)|earnings|(?:earn\w*|make|made|making)\s+(?:\w+\s+)?(?:abroad|overseas)"
    r"|(?:their|his|her|monthly|daily|weekly|annual|yearly|average|typical|take-home|(?:wo)?m[ae]n's|workers')\s+pay"
    r"|what (?:[\w-]+\s+){1,6}earn"
    # Working time: "shifts of 19 hours", "days of twenty-one hours", "a 14-hour working day".
    r"|shifts?|working (?:days?|hours|weeks?)|workdays?|hours a day|hours every day|hours per day|\d+[- ]hour days?"
    r"|days of (?:[\w-]+ )?hours"
    # Verbs of the trades: "sew garments", "assemble phones", "toil".
    r"|sew(?:s|ing|n|ed)?|stitch\w*|assembl\w+|toil\w*)\b"
    r"|(?<!stopped )(?<!ceased )(?<!halted )\bwork(?:s)?\s+(?:abroad|overseas|in|on|at|for|as|long|up)\b"
)
# Events a sentence may report that change what it is about when the claim reports no such thing.
_EVENTS: dict[str, str] = {
    "death": r"died|dies|killed|death|deaths|dead",
    "sanctioning": r"(?:has|have|had|was|were|been)\s+sanctioned|sanctioned\s+(?:by|several|\w+\s+firms)|blacklisted"
    r"|put under (?:\w+\s+)?sanctions|added (?:\w+\s+){1,8}to (?:its|the) sanctions list",
    "prosecution": r"jailed|arrested|convicted|indicted|sentenced|charged|pleaded guilty",
    "extortion": r"extort\w*|blackmail\w*|ransom",
    "theft": r"stole|steal|hacked|heist",
    "combat": r"battle|fight|fighting|combat|casualties|front line",
    # A limit broken is not the limit set: "deliveries exceeded the 500,000-barrel cap" is not "capped at 500,000".
    "breach of a limit": r"(?:exceed(?:ed|s|ing)?|breach(?:ed|es|ing)?|overshot|overshoot\w*|surpass(?:ed|es|ing)?"
    r"|violat(?:ed|es|ing)|broke|went over|more than)\s+(?:[\w,.-]+\s+){0,4}?(?:cap|ceiling|limit|quota)s?",
}
_EVENTS_LEXICON = _Lexicon(_EVENTS)
# A condition that frames the whole report ("If sanctions were lifted, …", "Should the Council revive the panel,
# …"): what would happen, not what is reported to have happened.
_HYPOTHETICAL_RE = re.compile(r"^\s*(?:if|should|were|unless|were it not)\b[^,]{3,120},")
_NATIONALITY = (
    r"chinese|russian|nepali|nepalese|vietnamese|uzbek|central asian|indian|sri lankan|uyghur|polish|bangladeshi"
    r"|filipino|tajik|kyrgyz|south korean|mongolian|ukrainian|foreign|local|migrant"
)
_FOREIGN_BEFORE_RE = re.compile(rf"\b(?:{_NATIONALITY})(?:\s+[\w-]+){{0,2}}\s*$")
# People of another nationality named by sex or as people ("local Chinese women", "Uzbek men"): other workers
# when the sentence is about work, as the subject gate reads it.
_FOREIGN_PEOPLE_RE = re.compile(rf"\b(?:{_NATIONALITY})\s+(?:women|men|people|girls|nationals|citizens)\b")
_FOREIGN_COUNTRIES = (
    r"china|russia|india|sri lanka|nepal|vietnam|uzbekistan|tajikistan|kyrgyzstan|bangladesh|the philippines"
    r"|central asia|south korea|mongolia|ukraine|pakistan|indonesia|myanmar|abroad"
)
_FROM_AFTER_RE = re.compile(rf"^\s+from\s+(?:{_FOREIGN_COUNTRIES})\b")
_DPRK_BEFORE_RE = re.compile(r"\b(?:north korean?s?|north korea's|dprk|pyongyang's|the north's)(?:\s+[\w-]+){0,2}\s*$")
# "workers from North Korea", "workers of the DPRK", and glossed Russian "рабочих КНДР" (workers of the DPRK).
_DPRK_AFTER_RE = re.compile(r"^\s+(?:(?:from|of)\s+)?(?:north korea|the dprk|dprk|pyongyang)")


@dataclass(frozen=True)
class Subject:
    """Who a sentence is about, as the subject gate sees it."""

    mentions_dprk: bool
    roles: frozenset[str]
    dprk_workers: bool
    foreign_workers: bool
    labour: bool
    domestic: bool
    events: frozenset[str] = frozenset()


def _closure(places: set[str]) -> set[str]:
    return places | {parent for place in places for parent in _PARENTS.get(place, ())}


def places(text: str, raw: str = "") -> frozenset[str]:
    """The places named in ``text`` (North Korea itself excluded); ``raw`` is the uncased text, for "US".

    A place named only as a source ("Seoul's spy agency", "Russian data") says who reports, not where, and
    is left out.
    """
    # Taking out sources never makes "US" appear, so the raw text is only cleaned when it names the US.
    us_in_raw = bool(raw) and _US_RE.search(raw) is not None
    if _SOURCE_WORD_RE.search(text):
        text = _SOURCE_RE.sub(" ", text)
        if us_in_raw:
            us_in_raw = _US_RE.search(_SOURCE_RE.sub(" ", raw)) is not None
    found = set(_PLACES.names(text))
    if us_in_raw:
        found.add("united states")
    return frozenset(found)


def place_closure(found: frozenset[str]) -> frozenset[str]:
    """The places together with the regions and countries that contain them."""
    return frozenset(_closure(set(found)))


def sectors(text: str, raw: str = "") -> frozenset[str]:
    """The economic sectors named in ``text``, leaving out those negated ("rather than construction").

    ``raw`` is the uncased text: "IT" is told from the pronoun "it" by case.
    """
    text = _BACKGROUND_RE.sub(" ", _NEGATED_RE.sub(" ", text))
    found = set(_SECTORS.names(text))
    if raw and _IT_RE.search(_BACKGROUND_RE.sub(" ", _NEGATED_RE.sub(" ", raw))):
        found.add("it")
    return frozenset(found)


def background_sectors(text: str) -> frozenset[str]:
    """The sectors a sentence names as known background ("besides construction, …" → construction)."""
    return frozenset(name for match in _BACKGROUND_RE.finditer(text) for name in _SECTORS.names(match.group(0)))


def negated_sectors(text: str) -> frozenset[str]:
    """The sectors a sentence says are not the case ("on farms rather than construction sites" → construction)."""
    return frozenset(name for match in _NEGATED_RE.finditer(text) for name in _SECTORS.names(match.group(0)))


# Who takes, holds, estimates or reports: the actors of labour claims that are not places ("taken by the state",
# "a UN special rapporteur estimated"). Countries are the place slot's; an actor changed is an update.
_ACTORS = _Lexicon(
    {
        "the north korean state": r"the state|the regime|the government in pyongyang|the authorities in pyongyang"
        r"|pyongyang|the (?:ruling )?party|state coffers|the treasury in pyongyang",
        "employers": r"(?:their |the |russian |chinese |local )?employers?|(?:the )?contractors?",
        "brokers": r"brokers?|middlem[ae]n|intermediar(?:y|ies)|agents|agencies that recruit",
        "the un": r"un (?:special )?rapporteur|special rapporteur|un panel|panel of experts|un sanctions monitors"
        r"|sanctions monitors|un monitors|un experts|un investigators",
        "the us government": r"us state department|state department|us treasury|treasury department|washington",
        "south korean intelligence": r"nis|national intelligence service|south korean intelligence"
        r"|south korea's (?:spy|intelligence) agency|seoul's (?:spy|intelligence) (?:agency|service)|spy agency",
    }
)


# Who imposed the sanctions a sentence speaks of ("put under UN sanctions" is not "hit by US sanctions"). Read only
# in a sentence about sanctions, so that a body named for another reason (a Washington official quoted) is no
# sanctioner; a sentence naming two bodies names both, and then contradicts no claim.
_SANCTIONERS = _Lexicon(
    {
        "the un": r"un|united nations|(?:un )?security council|unsc",
        "the united states": r"us|u\.s\.|united states|american|washington|us treasury|ofac|caatsa",
        "the eu": r"eu|european union|brussels",
        "japan": r"japan|japanese|tokyo",
        "south korea": r"south korea|south korean|seoul",
    }
)
_SANCTION_RE = re.compile(r"\bsanction")


def sanctioners(text: str) -> frozenset[str]:
    """The bodies whose sanctions a sentence speaks of: every one it names, when it speaks of sanctions at all."""
    if _SANCTION_RE.search(text) is None:
        return frozenset()
    return _SANCTIONERS.names(text)


# What a sentence is about besides work, pay and numbers: health, food, discipline and the like. A sentence on one
# of these that the claim does not speak of says something else about the same people ("workers injured on Russian
# building sites are denied medical treatment" is not "most are put to work on construction sites"). Housing is
# not among them: copy mentions it in passing ("housed in dormitories") where the claim is what it reports.
_TOPICS = _Lexicon(
    {
        "health": r"injur(?:ed|y|ies)|medical (?:care|treatment|help)|illness(?:es)?|sick|sickness|health|died|deaths?"
        r"|killed|fatal(?:ly|ities)?",
        "food": r"food(?! (?:plants?|factor\w+|processing|industry))|meals?|rations?|hunger|hungry|malnourish\w*",
        "punishment": r"punish\w*|beaten|beatings?|jailed|executed|self-criticism|criticism sessions?",
        "training": r"training(?! visas?)|trained|indoctrinat\w+|ideological (?:sessions?|education|lectures?|classes)"
        r"|political (?:sessions?|lectures?|study|vetting)",
        "recruitment": r"recruitment fees?|bribes?|bribing|vetted|vetting|screened|screening|political checks?"
        r"|selection criteria|political vetting",
        "accident": r"fires?|blaze|explosions?|accidents?",
        "legal action": r"fined|fines|prosecutors?|prosecuted|prosecution|lawsuits?|sued|court",
        "protest": r"protest\w*|strikes?|striking|walked off|walk-?outs?|riot\w*",
        "detention": r"detained|detention|arrested|arrests?|deported|deportations?",
    }
)


def topics(text: str) -> frozenset[str]:
    """The topics besides work, pay and numbers that a sentence speaks of (``_TOPICS``)."""
    return _TOPICS.names(without_attributions(text))


# Goods a figure can be of ("4 million barrels of crude oil" is not the cap on refined petroleum).
_COMMODITIES = _Lexicon(
    {
        "refined petroleum": r"refined (?:petroleum|oil|fuel)(?: products)?|petrol|gasoline|diesel|jet fuel",
        "crude oil": r"crude(?: oil)?",
        "coal": r"coal",
        "iron and steel": r"iron(?: ore)?|steel",
        "machinery and vehicles": r"(?:industrial )?machinery|machines|vehicles|trucks",
        "weapons": r"weapons|arms|ammunition|(?:artillery )?shells|missiles",
        "food": r"food(?:stuffs?)?|grain|rice|wheat|flour",
    }
)


def commodities(text: str) -> frozenset[str]:
    """The goods a sentence names (``_COMMODITIES``)."""
    return _COMMODITIES.names(text)


# Named eras and the years they span: "since the Soviet era" is not "only since the early 2000s".
ERAS: dict[str, tuple[int, int]] = {
    "the soviet era": (1922, 1991),
    "the cold war": (1947, 1991),
    "the post-soviet years": (1992, 9999),
}
_ERAS = _Lexicon(
    {
        "the soviet era": r"soviet (?:era|times|period|days|years|union)|ussr|the soviets",
        "the cold war": r"cold war",
        "the post-soviet years": r"post-soviet|after the (?:fall|collapse|end|break-up) of the soviet union",
    }
)


def eras(text: str) -> frozenset[str]:
    """The named eras a sentence speaks of (``ERAS``); "post-soviet" is not the Soviet era."""
    found = _ERAS.names(text)
    return found - {"the soviet era"} if "the post-soviet years" in found else found


def actors(text: str) -> frozenset[str]:
    """The actors a sentence names (``_ACTORS``), leaving out those it denies ("rather than the state")."""
    return frozenset(_ACTORS.names(_NEGATED_RE.sub(" ", text)))


def profile(text: str) -> frozenset[str]:
    """What a sentence says about who the workers are: "women"/"men", "young"/"older"."""
    return _PROFILE.names(text)


def direction(text: str) -> str | None:
    """ "up", "down" or None: the direction of change a sentence reports, when it reports one."""
    up = bool(_INCREASE_RE.search(text))
    down = bool(_DECREASE_RE.search(text))
    if up == down:
        return None
    return "up" if up else "down"


def movement(text: str) -> str | None:
    """ "in", "out", "stay" or None: whether people are said to arrive in a country, to leave it, or to be kept
    there (which overrides leaving: "delayed their repatriation and kept employing them")."""
    if _STAY_RE.search(text):
        return "stay"
    inward = bool(_INWARD_RE.search(text))
    outward = bool(_OUTWARD_RE.search(text))
    if inward == outward:
        return None
    return "in" if inward else "out"


# A count of everyone there or so far is a stock ("defectors living in South Korea passed 34,000", "the cumulative
# number", "to date"); a count of those who came is a flow ("236 reached South Korea in 2024"). Neither changes the
# other.
_STOCK_RE = re.compile(
    r"\b(?:cumulative(?:ly)?|to date|since records began|(?:living|residing|resident|settled|who live|who have settled)"
    r" in)\b"
)
_ARRIVALS_RE = re.compile(rf"\b(?:{_INWARD}|reach(?:ed|es|ing)?)\b")


def tally(text: str) -> str | None:
    """ "stock" (everyone there, or so far), "arrivals" (those who came) or None: what a sentence's count counts."""
    if _STOCK_RE.search(text):
        return "stock"
    return "arrivals" if _ARRIVALS_RE.search(text) else None


def visas(text: str) -> frozenset[str]:
    """The kinds of visa a sentence names ("student", "tourist", "work", "business"); a passport named instead
    of a visa is a document of its own ("on diplomatic passports" is not "on student and tourist visas")."""
    if "visa" not in text:
        return frozenset({"passport"}) if _PASSPORT_RE.search(text) else frozenset()
    return frozenset(str(kind.lastgroup) for match in _VISA_RE.finditer(text)
                     for kind in _VISA_KIND_RE.finditer(match.group("kinds")))  # fmt: skip


_PASSPORT_RE = re.compile(r"\bpassports?\b")


# "rarely allowed", "no longer permitted": an allowance denied is a ban.
_DENIED_RE = re.compile(
    r"\b(?:rarely|seldom|hardly(?: ever)?|never|not|no longer)\s+(?:be\s+|been\s+)?(?:allowed|permitted)\b"
)


# Who gets most of the pay: "most of what they earn is taken by the state" vs "workers keep most of their wages,
# only a small part goes to the state" (in either word order: glossed Japanese puts "keep" after "most").
_MOST = r"(?:most|the bulk|the majority|the lion's share|nearly all|almost all)"
_PAYEE = r"(?:the state|pyongyang|the regime|the government|the authorities|the party)"
_SMALL = r"(?:only )?(?:a small (?:part|share|portion|fraction|cut)|a fraction|a sliver|little)"
_WORKERS_KEEP_RE = re.compile(
    rf"\b(?:keep|keeps|kept|retain\w*|take home|takes home)\W+(?:\w+\W+){{0,2}}?{_MOST}\b"
    rf"|\b{_MOST}\W+(?:\w+\W+){{0,3}}?(?:keep|keeps|kept)\b"
    rf"|\b{_SMALL}\s+(?:of\s+\w+\s+(?:\w+\s+)?)?(?:goes|go|is taken|are taken|is paid|is handed|ends up|is sent)"
    rf"\s+(?:\w+\s+){{0,2}}?(?:to|by)\s+{_PAYEE}"
    rf"|\b{_PAYEE}\b[^.;]{{0,30}}?\ba small part"
)
_STATE_TAKES_RE = re.compile(
    rf"\b{_MOST}\b[^.;]{{0,60}}?\b(?:taken|take|takes|goes|go|sent|handed|paid|confiscated)\b[^.;]{{0,30}}?\b{_PAYEE}"
    rf"|\b{_PAYEE} (?:takes|took|keeps|kept|confiscates|pockets) {_MOST}\b"
    # The workers get only a small part: the rest is the state's.
    rf"|\b(?:receive|receives|received|get|gets|got|keep|keeps|kept|see|sees|take home|takes home)"
    rf"\s+(?:only\s+)?{_SMALL}"
)


def majority(text: str) -> str | None:
    """ "workers" or "the state": who a sentence says gets most of the workers' pay (None: it does not say)."""
    if _WORKERS_KEEP_RE.search(text):
        return "workers"
    if _STATE_TAKES_RE.search(text):
        return "the state"
    return None


def freedom(text: str) -> str | None:
    """ "confined" or "free": whether the workers are said to be kept in or free to go out (None: neither, or both)."""
    text = without_contrasts(text)  # "unlike Chinese migrant workers, who come and go freely, …"
    confined, free = _CONFINED_RE.search(text) is not None, _FREE_RE.search(text) is not None
    if confined == free:
        return None
    return "confined" if confined else "free"


def permission(text: str) -> str | None:
    """ "ban" or "allow": whether a sentence says something is barred or allowed (None: neither, or both)."""
    text = without_contrasts(text)  # "unlike Chinese workers, who come and go freely, …"
    denied = _DENIED_RE.search(text) is not None
    if denied:
        text = _DENIED_RE.sub(" ", text)
    banned, allowed = denied or bool(_BAN_RE.search(text)), bool(_ALLOW_RE.search(text))
    if banned == allowed:
        return None
    return "ban" if banned else "allow"


# A clause of contrast and the relative clause that describes its people: "unlike Chinese migrant workers, who come
# and go freely, …".
_CONTRAST_RE = re.compile(
    r"\b(?:unlike|while|whereas|compared (?:with|to)|in contrast to|as opposed to)\b[^,;:]*[,;:]"
    r"(?:\s*(?:who|which|that|whose)\b[^,;:]*[,;:])?"
)


def without_contrasts(text: str) -> str:
    """``text`` without its clauses of contrast, which speak of other people than the sentence's subject."""
    return _CONTRAST_RE.sub(" ", text) if "," in text or ";" in text else text


def _worker_nationalities(text: str) -> tuple[bool, bool]:
    """Whether worker nouns are said to be North Korean, and whether any are said to be of another nationality.

    When both, the workers named first are the sentence's subject: "Nepali labourers reported 18-hour shifts, as
    North Korea's workers do" is about Nepali labourers, and counts as other workers only."""
    dprk = foreign = False
    # Other workers named in a clause of contrast ("unlike the Central Asian migrants who drive Moscow's taxis, …",
    # "while Chinese staff go home at night, …") are a comparison, never the subject.
    text = without_contrasts(text)
    for match in _WORKER_RE.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        after = text[match.end() : match.end() + 30]
        if _DPRK_BEFORE_RE.search(before) or _DPRK_AFTER_RE.match(after):
            if foreign:
                return False, True
            dprk = True
        elif _FOREIGN_BEFORE_RE.search(before) or _FROM_AFTER_RE.match(after) or match.group(0).startswith("migrant"):
            foreign = True
    return dprk, foreign


@lru_cache(maxsize=16384)  # a sentence is read by the article context, the matcher and the store alike
def subject(text: str) -> Subject:
    """The subject of a prepared sentence: nationality, roles and whether it speaks of work at all."""
    dprk_workers, foreign_workers = _worker_nationalities(text)
    if not dprk_workers and _FOREIGN_PEOPLE_RE.search(text):
        foreign_workers = True
    # Who reports ("defectors say", "according to former workers") is not who the sentence is about.
    roles = _ROLES.names(without_attributions(text))
    return Subject(
        # In reporting on the peninsula, "defectors" are North Koreans even when the sentence does not say so.
        mentions_dprk=bool(_DPRK_RE.search(text)) or "defector" in _ROLES.names(text),
        roles=roles,
        dprk_workers=dprk_workers,
        foreign_workers=foreign_workers,
        labour=bool(_LABOUR_RE.search(text)),
        domestic=bool(_DOMESTIC_RE.search(text)),
        events=_EVENTS_LEXICON.names(text) | ({"hypothetical"} if _HYPOTHETICAL_RE.search(text) else frozenset()),
    )


def gate(sentence: Subject, claim: Subject) -> tuple[bool, str]:
    """Whether a sentence can be about the same subject as a claim, and why not when it cannot."""
    if not sentence.mentions_dprk:
        return False, "sentence does not mention North Korea"
    if sentence.foreign_workers and not sentence.dprk_workers:
        return False, "the workers are of another nationality"
    if sentence.domestic and not claim.domestic:
        return False, "the sentence is about work inside North Korea"
    other_roles = sentence.roles - {"worker"} - claim.roles
    if other_roles and ("worker" not in sentence.roles or other_roles & _STRONG_ROLES):
        return False, f"the sentence is about {', '.join(sorted(other_roles))}, not workers"
    if claim.labour and not sentence.labour:
        return False, "the claim is about work; the sentence is not"
    extra_events = sentence.events - claim.events
    if extra_events:
        return False, f"the sentence reports another event ({', '.join(sorted(extra_events))})"
    return True, "same subject"
