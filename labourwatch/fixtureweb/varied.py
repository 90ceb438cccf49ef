"""Articles in varied newsroom phrasing, each with one planned figure edit, for measuring claim-update recall.

The standard fixture web (``content.py``) writes every article from a few fixed paragraphs. This module writes
English stories about North Korean workers abroad the way different reporters would: a lead sentence names the
workers and the place, then two or three claim sentences restate known claims (``K03`` hours in Russia, ``K35``
the state's share of wages, ``K21`` workers in Poland in 2016, ...) in one of many wordings, most of them naming
the workers only through the article ("their wages", "these labourers", "he and his colleagues", "the men"),
mixed with background sentences and quotes. The copy was written for this module as a journalist would write
it, not derived from the claim matcher.

Every article carries one planned edit (:class:`PlannedEdit`): one claim sentence whose figure changes, in a
later version, to a value that differs from the known claim's value under the team's figure policy (a different
base value after rounding both to the coarser precision; years and hours exactly), so a correct monitor records
a ``claim_updated`` event for it. :class:`VariedWeb` serves such articles on 127.0.0.1 with the fixture web's
machinery (feeds, sitemaps, article pages with churn) and makes every planned edit at once on ``advance()``.

Deterministic: the same ``(outlets, articles, seed)`` always gives the same articles and edits.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from labourwatch.fixtureweb.content import Article
from labourwatch.fixtureweb.feeds import article_url
from labourwatch.fixtureweb.sites import CLOCK_BASE, PUBLISH_GAP, SiteSpec, StateChange, clock
from labourwatch.fixtureweb.web import FixtureWeb

KINDS = ("workers", "hours", "share", "wage", "year")
ARTICLE, DIRECT = "article", "direct"  # how a claim sentence names the workers
_SLOT = re.compile(r"\{(\w+)\}")

# -- figures -------------------------------------------------------------------------------------------------------

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def number_words(n: int) -> str:
    """An integer below a million in English words as newspapers write round figures ("twelve hundred" for 1,200)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")
    if n < 10000 and n % 1000 and n % 100 == 0:
        return f"{number_words(n // 100)} hundred"  # 1,200 → twelve hundred
    thousands, rest = divmod(n, 1000)
    if n >= 1_000_000:
        raise ValueError(f"{n} is too large for number_words")
    return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")


def _precision(value: int) -> int:
    """The largest power of ten that divides ``value`` (its written precision: 2,500 → 100, 3,000 → 1,000)."""
    step = 1
    while value and value % (step * 10) == 0:
        step *= 10
    return step


def _round(value: int, step: int, *, half_even: bool) -> int:
    quotient, rest = divmod(value, step)
    if rest * 2 > step or (rest * 2 == step and (not half_even or quotient % 2 == 1)):
        quotient += 1
    return quotient * step


def differs_by_policy(claim: int, figure: int, *, exact: bool = False) -> bool:
    """Whether ``figure`` is a different base value from ``claim`` under the claims policy.

    Counts and amounts are compared after rounding both to the coarser precision (11,490 and 11,500 agree; 10,000
    and 12,000 agree too). The rounding convention at a tie is not written down, so a pair only differs when it
    differs under both half-up and half-even rounding. Hours and years (``exact``) must simply be equal."""
    if exact:
        return claim != figure
    step = max(_precision(claim), _precision(figure))
    return all(_round(claim, step, half_even=even) != _round(figure, step, half_even=even) for even in (False, True))


_TAKEN_FRACTION = {90: "nine-tenths", 80: "four-fifths", 75: "three-quarters", 67: "two-thirds", 60: "three-fifths",
                   50: "half"}
_KEPT_FRACTION = {90: "a tenth", 80: "a fifth", 75: "a quarter", 67: "a third", 50: "half"}


def _usd(value: int) -> str:
    return f"${value:,}"


def render_figure(slot: str, form: str, value: int) -> str | None:
    """``value`` of ``slot`` written in ``form``, or None where that form cannot write it.

    Shares are always the state's cut in percent (a "kept" form writes the complement: 80 → "a fifth"); wages are
    always dollars a year (the "monthly" form writes a twelfth of it)."""
    if slot in ("count", "hours", "year"):
        if form == "words" and slot != "year":  # copy writes years in digits
            # Copy spells out round figures only: "four thousand", "twelve hundred", never "thirty-two hundred".
            round_figure = value < 1000 or value % 1000 == 0 or (value < 2000 and value % 100 == 0)
            return number_words(value) if round_figure else None
        return f"{value:,}" if slot == "count" else str(value)
    if slot == "share":
        written = {
            "pct": f"{value}%", "per_cent": f"{value} per cent", "percent": f"{value} percent",
            "kept_pct": f"{100 - value}%", "kept_per_cent": f"{100 - value} per cent",
        }.get(form)
        if form in ("pct", "per_cent", "percent", "kept_pct", "kept_per_cent") and value == 67:
            return None  # two-thirds is written as a fraction, never as 67%
        if form == "fraction":
            written = _TAKEN_FRACTION.get(value)
        elif form == "kept_fraction":
            written = _KEPT_FRACTION.get(value)
        return written
    if slot == "usd_year":
        if form == "monthly":
            return _usd(value // 12) if value % 12 == 0 else None
        if form == "us_dollars":
            return f"US${value:,}"
        return _usd(value)
    raise ValueError(f"unknown slot {slot!r}")


# -- who the sentences are about -----------------------------------------------------------------------------------

# S/s: the subject (takes a plural verb); their; them (an object); group (after "some of", "few of"); NN (a noun
# phrase after a number: "4,000 such workers").
Voice = Mapping[str, str]


def _voice(subject: str, their: str, them: str, nn: str, group: str | None = None) -> dict[str, str]:
    return {"S": subject, "their": their, "them": them, "NN": nn, "group": group or them}


_ARTICLE_VOICES: dict[str, tuple[dict[str, str], ...]] = {
    "labour": (
        _voice("they", "their", "them", "such workers"),
        _voice("these labourers", "their", "these labourers", "such labourers"),
        _voice("the men", "the men's", "the men", "men like these"),
        _voice("the workers", "the workers'", "the workers", "of these workers"),
        _voice("the labourers", "their", "the labourers", "labourers like these"),
    ),
    "women": (
        _voice("they", "their", "them", "such workers"),
        _voice("the women", "the women's", "the women", "women like these"),
        _voice("these young women", "their", "these young women", "such women"),
        _voice("the workers", "the workers'", "the workers", "of these workers"),
    ),
    "it": (
        _voice("they", "their", "them", "such workers"),
        _voice("these programmers", "their", "these programmers", "such programmers"),
        _voice("the developers", "the developers'", "the developers", "developers like these"),
    ),
}
# A profile's subject joins the group through the person the story follows.
_PROFILE_VOICES: dict[str, tuple[dict[str, str], ...]] = {
    "labour": (
        _voice("he and his colleagues", "their", "him and his colleagues", "workers like him", "them"),
        _voice("he and his fellow workers", "their", "him and his fellow workers", "men like him", "them"),
    ),
    "women": (
        _voice("she and her co-workers", "their", "her and her co-workers", "women like her", "them"),
    ),
    "it": (
        _voice("he and his colleagues", "their", "him and his colleagues", "coders like him", "them"),
    ),
}
_DIRECT_VOICES: dict[str, tuple[dict[str, str], ...]] = {
    "labour": (
        _voice("North Korean workers", "North Korean workers'", "North Korean workers", "North Korean workers",
               "the North Korean workers"),
        _voice("labourers from North Korea", "North Korean labourers'", "labourers from North Korea",
               "North Korean labourers", "the labourers from North Korea"),
        _voice("workers sent by Pyongyang", "the North Korean workers'", "workers sent by Pyongyang",
               "workers from North Korea", "the workers sent by Pyongyang"),
        _voice("North Korea's overseas labourers", "North Korean labourers'", "North Korea's overseas labourers",
               "North Korean labourers"),
    ),
    "women": (
        _voice("North Korean women workers", "the North Korean women's", "North Korean women workers",
               "North Korean women", "the North Korean women"),
        _voice("young women sent from North Korea", "the North Korean women's", "young women sent from North Korea",
               "North Korean workers", "the young women sent from North Korea"),
    ),
    "it": (
        _voice("North Korean IT workers", "North Korean IT workers'", "North Korean IT workers",
               "North Korean IT workers", "North Korea's IT workers"),
        _voice("programmers working for Pyongyang", "the North Korean programmers'",
               "programmers working for Pyongyang", "North Korean programmers",
               "the programmers working for Pyongyang"),
    ),
}


# -- claim sentences -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Wording:
    """One way to write a claim sentence: text with ``{slots}`` and the form its edited figure is written in."""

    text: str
    form: str = "digits"


@dataclass(frozen=True)
class ClaimSpec:
    """A known claim as the generator edits it: the figure that changes, its values and the ways to write it.

    ``values`` are the claim's own value first, then alternatives; the claim value is a single int, or a
    ``(low, high)`` pair for a range. ``fixed`` fills the sentence's other figure slots with the claim's values."""

    key: str
    claim_id: str
    kind: str
    slot: str
    placeholder: str
    values: tuple[int | tuple[int, int], ...]
    wordings: tuple[Wording, ...]
    fixed: Mapping[str, str] = field(default_factory=dict)

    @property
    def claim_value(self) -> int | tuple[int, int]:
        """The value the known claim states."""
        return self.values[0]


_K03 = (
    Wording("{S} are made to work for up to {h} hours a day, according to people who have seen the sites."),
    Wording("Shifts of {h} hours a day are routine for {them}, and days off are rare."),
    Wording("{S} told researchers they worked as many as {h} hours a day."),
    Wording("{Their} working day can stretch to {h} hours, former site managers say.", "words"),
    Wording("On a typical day {s} work for {h} hours, from before dawn until well after dark."),
    Wording("Days of {h} hours are the norm for {them}, one contractor admitted.", "words"),
    Wording("{S} put in {h}-hour days, seven days a week."),
    Wording("Each of {group} can be kept at work for up to {h} hours a day."),
    Wording("Work often runs to {h} hours a day for {them}, a former foreman said.", "words"),
)
_K30 = (
    Wording("{S} typically work between {lo} and {hi} hours a day."),
    Wording("{Their} shifts usually last {lo} to {hi} hours."),
    Wording("A working day of {lo} to {hi} hours is standard for {them}, the report found.", "words"),
    Wording("{S} spend anywhere from {lo} to {hi} hours a day on the job."),
    Wording("Former managers said {s} were kept at work for {lo} to {hi} hours every day."),
    Wording("{Their} day runs to between {lo} and {hi} hours, with short breaks for meals.", "words"),
    Wording("Most days {s} work {lo}-{hi} hours, according to people who have visited the sites."),
)
_K35 = (
    Wording("As much as {p} of {their} wages is handed over to the state.", "pct"),
    Wording("The state takes {p} of what {s} earn.", "per_cent"),
    Wording("{S} hand over {p} of their pay to the regime.", "fraction"),
    Wording("Up to {p} of {their} earnings are siphoned off by Pyongyang, defectors say.", "percent"),
    Wording("Pyongyang keeps {p} of {their} salaries, according to people who have left.", "fraction"),
    Wording("Roughly {p} of every dollar {s} earn goes to the state.", "per_cent"),
    Wording("{S} surrender {p} of their income in so-called loyalty payments.", "pct"),
    Wording("{S} are left with {p} of their wages once the state has taken its cut.", "kept_fraction"),
    Wording("{S} keep just {p} of what they are paid; the rest goes to the state.", "kept_pct"),
    Wording("After the state's cut, {s} take home only {p} of their earnings.", "kept_fraction"),
    Wording("Of {their} monthly pay, only {p} stays with them.", "kept_per_cent"),
)
_K26 = (
    Wording("{S} can each bring in more than {usd} a year."),
    Wording("A single one of {group} can earn over {usd} a year, US officials say.", "us_dollars"),
    Wording("Individually, {s} can make upwards of {usd} a year from foreign clients."),
    Wording("{Their} annual earnings can top {usd} each."),
    Wording("Some of {group} pull in in excess of {usd} a year from Western companies.", "us_dollars"),
    Wording("A typical monthly wage for {them} is around {usd}, most of it sent home.", "monthly"),
    Wording("{S} can make {usd} a month each, investigators found.", "monthly"),
    Wording("{Their} pay can reach {usd} a month per person.", "monthly"),
)
_K01 = (
    Wording("South Korea's spy agency believes more than {n} {NN} may eventually be sent to Russia."),
    Wording("Over {n} {NN} could be dispatched to Russia in the coming years, Seoul's intelligence service says."),
    Wording("Moscow could take in more than {n} {NN}, officials in Seoul estimate.", "words"),
    Wording("The arrangement could see upwards of {n} {NN} sent to Russia, according to South Korean intelligence."),
    Wording("Pyongyang is preparing to send more than {n} {NN} to Russia, South Korean officials believe.", "words"),
    Wording("In all, Seoul reckons, more than {n} {NN} could end up working in Russia."),
)
_K02 = (
    Wording("More than {n} {NN} entered Russia in {yr}, South Korean intelligence says."),
    Wording("Over {n} {NN} crossed into Russia during {yr} alone."),
    Wording("In {yr}, more than {n} {NN} arrived in Russia, according to Seoul."),
    Wording("Some {n} {NN} entered the country over the course of {yr}.", "words"),
    Wording("Russia let in upwards of {n} {NN} in {yr}."),
    Wording("The year {yr} saw more than {n} {NN} arrive in Russia.", "words"),
)
_K09 = (
    Wording("Since {yr}, escapes by {them} to South Korea have become far rarer."),
    Wording("Few of {group} have managed to flee to the South since {yr}."),
    Wording("Defections to South Korea by {them} have slowed to a trickle since {yr}."),
    Wording("{S} have found it much harder to escape to Seoul since {yr}."),
    Wording("Escapes to the South by {them} have been much rarer since {yr}, activists say."),
    Wording("Since {yr} only a handful of {group} have made it to South Korea."),
)
_K17 = (
    Wording("About {n} of {group} rioted over unpaid wages in January 2024."),
    Wording("In January 2024, some {n} {NN} staged a riot at the factories over wages they had not been paid."),
    Wording("Around {n} {NN} took part in the January 2024 unrest, which began over unpaid wages.", "words"),
    Wording("The January 2024 riot involved roughly {n} {NN}, angry at months of unpaid wages."),
    Wording("As many as {n} {NN} turned on their managers in January 2024 after wages went unpaid.", "words"),
    Wording("Some {n} {NN} rioted at the plants in January 2024, demanding wages they were owed."),
)
_K19 = (
    Wording("Around {n} {NN} were working on construction projects in Qatar."),
    Wording("Some {n} {NN} were employed on Qatari building sites.", "words"),
    Wording("At the peak, about {n} {NN} were on construction projects across the country."),
    Wording("Qatar's building boom drew in roughly {n} {NN}.", "words"),
    Wording("An estimated {n} {NN} were working in construction there."),
    Wording("Approximately {n} {NN} were at work on Qatari construction projects at the time."),
)
_K21 = (
    Wording("Around {n} {NN} were working in Poland in {yr}, many in shipyards."),
    Wording("In {yr}, some {n} {NN} were employed in Poland, a good number of them in the shipyards."),
    Wording("About {n} {NN} were at work in Polish shipyards and elsewhere in the country in {yr}.", "words"),
    Wording("Poland was host to roughly {n} {NN} in {yr}."),
    Wording("By {yr} an estimated {n} {NN} were working in Poland.", "words"),
    Wording("As of {yr}, around {n} {NN} held jobs in Poland, many of them welding ships."),
)
_K34 = (
    Wording("Mongolia had about {n} {NN} in {yr} and pledged to send them home."),
    Wording("In {yr}, roughly {n} {NN} were working in Mongolia.", "words"),
    Wording("About {n} {NN} were in Mongolia in {yr}, when the government promised to repatriate them."),
    Wording("Some {n} {NN} were employed in the country in {yr}."),
    Wording("Mongolian officials counted around {n} {NN} in {yr}.", "words"),
    Wording("There were about {n} {NN} in Mongolia as of {yr}."),
)
_K20 = (
    Wording("Kuwait stopped granting visas to {them} in {yr}."),
    Wording("In {yr}, Kuwait stopped issuing new visas to {them}."),
    Wording("Kuwait halted visas for {them} in {yr}."),
    Wording("Kuwait closed its doors to {them} in {yr}, when it stopped granting them visas."),
    Wording("{S} have been unable to get Kuwaiti visas since {yr}."),
    Wording("The Gulf state ceased issuing visas to {them} in {yr}."),
)

CLAIMS: dict[str, ClaimSpec] = {spec.key: spec for spec in (
    # K03's alternatives stay outside K30's 12-16 hours, where a sentence could as well corroborate K30.
    ClaimSpec("K03-hours", "K03", "hours", "hours", "h", (18, 17, 19, 20, 21, 22), _K03),
    ClaimSpec("K30-hours", "K30", "hours", "range", "lo", ((12, 16), (10, 14), (14, 18), (12, 18), (10, 12),
                                                             (15, 20), (8, 12)), _K30),
    ClaimSpec("K35-share", "K35", "share", "share", "p", (90, 80, 75, 67, 60, 50, 95), _K35),
    ClaimSpec("K26-wage", "K26", "wage", "usd_year", "usd",
              (300000, 120000, 200000, 240000, 360000, 480000, 500000, 600000, 150000), _K26),
    ClaimSpec("K01-workers", "K01", "workers", "count", "n", (50000, 20000, 30000, 40000, 60000, 70000, 80000),
              _K01),
    ClaimSpec("K02-workers", "K02", "workers", "count", "n", (10000, 3000, 4000, 15000, 20000, 30000), _K02,
              {"yr": "2024"}),
    ClaimSpec("K02-year", "K02", "year", "year", "yr", (2024, 2023, 2025), _K02, {"n": "10,000"}),
    ClaimSpec("K09-year", "K09", "year", "year", "yr", (2022, 2019, 2020, 2021, 2023), _K09),
    ClaimSpec("K17-workers", "K17", "workers", "count", "n", (2500, 1200, 1500, 1800, 3200, 4000, 5000), _K17),
    ClaimSpec("K19-workers", "K19", "workers", "count", "n", (3000, 1200, 1500, 2000, 4000, 5000, 6000), _K19),
    ClaimSpec("K21-workers", "K21", "workers", "count", "n", (800, 400, 500, 600, 1200, 1500), _K21,
              {"yr": "2016"}),
    ClaimSpec("K21-year", "K21", "year", "year", "yr", (2016, 2014, 2015, 2017), _K21, {"n": "800"}),
    ClaimSpec("K34-workers", "K34", "workers", "count", "n", (1200, 600, 800, 900, 2000, 3000), _K34,
              {"yr": "2017"}),
    ClaimSpec("K34-year", "K34", "year", "year", "yr", (2017, 2015, 2016, 2018), _K34, {"n": "1,200"}),
    ClaimSpec("K20-year", "K20", "year", "year", "yr", (2017, 2015, 2016, 2018, 2019), _K20),
)}

# Claim sentences without a figure: restated now and then beside the edited one, never edited themselves.
_PLAIN: dict[str, tuple[str, ...]] = {
    "K32": ("{S} are watched by minders and are seldom allowed off the site or out of their dormitories.",
            "Minders keep a close eye on {them}, and trips beyond the dormitory are rare."),
    "K40": ("Many of {group} pose as freelancers from other countries, using stolen or rented identities to land "
            "remote work with Western technology firms.",
            "{S} have passed themselves off as Americans and Europeans, with borrowed identities, to win remote "
            "jobs at Western tech companies."),
}


# -- scenarios -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    """One kind of story: where it happens, who it follows, and the claims it restates."""

    key: str
    crew: str
    claims: tuple[str, ...]
    plain: tuple[str, ...]
    leads: tuple[str, ...]
    profile_leads: tuple[str, ...]
    titles: tuple[str, ...]
    standfirsts: tuple[str, ...]
    background: tuple[str, ...]
    quotes: tuple[str, ...]


SCENARIOS: dict[str, Scenario] = {s.key: s for s in (
    Scenario(
        "russia", "labour", ("K03-hours", "K35-share", "K01-workers", "K02-workers", "K02-year", "K09-year"),
        ("K32",),
        leads=(
            "North Korean labourers have become a familiar sight on building sites across Russia's Far East.",
            "In the Russian port city of Vladivostok, crews of North Korean workers are putting up apartment blocks "
            "at a pace local builders cannot match.",
            "Construction firms in Russia are turning to workers sent from North Korea to fill a growing labour "
            "shortage.",
            "On the edge of Moscow, a housing project is being finished by North Korean construction workers who "
            "live in containers beside the site.",
        ),
        profile_leads=(
            "Like many North Korean workers in Russia, Pak, a welder from the port of Chongjin, spends almost every "
            "waking hour on a building site outside Khabarovsk.",
            "Kim, a plasterer who asked that only his surname be used, is one of the North Korean labourers "
            "rebuilding apartment blocks in Russia's Far East.",
        ),
        titles=("Inside the sites where North Korean crews build Russia's new flats",
                "Russia leans on North Korean labour as builders run short of hands",
                "The North Korean workers behind Vladivostok's building boom",
                "Fenced in and far from home: North Koreans on Russian building sites"),
        standfirsts=("Sanctions have not stopped Russian contractors hiring labour from Pyongyang.",
                     "Former workers and local builders describe long days, tight control and little pay."),
        background=(
            "Russian contractors say they value the crews for their discipline and their low cost.",
            "The sites are fenced off and a guard checks everyone who goes in or out.",
            "Moscow denies that it is breaching United Nations sanctions.",
            "The war in Ukraine has drained Russian building firms of local labour.",
            "North Korea's embassy in Moscow did not respond to a request for comment.",
            "Neighbours say the crews are driven to the site before sunrise and back after dark.",
            "Several Russian regions have signed agreements with Pyongyang on what they call vocational training.",
        ),
        quotes=(
            "\"We never saw them outside the fence,\" said a woman who lives across the road.",
            "\"They work harder than anyone, and they never complain,\" a Russian foreman said.",
            "\"It is cheaper than hiring locals, and there is no one else,\" said one developer.",
        ),
    ),
    Scenario(
        "jilin", "women", ("K17-workers", "K30-hours", "K35-share"), (),
        leads=(
            "North Korean women workers have for years processed seafood and sewn garments in factories in "
            "China's Jilin province.",
            "In the Chinese border province of Jilin, factories that depend on North Korean workers are under "
            "scrutiny again.",
            "Seafood plants in north-east China's Jilin province have quietly relied on workers sent by North Korea.",
        ),
        profile_leads=(
            "Ri, a seamstress from Sinuiju, is one of the North Korean workers who spent years in a garment factory "
            "in China's Jilin province.",
        ),
        titles=("What happened in the Jilin factories where North Koreans rose up",
                "Unpaid and confined: North Korean workers in China's factories",
                "The quiet workforce behind China's seafood exports"),
        standfirsts=("Accounts from the factories describe long shifts and wages that never arrive.",
                     "The unrest exposed an arrangement both governments prefer not to discuss."),
        background=(
            "China says it implements United Nations sanctions in full.",
            "The factories process fish and sew clothing for buyers at home and abroad.",
            "Local officials declined to answer questions about the plants.",
            "Workers sleep in dormitories inside the factory walls.",
            "The border city of Hunchun sits only a short drive from North Korea.",
            "Several of the companies involved have since changed their names.",
        ),
        quotes=(
            "\"The women were never allowed to go shopping alone,\" said a former supervisor.",
            "\"Everyone knew the wages were going somewhere else,\" a local trader said.",
            "\"Nobody here wants to talk about it,\" said a resident of the town.",
        ),
    ),
    Scenario(
        "qatar", "labour", ("K19-workers", "K30-hours", "K35-share"), (),
        leads=(
            "North Korean construction workers were part of the army of migrant labour that built Qatar's new "
            "skyline.",
            "In Qatar, North Korean labourers worked on towers, roads and stadium projects alongside crews from "
            "Nepal and India.",
            "Qatar's construction boom drew workers from across Asia, among them labourers from North Korea.",
        ),
        profile_leads=(
            "Choe, a bricklayer, was one of the North Korean workers sent to building sites in Qatar, where he "
            "lived in a labour camp outside Doha.",
        ),
        titles=("The North Korean crews who helped build Qatar",
                "Qatar's forgotten builders: labour from Pyongyang",
                "How North Korean labour found its way to the Gulf"),
        standfirsts=("The Gulf state has since sent most of the workers home.",
                     "Rights groups say the arrangement funnelled money to Pyongyang."),
        background=(
            "Qatar says it has complied with UN sanctions on North Korea.",
            "The workers lived in camps on the outskirts of Doha.",
            "Summer temperatures on the sites routinely passed forty degrees.",
            "Recruitment went through North Korean state companies, not private agencies.",
            "The Qatari government did not respond to questions.",
            "Foremen from other countries said the North Korean crews kept to themselves.",
        ),
        quotes=(
            "\"They were the best-organised crews on the site,\" said an Indian engineer.",
            "\"We were told not to speak to them,\" a Nepali worker recalled.",
            "\"They did not go anywhere except the site and the camp,\" a driver said.",
        ),
    ),
    Scenario(
        "poland", "labour", ("K21-workers", "K21-year", "K30-hours", "K35-share"), (),
        leads=(
            "North Korean welders and labourers once worked in shipyards along Poland's Baltic coast.",
            "In Poland, workers sent from North Korea were hired through subcontractors in shipbuilding and "
            "farming.",
            "The presence of North Korean workers in Poland came to light through the country's shipyards.",
        ),
        profile_leads=(
            "Han, a welder, was one of the North Korean workers in a shipyard in Gdansk, Poland, and rarely left "
            "the yard or his hostel.",
        ),
        titles=("The North Korean welders of Poland's shipyards",
                "How North Korean labour reached the European Union",
                "Poland's North Korean workers, and the money that went home"),
        standfirsts=("Polish authorities stopped issuing work permits after the sanctions tightened.",
                     "A trail of subcontractors hid who was doing the work."),
        background=(
            "Poland stopped issuing new work permits to North Koreans after the sanctions tightened.",
            "The yards built hulls for shipowners across northern Europe.",
            "Labour inspectors visited several of the sites.",
            "The subcontractors involved have since closed down.",
            "The European Commission asked Warsaw for an explanation.",
            "Polish colleagues said the North Koreans were never seen in town.",
        ),
        quotes=(
            "\"They welded well and never took a day off,\" a former shipyard manager said.",
            "\"We did not know who was paying them, or how much,\" a Polish welder said.",
            "\"Someone always came with them, even to the doctor,\" a nurse recalled.",
        ),
    ),
    Scenario(
        "mongolia", "labour", ("K34-workers", "K34-year", "K30-hours", "K35-share"), (),
        leads=(
            "North Korean construction workers and seamstresses were once a common presence in Mongolia's capital, "
            "Ulaanbaatar.",
            "Mongolia, one of North Korea's few friendly neighbours, has long hosted workers sent by Pyongyang.",
            "In Ulaanbaatar, North Korean labourers built apartment blocks and worked in clothing workshops.",
        ),
        profile_leads=(
            "Jong, a carpenter, was among the North Korean workers who put up apartment blocks in Ulaanbaatar, "
            "Mongolia, before he was sent home.",
        ),
        titles=("Mongolia and the North Korean workers it promised to send home",
                "Ulaanbaatar's North Korean builders",
                "A quiet exit: Mongolia's North Korean labour"),
        standfirsts=("Mongolia says it has honoured its commitments under the sanctions.",
                     "Local builders say the crews left quietly."),
        background=(
            "Mongolia has friendly relations with both Koreas.",
            "Winter halts most building work in Ulaanbaatar for months.",
            "The Mongolian labour ministry did not comment.",
            "Some of the workers were employed in cashmere and clothing workshops.",
            "Ulaanbaatar's construction sector depends on seasonal labour from abroad.",
            "The crews lived in barracks on the city's outskirts.",
        ),
        quotes=(
            "\"They worked through the cold when nobody else would,\" a Mongolian developer said.",
            "\"We paid the company, not the workers,\" a contractor admitted.",
            "\"One morning they were simply gone,\" said a neighbour.",
        ),
    ),
    Scenario(
        "kuwait", "labour", ("K20-year", "K30-hours", "K35-share"), (),
        leads=(
            "North Korean labourers were for years part of Kuwait's large migrant workforce.",
            "In Kuwait, workers sent from North Korea built housing and roads under state-run contracts.",
            "Kuwait's construction industry once relied in part on labourers from North Korea.",
        ),
        profile_leads=(
            "Yun, a plumber, was one of the North Korean workers on housing projects in Kuwait until the Gulf "
            "state turned its back on Pyongyang.",
        ),
        titles=("Why Kuwait turned away North Korean workers",
                "The Gulf's North Korean labourers",
                "Kuwait, Pyongyang and the end of an arrangement"),
        standfirsts=("Washington had pressed Gulf states to cut their ties with Pyongyang.",
                     "The workers' departure was rarely announced."),
        background=(
            "Kuwait also downgraded its diplomatic ties with North Korea.",
            "Washington had pressed Gulf governments to stop hiring North Korean labour.",
            "Kuwaiti officials did not answer requests for comment.",
            "The crews worked for North Korean state firms that held the contracts.",
            "Other Gulf states took similar steps.",
            "The workers lived in compounds set apart from other migrants.",
        ),
        quotes=(
            "\"They were disciplined, quiet and cheap,\" a Kuwaiti contractor said.",
            "\"We were never allowed to pay them directly,\" a site manager recalled.",
            "\"They left in a hurry, all on the same flights,\" said a travel agent.",
        ),
    ),
    Scenario(
        "it", "it", ("K26-wage",), ("K40",),
        leads=(
            "North Korean IT workers based in China and Russia have been landing remote jobs with foreign companies "
            "under false names.",
            "From apartments in the Chinese city of Shenyang, North Korean programmers write code for clients who "
            "have no idea who they are.",
            "A network of North Korean IT workers operating from Russia and China has been funnelling pay back to "
            "Pyongyang.",
        ),
        profile_leads=(
            "Lee is one of the North Korean IT workers in the Chinese city of Shenyang who answer to made-up "
            "Western names on job platforms.",
        ),
        titles=("The North Korean coders hiding in plain sight",
                "How North Korea's IT workers get hired abroad",
                "Remote work, real money: Pyongyang's hidden programmers"),
        standfirsts=("US officials say the earnings help fund the North's weapons programmes.",
                     "Recruiters are being told to check who is really on the other end of the call."),
        background=(
            "US prosecutors have charged several people with helping the scheme.",
            "The workers rely on laptop farms run by helpers abroad.",
            "Job platforms say they have removed thousands of suspicious accounts.",
            "Companies are advised to insist on video interviews.",
            "The money is laundered through cryptocurrency and front companies.",
            "North Korea denies any involvement.",
        ),
        quotes=(
            "\"He was one of our best developers, and we had no idea,\" a startup founder said.",
            "\"The camera was always broken,\" said a manager who hired one of them.",
            "\"They work around the clock and never miss a deadline,\" an investigator said.",
        ),
    ),
)}

# The claims an edit of each kind can change, and the scenarios each claim is restated in.
_BY_KIND: dict[str, tuple[str, ...]] = {
    kind: tuple(key for key, spec in CLAIMS.items() if spec.kind == kind) for kind in KINDS
}
_SCENARIOS_OF: dict[str, tuple[str, ...]] = {
    key: tuple(s.key for s in SCENARIOS.values() if key in s.claims) for key in CLAIMS
}


# -- planning one article ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimSentence:
    """One claim sentence as published: its text before and after the edit (the same if it is not edited)."""

    claim_id: str
    kind: str
    reference: str
    before: str
    after: str


@dataclass(frozen=True)
class PlannedEdit:
    """The figure edit an article will get, and what a correct monitor should report for it.

    ``old_numbers`` are the known claim's values of the edited figure, ``new_numbers`` what the new sentence
    states (a share as the state's cut in percent, a wage in dollars a year; a monthly figure also as written),
    ``new_written`` the new figure exactly as printed."""

    claim_id: str
    kind: str
    slot: str
    form: str
    reference: str
    wording: int
    before: str
    after: str
    old_written: str
    new_written: str
    old_numbers: tuple[int, ...]
    new_numbers: tuple[int, ...]
    new_alternatives: tuple[int, ...] = ()


def _fill(template: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name in values:
            return values[name]
        lower = name[:1].lower() + name[1:]
        if lower in values:
            text = values[lower]
            return text[:1].upper() + text[1:]
        raise KeyError(f"no value for {{{name}}} in {template!r}")
    return _SLOT.sub(replace, template)


def _voice_values(voice: Voice) -> dict[str, str]:
    return {"s": voice["S"], "their": voice["their"], "them": voice["them"], "NN": voice["NN"],
            "group": voice["group"]}


def _written(spec: ClaimSpec, form: str, value: int | tuple[int, int]) -> dict[str, str] | None:
    """The figure slots of ``value`` in ``form``, or None where the form cannot write it."""
    if isinstance(value, tuple):
        low, high = (render_figure("hours", form, v) for v in value)
        return {"lo": low, "hi": high} if low and high else None
    text = render_figure(spec.slot, form, value)
    return {spec.placeholder: text} if text else None


def _differs(spec: ClaimSpec, value: int | tuple[int, int]) -> bool:
    claim = spec.claim_value
    if isinstance(value, tuple) and isinstance(claim, tuple):
        return any(differs_by_policy(c, v, exact=True) for c, v in zip(claim, value, strict=True))
    assert isinstance(value, int) and isinstance(claim, int)
    return differs_by_policy(claim, value, exact=spec.slot in ("hours", "year"))


def _numbers(spec: ClaimSpec, form: str, value: int | tuple[int, int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """What a report of ``value`` may say: the figure itself, and equivalent readings of it."""
    if isinstance(value, tuple):
        return value, ()
    if spec.slot == "usd_year" and form == "monthly":
        return (value,), (value // 12,)
    return (value,), ()


def plan_edit(spec: ClaimSpec, rng: random.Random, voice: Voice, reference: str) -> PlannedEdit:
    """A claim sentence for ``spec`` in a random wording, and the new figure it gets in its edited version."""
    index = rng.randrange(len(spec.wordings))
    wording = spec.wordings[index]
    writable = [v for v in spec.values if _written(spec, wording.form, v)]
    new = rng.choice([v for v in writable if _differs(spec, v)])
    old_choices = [v for v in writable if v != new]
    claim_value = spec.claim_value
    old = claim_value if claim_value in old_choices and rng.random() < 0.5 else rng.choice(old_choices)
    values = {**spec.fixed, **_voice_values(voice)}
    old_slots, new_slots = _written(spec, wording.form, old), _written(spec, wording.form, new)
    assert old_slots is not None and new_slots is not None
    before = _fill(wording.text, {**values, **old_slots})
    after = _fill(wording.text, {**values, **new_slots})
    new_numbers, alternatives = _numbers(spec, wording.form, new)
    claim_numbers = claim_value if isinstance(claim_value, tuple) else (claim_value,)
    return PlannedEdit(
        claim_id=spec.claim_id, kind=spec.kind, slot=spec.slot,
        form="digits" if spec.slot == "year" else wording.form, reference=reference,
        wording=index, before=before, after=after, old_written=" / ".join(old_slots.values()),
        new_written=" / ".join(new_slots.values()), old_numbers=claim_numbers, new_numbers=new_numbers,
        new_alternatives=alternatives)


def _still_sentence(spec: ClaimSpec, rng: random.Random, voice: Voice) -> str:
    """A claim sentence that stays as it is: the claim's own value or another one, in a random wording."""
    wording = rng.choice(spec.wordings)
    writable = [v for v in spec.values if _written(spec, wording.form, v)]
    value = spec.claim_value if spec.claim_value in writable and rng.random() < 0.6 else rng.choice(writable)
    slots = _written(spec, wording.form, value)
    assert slots is not None
    return _fill(wording.text, {**spec.fixed, **_voice_values(voice), **slots})


@dataclass(eq=False)
class VariedArticle(Article):
    """A fixture article whose body is written out in full, with one claim sentence that a figure edit changes."""

    paragraph_texts: tuple[str, ...] = ()
    claim_sentences: tuple[ClaimSentence, ...] = ()
    edit: PlannedEdit | None = None
    edited: bool = False

    def paragraphs(self) -> list[str]:
        """The main text, paragraph by paragraph (the edited sentence as of the current version)."""
        assert self.edit is not None
        sentence = self.edit.after if self.edited else self.edit.before
        return [p.replace("{edited}", sentence) for p in self.paragraph_texts] + list(self.corrections)

    def figure_key(self) -> str | None:
        """``claim`` until the planned edit is made, then None (each article is edited once)."""
        return "claim" if self.edit is not None and not self.edited else None

    def edit_figure(self, at: datetime) -> tuple[str, str]:
        """Make the planned edit; returns the old and new figure as written."""
        if self.edit is None or self.edited:
            raise ValueError(f"article {self.slug} has no figure edit left")
        self.edited = True
        self._touch(at)
        return self.edit.old_written, self.edit.new_written


def make_varied_article(site_id: str, index: int, kind: str, published: datetime, seed: int = 0,
                        article_share: float = 0.6) -> VariedArticle:
    """Article ``index`` of ``site_id``, whose edit changes a figure of ``kind``.

    ``article_share`` is the chance that a claim sentence names the workers only through the article; the edited
    sentence does so in two articles of three (index-based, so the share holds even in small samples)."""
    rng = random.Random(f"varied:{seed}:{site_id}:{index}")
    claim_key = rng.choice(_BY_KIND[kind])
    scenario = SCENARIOS[rng.choice(_SCENARIOS_OF[claim_key])]
    profile = rng.random() < 0.3 and bool(scenario.profile_leads)
    lead = rng.choice(scenario.profile_leads if profile else scenario.leads)
    voices = _ARTICLE_VOICES[scenario.crew] + (_PROFILE_VOICES[scenario.crew] if profile else ())
    article_voice = rng.choice(voices)
    direct_voice = rng.choice(_DIRECT_VOICES[scenario.crew])

    def voice_for(reference: str) -> Voice:
        return article_voice if reference == ARTICLE else direct_voice

    edit_reference = ARTICLE if index % 3 != 2 else DIRECT
    edit = plan_edit(CLAIMS[claim_key], rng, voice_for(edit_reference), edit_reference)
    sentences = [ClaimSentence(edit.claim_id, kind, edit_reference, edit.before, edit.after)]
    others: dict[str, str] = {}  # one sentence a claim: claim id -> spec key
    for key in rng.sample(scenario.claims, len(scenario.claims)):
        if CLAIMS[key].claim_id != edit.claim_id:
            others.setdefault(CLAIMS[key].claim_id, key)
    for key in list(others.values())[:rng.choice((1, 1, 2))]:
        reference = ARTICLE if rng.random() < article_share else DIRECT
        text = _still_sentence(CLAIMS[key], rng, voice_for(reference))
        sentences.append(ClaimSentence(CLAIMS[key].claim_id, CLAIMS[key].kind, reference, text, text))
    for claim_id in scenario.plain:
        if rng.random() < 0.5:
            reference = ARTICLE if rng.random() < article_share else DIRECT
            text = _fill(rng.choice(_PLAIN[claim_id]), _voice_values(voice_for(reference)))
            sentences.append(ClaimSentence(claim_id, "plain", reference, text, text))
    body = _lay_out(scenario, lead, sentences, rng)
    return VariedArticle(
        site_id=site_id, slug=f"{scenario.key}-{index:04d}", index=index, language="en", on_topic=True,
        topic=f"varied-{scenario.key}", author=rng.choice(_AUTHORS), published=published,
        titles=scenario.titles, title_index=rng.randrange(len(scenario.titles)),
        standfirst=rng.choice(scenario.standfirsts), templates=tuple(body), figures={},
        paragraph_texts=tuple(body), claim_sentences=tuple(sentences), edit=edit)


_AUTHORS = ("Maria Lindqvist", "James Okafor", "Yuna Seo", "Peter Brandt", "Alina Sokolova", "Ben Harrow")


def _lay_out(scenario: Scenario, lead: str, sentences: Sequence[ClaimSentence], rng: random.Random) -> list[str]:
    """Paragraphs: the lead with some background, then claim sentences between a quote and background."""
    background = iter(rng.sample(scenario.background, len(scenario.background)))
    quote = rng.choice(scenario.quotes)
    claims = list(sentences)
    rng.shuffle(claims)
    texts = ["{edited}" if s.before != s.after else s.before for s in claims]
    paragraphs = [f"{lead} {next(background)}", texts[0]]
    if len(texts) > 1:
        paragraphs += [quote, f"{next(background)} {texts[1]}"]
    else:
        paragraphs += [f"{next(background)} {quote}"]
    paragraphs += [f"{text} {next(background, '')}".rstrip() for text in texts[2:]]
    paragraphs.append(next(background, "The authorities did not comment."))
    return paragraphs


# -- the web -------------------------------------------------------------------------------------------------------

OUTLET_NAMES = ("The Northern Ledger", "Asia Labour Review", "The Harbour Times", "Continental Dispatch",
                "The Evening Correspondent", "Pacific Rim Report", "The Civic Record", "Borderlands Weekly",
                "The Morning Wire", "Eastern Affairs Daily")


def varied_sites(outlets: int) -> list[SiteSpec]:
    """``outlets`` English sites, each with an RSS feed and a sitemap, publishing only varied articles."""
    return [SiteSpec(f"varied{i:02d}", OUTLET_NAMES[i % len(OUTLET_NAMES)], "en", feed="rss2", sitemap=True,
                     listing=False, articles=0, offtopic_every=0) for i in range(outlets)]


class VariedWeb(FixtureWeb):
    """A fixture web of ``outlets`` sites x ``articles`` varied articles, each with one planned figure edit.

    Kinds of edit take turns across the web (workers, hours, share, wage, year), so each kind gets about the same
    number. ``advance()`` makes every planned edit at once and publishes nothing; later states only churn."""

    def __init__(self, outlets: int = 6, articles: int = 8, seed: int = 0, *, fault_delay: float = 4.0) -> None:
        super().__init__(varied_sites(outlets), fault_delay=fault_delay)
        turn = random.Random(f"varied-kinds:{seed}").randrange(len(KINDS))
        for i, model in enumerate(self._models):
            for index in range(articles):
                kind = KINDS[(turn + index * outlets + i) % len(KINDS)]
                published = CLOCK_BASE - PUBLISH_GAP * (articles - index) - timedelta(minutes=(index * 17) % 50)
                model.articles.append(make_varied_article(model.spec.id, index, kind, published, seed))
        for responder in self._responders.values():
            responder.update(0)

    def __enter__(self) -> VariedWeb:
        self.start()
        return self

    def varied_articles(self) -> list[tuple[str, VariedArticle]]:
        """Every varied article with its URL, site by site, oldest first."""
        with self._lock:
            urls = self._urls()
            return [(article_url(urls[m.spec.id], a), a) for m in self._models for a in m.articles
                    if isinstance(a, VariedArticle)]

    def advance(self) -> StateChange:
        """Make every planned figure edit not made yet, as of the next state's time; publish nothing."""
        with self._lock:
            urls = self._urls()
            state = self._state + 1
            edits: dict[str, tuple[str, str]] = {}
            untouched = []
            for model in self._models:
                for article in model.articles:
                    url = article_url(urls[model.spec.id], article)
                    if article.figure_key():
                        edits[url] = article.edit_figure(clock(state))
                    else:
                        untouched.append(url)
            self._state = state
            for responder in self._responders.values():
                responder.update(state)
            return StateChange(state=state, edited=tuple(edits), figure_edits=edits, sidebar_only=tuple(untouched))
