"""The lexicon read through the real slot functions: Korean, Russian, Chinese and Japanese words, glossed by
``prepare_text``, give the place, North Korean place, sector, profile, permission, direction, movement, visa kind,
subject and attribution that the English words give; and the places of the gazetteer are named in every language."""

from __future__ import annotations

import pytest

from analysis.claims.attribution import without_attributions
from analysis.claims.glossary import load_glossary
from analysis.claims.places import GAZETTEER
from analysis.claims.quantities import extract_from_prepared, prepare_text
from analysis.claims.slots import direction, movement, permission, places, profile, sectors, subject, visas

LANGUAGES = ("ko", "ru", "zh", "ja")


def _places_named(language: str) -> set[str]:
    named: set[str] = set()
    for gloss, languages in load_glossary().items():
        if language in languages:
            named |= places(gloss)
    return named


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_place_of_the_gazetteer_is_named_in_every_language(language: str) -> None:
    missing = set(GAZETTEER) - _places_named(language)
    assert not missing, (language, sorted(missing))


@pytest.mark.parametrize(("text", "place"), [
    # Russia: regions and cities, declined as Russian copy declines them
    ("연해주", "primorsky"), ("в Приморском крае", "primorsky"), ("滨海边疆区", "primorsky"), ("沿海地方", "primorsky"),
    ("하바롭스크", "khabarovsk"), ("в Хабаровске", "khabarovsk"), ("哈巴罗夫斯克", "khabarovsk"),
    ("ハバロフスク", "khabarovsk"), ("в Комсомольске-на-Амуре", "khabarovsk"),
    ("아무르주", "amur"), ("в Амурской области", "amur"), ("阿穆尔州", "amur"), ("в Благовещенске", "amur"),
    ("블라디보스토크", "vladivostok"), ("во Владивостоке", "vladivostok"), ("海参崴", "vladivostok"),
    ("ウラジオストク", "vladivostok"), ("в Находке", "primorsky"), ("в Уссурийске", "primorsky"),
    ("모스크바", "moscow"), ("в Подмосковье", "moscow"), ("莫斯科", "moscow"), ("モスクワ", "moscow"),
    ("상트페테르부르크", "st petersburg"), ("в Санкт-Петербурге", "st petersburg"), ("圣彼得堡", "st petersburg"),
    ("サンクトペテルブルク", "st petersburg"),
    ("카잔", "tatarstan"), ("в Казани", "tatarstan"), ("喀山", "tatarstan"), ("カザン", "tatarstan"),
    ("노보시비르스크", "novosibirsk"), ("в Новосибирске", "novosibirsk"), ("新西伯利亚", "novosibirsk"),
    ("톰스크", "tomsk"), ("в Томской области", "tomsk"), ("托木斯克", "tomsk"), ("トムスク", "tomsk"),
    ("이르쿠츠크", "irkutsk"), ("в Иркутске", "irkutsk"), ("伊尔库茨克", "irkutsk"), ("イルクーツク", "irkutsk"),
    ("사할린", "sakhalin"), ("в Южно-Сахалинске", "sakhalin"), ("库页岛", "sakhalin"), ("サハリン", "sakhalin"),
    ("쿠르스크", "kursk"), ("в Курской области", "kursk"), ("库尔斯克", "kursk"), ("クルスク", "kursk"),
    ("벨고로드", "belgorod"), ("в Белгородской области", "belgorod"), ("别尔哥罗德", "belgorod"),
    ("ベルゴロド", "belgorod"), ("로스토프", "rostov"), ("в Ростове-на-Дону", "rostov"), ("罗斯托夫", "rostov"),
    ("크라스노다르", "krasnodar"), ("в Краснодарском крае", "krasnodar"), ("克拉斯诺达尔", "krasnodar"),
    ("예카테린부르크", "yekaterinburg"), ("в Екатеринбурге", "yekaterinburg"), ("叶卡捷琳堡", "yekaterinburg"),
    ("エカテリンブルク", "yekaterinburg"),
    ("시베리아", "far east"), ("в Сибири", "far east"), ("西伯利亚", "far east"), ("シベリア", "far east"),
    ("극동", "far east"), ("на Дальнем Востоке", "far east"), ("远东", "far east"), ("極東", "far east"),
    ("в Якутии", "yakutia"), ("в Забайкальском крае", "zabaykalsky"), ("в Донецке", "donetsk"),
    # China: provinces and border cities
    ("랴오닝성", "liaoning"), ("в провинции Ляонин", "liaoning"), ("辽宁省", "liaoning"), ("遼寧省", "liaoning"),
    ("지린성", "jilin"), ("в провинции Цзилинь", "jilin"), ("吉林省", "jilin"), ("延辺", "jilin"),
    ("헤이룽장성", "heilongjiang"), ("в Хэйлунцзяне", "heilongjiang"), ("黑龙江", "heilongjiang"),
    ("黒竜江省", "heilongjiang"), ("하얼빈", "heilongjiang"),
    ("단둥", "dandong"), ("в Даньдуне", "dandong"), ("丹东", "dandong"), ("丹東", "dandong"),
    ("훈춘", "hunchun"), ("в Хуньчуне", "hunchun"), ("珲春", "hunchun"), ("琿春", "hunchun"),
    ("선양", "shenyang"), ("в Шэньяне", "shenyang"), ("沈阳", "shenyang"), ("瀋陽", "shenyang"),
    ("옌지", "jilin"), ("в Яньцзи", "jilin"), ("延吉", "jilin"), ("투먼", "hunchun"), ("图们", "hunchun"),
    ("図們", "hunchun"), ("다롄", "dalian"), ("в Даляне", "dalian"), ("大连", "dalian"), ("大連", "dalian"),
    ("青岛", "shandong"), ("베이징", "china"), ("в Пекине", "china"),
    # Asia, the Gulf, Africa, Europe and the West
    ("몽골", "mongolia"), ("в Монголии", "mongolia"), ("蒙古", "mongolia"), ("モンゴル", "mongolia"),
    ("쿠웨이트", "kuwait"), ("в Кувейте", "kuwait"), ("科威特", "kuwait"), ("クウェート", "kuwait"),
    ("카타르", "qatar"), ("в Катаре", "qatar"), ("卡塔尔", "qatar"), ("カタール", "qatar"),
    ("아랍에미리트", "uae"), ("в ОАЭ", "uae"), ("阿联酋", "uae"), ("アラブ首長国連邦", "uae"), ("두바이", "uae"),
    ("폴란드", "poland"), ("в Польше", "poland"), ("波兰", "poland"), ("ポーランド", "poland"),
    ("말레이시아", "malaysia"), ("в Малайзии", "malaysia"), ("马来西亚", "malaysia"), ("マレーシア", "malaysia"),
    ("라오스", "laos"), ("в Лаосе", "laos"), ("老挝", "laos"), ("ラオス", "laos"),
    ("캄보디아", "cambodia"), ("в Камбодже", "cambodia"), ("柬埔寨", "cambodia"), ("カンボジア", "cambodia"),
    ("베트남", "vietnam"), ("во Вьетнаме", "vietnam"), ("越南", "vietnam"), ("ベトナム", "vietnam"),
    ("아프리카", "africa"), ("в Африке", "africa"), ("非洲", "africa"), ("アフリカ", "africa"),
    ("앙골라", "angola"), ("в Анголе", "angola"), ("安哥拉", "angola"), ("アンゴラ", "angola"),
    ("적도기니", "equatorial guinea"), ("в Экваториальной Гвинее", "equatorial guinea"),
    ("赤道几内亚", "equatorial guinea"), ("赤道ギニア", "equatorial guinea"),
    ("나미비아", "namibia"), ("в Намибии", "namibia"), ("纳米比亚", "namibia"), ("ナミビア", "namibia"),
    ("세네갈", "senegal"), ("в Сенегале", "senegal"), ("塞内加尔", "senegal"), ("セネガル", "senegal"),
    ("베냉", "benin"), ("в Бенине", "benin"), ("贝宁", "benin"), ("ベナン", "benin"),
    ("탄자니아", "tanzania"), ("в Танзании", "tanzania"), ("坦桑尼亚", "tanzania"), ("タンザニア", "tanzania"),
    ("우간다", "uganda"), ("в Уганде", "uganda"), ("乌干达", "uganda"), ("ウガンダ", "uganda"),
    ("남수단", "sudan"), ("в Тоголезской Республике", "togo"),
    ("유럽", "europe"), ("в Европе", "europe"), ("欧洲", "europe"), ("ヨーロッパ", "europe"), ("유럽연합", "europe"),
    ("서방", "west"), ("западных", "west"), ("西方", "west"), ("西側", "west"),
    ("일본", "japan"), ("в Японии", "japan"), ("日本", "japan"), ("서울", "south korea"), ("미국", "united states"),
])  # fmt: skip
def test_places_are_read_in_every_language(text: str, place: str) -> None:
    prepared = prepare_text(text)
    assert place in places(prepared), prepared


@pytest.mark.parametrize("text", [
    "개성공단", "개성", "Кэсонский технопарк", "в Кэсоне", "开城工业园区", "开城", "開城工業団地",
    "원산갈마 해안관광지구", "원산", "Вонсан-Калма", "в Вонсане", "元山葛麻", "元山",
    "라선경제무역지대", "나선시", "в Расоне", "罗先", "羅先", "나진항",
    "신의주", "в Синыйджу", "新义州", "新義州", "함흥", "Хамхын", "咸兴", "咸興", "청진", "в Чхонджине", "清津",
])  # fmt: skip
def test_north_korean_places_mean_work_inside_north_korea(text: str) -> None:
    prepared = prepare_text(f"{text} 북한 노동자")
    assert subject(prepared).domestic, prepared


@pytest.mark.parametrize("text", [
    "수산물 원산지", "경우에 따라선", "사라진 노동자", "끝나진 않았다", "原産地",
])  # fmt: skip
def test_words_that_contain_a_north_korean_place_name_are_not_one(text: str) -> None:
    prepared = prepare_text(f"{text} 북한 노동자")
    assert not subject(prepared).domestic, prepared


@pytest.mark.parametrize(("text", "sector"), [
    ("수산물 가공 공장", "seafood"), ("на рыбоперерабатывающем заводе", "seafood"), ("水产加工厂", "seafood"),
    ("水産加工場", "seafood"), ("오징어 손질", "seafood"), ("переработка морепродуктов", "seafood"),
    ("농장", "farming"), ("на фермах", "farming"), ("农场", "farming"), ("農場", "farming"), ("в теплицах", "farming"),
    ("비닐하우스", "farming"),
    ("의류 공장", "clothing"), ("на швейной фабрике", "clothing"), ("服装厂", "clothing"), ("縫製工場", "clothing"),
    ("봉제", "clothing"),
    ("벌목장", "logging"), ("на лесозаготовках", "logging"), ("伐木场", "logging"), ("伐採", "logging"),
    ("林業", "logging"), ("목재", "logging"),
    ("건설 현장", "construction"), ("на стройке", "construction"), ("建筑工地", "construction"),
    ("建設現場", "construction"), ("공사장", "construction"), ("施工", "construction"),
    ("정보기술", "it"), ("программисты", "it"), ("软件开发", "it"), ("ソフトウェア", "it"),
    ("식당", "restaurants"), ("в ресторане", "restaurants"), ("餐厅", "restaurants"), ("レストラン", "restaurants"),
    ("여종업원", "restaurants"), ("официантки", "restaurants"),
    ("조선소", "shipyards"), ("на верфи", "shipyards"), ("造船厂", "shipyards"), ("造船所", "shipyards"),
    ("탄광", "mining"), ("на шахте", "mining"), ("煤矿", "mining"), ("鉱山", "mining"), ("광부", "mining"),
    ("간호사", "medical"), ("врачи", "medical"), ("医生", "medical"), ("看護師", "medical"), ("의료진", "medical"),
    ("어선", "fishing"), ("рыболовецкие суда", "fishing"), ("渔船", "fishing"), ("漁船", "fishing"),
])  # fmt: skip
def test_sectors_are_read_in_every_language(text: str, sector: str) -> None:
    prepared = prepare_text(text)
    assert sector in sectors(prepared, text), prepared


@pytest.mark.parametrize(("text", "expected"), [
    ("젊은 여성", {"young", "women"}), ("молодые женщины", {"young", "women"}), ("年轻女性", {"young", "women"}),
    ("若い女性", {"young", "women"}), ("девушки", {"young", "women"}), ("姑娘们", {"young", "women"}),
    ("20대 여성", {"young", "women"}), ("20代の女性", {"young", "women"}),
    ("중년 남성", {"older", "men"}), ("мужчины средних лет", {"older", "men"}), ("中年男性", {"older", "men"}),
    ("中年の男性", {"older", "men"}), ("50대 남성", {"older", "men"}),
])  # fmt: skip
def test_who_the_workers_are_is_read_in_every_language(text: str, expected: set[str]) -> None:
    prepared = prepare_text(text)
    assert profile(prepared) == expected, prepared


@pytest.mark.parametrize(("text", "expected"), [
    ("외출이 허용되지 않는다", "ban"), ("숙소를 떠나는 것이 거의 허용되지 않는다", "ban"), ("고용을 금지했다", "ban"),
    ("계속 고용하도록 허용했다", "allow"), ("비자 발급을 중단했다", "ban"),
    ("им запрещено покидать общежитие", "ban"), ("им не разрешают выходить", "ban"),
    ("им редко разрешают покидать стройку", "ban"), ("разрешили продолжать работу", "allow"),
    ("приостановила выдачу виз", "ban"),
    ("禁止雇用朝鲜工人", "ban"), ("不允许离开宿舍", "ban"), ("很少被允许离开工地", "ban"), ("允许继续雇用", "allow"),
    ("暂停发放签证", "ban"), ("继续发放工作许可", "allow"), ("продолжают выдавать разрешения", "allow"),
    ("прекратил выдачу виз", "ban"), ("停止发放签证", "ban"),
    ("外出は許されていない", "ban"), ("寮を離れることはほとんど許されない", "ban"), ("雇用が禁止された", "ban"),
    ("雇用を認めた", "allow"), ("ビザの発給を停止した", "ban"),
])  # fmt: skip
def test_barred_or_allowed_is_read_in_every_language(text: str, expected: str) -> None:
    prepared = prepare_text(text)
    assert permission(prepared) == expected, prepared


@pytest.mark.parametrize(("text", "expected"), [
    ("노동자 수가 늘었다", "up"), ("급증했다", "up"), ("두 배로 늘었다", "up"), ("노동자가 줄었다", "down"),
    ("탈출은 훨씬 드물어졌다", "down"), ("탈출이 어려워졌다", "down"),
    ("число рабочих увеличилось", "up"), ("выросло вдвое", "up"), ("сократилось", "down"), ("побеги стали реже", "down"),
    ("人数增加", "up"), ("翻了一番", "up"), ("人数减少", "down"), ("越来越少", "down"), ("更加罕见", "down"),
    ("増えた", "up"), ("倍増した", "up"), ("減少した", "down"), ("脱出はまれになった", "down"),
])  # fmt: skip
def test_direction_of_change_is_read_in_every_language(text: str, expected: str) -> None:
    prepared = prepare_text(text)
    assert direction(prepared) == expected, prepared


@pytest.mark.parametrize(("text", "expected"), [
    ("러시아에 입국했다", "in"), ("러시아로 들어왔다", "in"), ("귀국했다", "out"), ("본국으로 돌려보냈다", "out"),
    ("북한으로 송환됐다", "out"), ("노동자들을 귀국시켰다", "out"), ("노동자들을 추방했다", "out"),
    ("въехали в Россию", "in"), ("прибыли в Приморье", "in"), ("вернуть на родину", "out"), ("выслали рабочих", "out"),
    ("отправили домой", "out"), ("вернулись домой", "out"),
    ("入境俄罗斯", "in"), ("遣返朝鲜工人", "out"), ("送回朝鲜", "out"), ("已经回国", "out"), ("抵达俄罗斯", "in"),
    ("ロシアに入国した", "in"), ("労働者を帰国させた", "out"), ("送還された", "out"), ("出国した", "out"),
    ("本国に送り返した", "out"),
])  # fmt: skip
def test_coming_and_going_is_read_in_every_language(text: str, expected: str) -> None:
    prepared = prepare_text(text)
    assert movement(prepared) == expected, prepared


@pytest.mark.parametrize(("text", "kinds"), [
    ("유학 및 관광 비자로", {"student", "tourist"}), ("по студенческим и туристическим визам", {"student", "tourist"}),
    ("以学生和旅游签证", {"student", "tourist"}), ("留学や観光ビザで", {"student", "tourist"}),
    ("상용 비자", {"business"}), ("по деловым визам", {"business"}), ("商务签证", {"business"}),
    ("就労ビザ", {"work"}), ("по рабочим визам", {"work"}), ("연수 비자", {"training"}),
])  # fmt: skip
def test_visa_kinds_are_read_in_every_language(text: str, kinds: set[str]) -> None:
    assert visas(prepare_text(text)) == kinds


@pytest.mark.parametrize("text", [
    "북한 노동자", "북한 인력", "북한 노무자", "북한 근로자", "북한 파견 노동자", "북한 노동 인력",
    "северокорейские трудовые мигранты", "рабочие из КНДР", "северокорейские разнорабочие",
    "северокорейские гастарбайтеры",
    "朝鲜劳务人员", "朝鲜外派劳工", "朝鲜劳工", "朝鲜务工人员",
    "北朝鮮の働き手", "北朝鮮の労務者", "北朝鮮の派遣労働者", "北朝鮮労働者",
])  # fmt: skip
def test_worker_words_journalists_use_are_north_korean_workers(text: str) -> None:
    prepared = prepare_text(text)
    assert subject(prepared).dprk_workers, prepared


@pytest.mark.parametrize("text", [
    "중국인 노동자", "中国工人", "ネパール人労働者", "узбекские рабочие", "이주 노동자", "ロシア人労働者",
])  # fmt: skip
def test_workers_of_another_nationality_are_told_apart(text: str) -> None:
    prepared = prepare_text(text)
    found = subject(prepared)
    assert found.foreign_workers and not found.dprk_workers, prepared


@pytest.mark.parametrize("text", [
    "탈북민들에 따르면, 해외 노동자 임금의 대부분은 국가가 거둬간다.",
    "脱北者によると、海外での稼ぎの大半は国家に吸い上げられる。",
    "По словам перебежчиков, большую часть заработка забирает государство.",
    "据脱北者透露，大部分收入被国家收走。",
    "脱北者称，大部分收入被国家收走。",
])  # fmt: skip
def test_who_reports_is_an_attribution_not_the_subject(text: str) -> None:
    prepared = prepare_text(text)
    assert "defectors" in prepared and "defectors" not in without_attributions(prepared), prepared
    assert "defector" not in subject(prepared).roles


@pytest.mark.parametrize(("text", "words"), [
    ("탈북민들이 증언했다", ("testified",)), ("元労働者が証言した", ("testified",)),
    ("дали показания", ("testified",)), ("前工人作证", ("testified",)),
    ("유엔 대북제재위원회 전문가 패널", ("united nations", "north korea sanctions committee", "panel of experts")),
    ("Группа экспертов комитета ООН по санкциям", ("panel of experts", "united nations")),
    ("联合国对朝制裁委员会专家小组", ("united nations", "sanctions committee", "panel of experts")),
    ("国連の北朝鮮制裁委員会専門家パネル", ("united nations", "sanctions committee", "panel of experts")),
    ("러시아가 거부권을 행사했다", ("russia", "vetoed")), ("Россия наложила вето", ("russia", "vetoed")),
    ("俄罗斯行使否决权", ("russia", "vetoed")), ("ロシアが拒否権を行使した", ("russia", "vetoed")),
    ("미국 재무부", ("united states", "treasury")), ("Минфин США", ("finance ministry",)),
    ("美国财政部", ("united states", "finance ministry")), ("米財務省", ("treasury",)),
])  # fmt: skip
def test_bodies_and_their_acts_are_glossed(text: str, words: tuple[str, ...]) -> None:
    prepared = prepare_text(text)
    assert all(f" {word} " in f" {' '.join(prepared.split())} " for word in words), prepared


@pytest.mark.parametrize("text", [
    "по данным Росстата", "러시아 통계청 자료", "中国政府", "ロシア政府の統計", "러시아 정부",
])  # fmt: skip
def test_a_place_named_as_a_source_is_not_where(text: str) -> None:
    prepared = prepare_text(text)
    assert not places(prepared), prepared


@pytest.mark.parametrize(("text", "taken"), [
    ("労働者の手元に残るのは賃金の10%にすぎない", 90.0), ("労働者が受け取るのは賃金の1割だけだ", 90.0),
    ("Рабочим остаётся лишь 10% зарплаты", 90.0), ("工人只能留下工资的10%", 90.0), ("到手的只有10%", 90.0),
])  # fmt: skip
def test_a_share_the_workers_keep_is_the_complement_of_what_is_taken(text: str, taken: float) -> None:
    [share] = [quantity for quantity in extract_from_prepared(prepare_text(text)) if quantity.kind == "percent"]
    assert share.complement and 100.0 - share.value == taken
