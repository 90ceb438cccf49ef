"""A small gazetteer for the places that overseas-labour reporting names: spellings, demonyms and containment.

North Korea itself is not a place here: it is the subject. Each row is ``name: (phrases, parents)``: casefolded
phrases separated by "|" (matched on whole words; punctuation and possessives ignored), and the regions and
countries that contain the place.
"""

from __future__ import annotations

_RU = ("russia",)
_FE = ("russia", "far east")
_CN = ("china",)
_ME = ("middle east",)
_AF = ("africa",)
_EU = ("europe",)
_SEA = ("southeast asia", "asia")
_SA = ("south asia", "asia")
_CA = ("central asia", "asia")

GAZETTEER: dict[str, tuple[str, tuple[str, ...]]] = {
    # Russia and its regions
    "russia": ("russia|russian|russia's|kremlin|the russian federation", ()),
    "moscow": ("moscow", _RU),
    "st petersburg": ("st petersburg|saint petersburg", _RU),
    "far east": ("far east|far eastern|siberia|siberian", _RU),
    "vladivostok": ("vladivostok", _FE),
    "primorsky": ("primorye|primorsky", _FE),
    "khabarovsk": ("khabarovsk", _FE),
    "amur": ("amur", _FE),
    "sakhalin": ("sakhalin", _FE),
    "kursk": ("kursk", _RU),
    "belgorod": ("belgorod", _RU),
    "rostov": ("rostov", _RU),
    "novosibirsk": ("novosibirsk", _RU),
    "tatarstan": ("tatarstan|kazan", _RU),
    "donetsk": ("donetsk|donbas|mariupol|luhansk", ("ukraine",)),
    "ukraine": ("ukraine|ukrainian|kyiv", _EU),
    # China and its provinces and cities
    "china": ("china|chinese|china's|beijing|prc", ()),
    "jilin": ("jilin|yanbian|yanji|changchun", _CN),
    "liaoning": ("liaoning", _CN),
    "heilongjiang": ("heilongjiang|harbin", _CN),
    "dandong": ("dandong|donggang", (*_CN, "liaoning")),
    "shenyang": ("shenyang", (*_CN, "liaoning")),
    "hunchun": ("hunchun|tumen", (*_CN, "jilin")),
    "shandong": ("shandong|qingdao|weihai", _CN),
    "zhejiang": ("zhejiang", _CN),
    "fujian": ("fujian", _CN),
    "guangdong": ("guangdong|shenzhen|guangzhou", _CN),
    "shanghai": ("shanghai", _CN),
    "hong kong": ("hong kong", _CN),
    "macau": ("macau|macao", _CN),
    "taiwan": ("taiwan|taiwanese", ("asia",)),
    # East and Southeast Asia
    "south korea": ("south korea|south korean|seoul", ("asia",)),
    "japan": ("japan|japanese|tokyo", ("asia",)),
    "mongolia": ("mongolia|mongolian|ulaanbaatar", ("asia",)),
    "southeast asia": ("southeast asia|south-east asia", ("asia",)),
    "cambodia": ("cambodia|cambodian|phnom penh", _SEA),
    "laos": ("laos|lao|vientiane", _SEA),
    "vietnam": ("vietnam|vietnamese|hanoi", _SEA),
    "thailand": ("thailand|thai|bangkok", _SEA),
    "malaysia": ("malaysia|malaysian|kuala lumpur", _SEA),
    "singapore": ("singapore", _SEA),
    "indonesia": ("indonesia|indonesian|jakarta", _SEA),
    "philippines": ("philippines|filipino|manila", _SEA),
    "myanmar": ("myanmar|burma|burmese", _SEA),
    # South and Central Asia
    "india": ("india|indian", _SA),
    "sri lanka": ("sri lanka|sri lankan", _SA),
    "nepal": ("nepal|nepali|nepalese", _SA),
    "bangladesh": ("bangladesh|bangladeshi", _SA),
    "pakistan": ("pakistan|pakistani", _SA),
    "central asia": ("central asia|central asian", ("asia",)),
    "kazakhstan": ("kazakhstan|kazakh", _CA),
    "uzbekistan": ("uzbekistan|uzbek", _CA),
    "kyrgyzstan": ("kyrgyzstan|kyrgyz", _CA),
    "tajikistan": ("tajikistan|tajik", _CA),
    "turkmenistan": ("turkmenistan", _CA),
    "asia": ("asia|asian", ()),
    # Middle East
    "middle east": ("middle east|gulf states|the gulf", ()),
    "qatar": ("qatar|qatari|doha", _ME),
    "kuwait": ("kuwait|kuwaiti", _ME),
    "uae": ("uae|united arab emirates|emirati|dubai|abu dhabi", _ME),
    "saudi arabia": ("saudi arabia|saudi", _ME),
    "oman": ("oman|omani", _ME),
    "bahrain": ("bahrain", _ME),
    "iran": ("iran|iranian", _ME),
    "iraq": ("iraq|iraqi", _ME),
    "syria": ("syria|syrian", _ME),
    "jordan": ("jordan", _ME),
    "israel": ("israel|israeli", _ME),
    "turkey": ("turkey|turkish|türkiye", _ME),
    # Africa
    "africa": ("africa|african", ()),
    "libya": ("libya|libyan", _AF),
    "egypt": ("egypt|egyptian", _AF),
    "algeria": ("algeria|algerian", _AF),
    "nigeria": ("nigeria|nigerian", _AF),
    "angola": ("angola|angolan", _AF),
    "senegal": ("senegal|senegalese", _AF),
    "namibia": ("namibia|namibian", _AF),
    "zimbabwe": ("zimbabwe", _AF),
    "mozambique": ("mozambique", _AF),
    "equatorial guinea": ("equatorial guinea", _AF),
    "tanzania": ("tanzania", _AF),
    "uganda": ("uganda|ugandan", _AF),
    "ethiopia": ("ethiopia|ethiopian", _AF),
    "congo": ("congo|congolese", _AF),
    "benin": ("benin", _AF),
    # Europe
    "europe": ("europe|european|the eu", ()),
    "poland": ("poland|polish|gdansk|szczecin", _EU),
    "belarus": ("belarus|belarusian|minsk", _EU),
    "germany": ("germany|german", _EU),
    "france": ("france|french", _EU),
    "netherlands": ("netherlands|dutch", _EU),
    "malta": ("malta|maltese", _EU),
    "czech republic": ("czech republic|czech", _EU),
    "romania": ("romania|romanian", _EU),
    "bulgaria": ("bulgaria|bulgarian", _EU),
    "norway": ("norway|norwegian", _EU),
    "united kingdom": ("united kingdom|britain|british|london", _EU),
    # The Americas and Oceania
    "united states": ("united states|america|american|washington", ()),
    "canada": ("canada|canadian", ()),
    "mexico": ("mexico|mexican", ()),
    "brazil": ("brazil|brazilian", ()),
    "cuba": ("cuba|cuban", ()),
    "venezuela": ("venezuela|venezuelan", ()),
    "peru": ("peru|peruvian", ()),
    "australia": ("australia|australian", ()),
}
