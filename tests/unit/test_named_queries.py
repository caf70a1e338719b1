"""Each named query gives the report's answer to its question."""

import pytest

from graph.core.settings import Settings
from graph.sparql.catalogue import catalogue

QUERIES = catalogue(Settings().queries_dir)
ID = "https://w3id.org/citydiplomacy/id/"


@pytest.fixture(scope="module")
def ask(store):
    """Run a named query with parameters and return rows as dicts of plain strings."""

    def run(name: str, **values: str) -> list[dict[str, str]]:
        query = QUERIES[name]
        result = store.query(query.text, query.bindings(values))
        names = [v.value for v in result.variables]
        return [{n: (row[n].value if row[n] is not None else None) for n in names}
                for row in result]

    return run


def test_1_partners_of_kaohsiung_with_kind_and_date(ask):
    rows = ask("partners-of", actor="city/kaohsiung")
    ties = {(r["partnerLabel"], r["kindLabel"], r["date"]) for r in rows}
    assert ("Gdynia", "Sister-city agreement", "2025-09") in ties
    assert ("Katowice", "Friendship declaration", "2025-09") in ties
    assert ("Katowice", "Sister-city agreement", "2026-03") in ties
    assert ("Guam", "Sister-city agreement", "2026-03") in ties
    assert ("San Antonio", "Sister-city agreement", "1982") in ties
    assert ("Kumamoto City", "Friendship-city agreement", "2017") in ties
    assert ("Hachioji", "Friendship-city agreement", "2006") in ties
    assert ("Aomori Prefecture", "Partner city (kind not stated)", None) in ties
    assert ("Poznań", "Memorandum of understanding", None) in ties


def test_1_partners_of_gdynia_include_kaohsiung_only_through_agreements(ask):
    partners = {r["partnerLabel"] for r in ask("partners-of", actor="city/gdynia")}
    assert "Kaohsiung" in partners


def test_2_sister_cities_by_country(ask):
    rows = {r["countryLabel"]: (int(r["count"]), set(r["sisters"].split(", ")))
            for r in ask("sister-cities-by-country", city="city/kaohsiung")}
    assert rows == {
        "Poland": (2, {"Gdynia", "Katowice"}),
        "United States": (3, {"Guam", "San Antonio", "Portland"}),
        "South Korea": (1, {"Busan"}),
    }


def test_3_parties_and_signatories_of_the_trilateral_semiconductor_memorandum(ask):
    rows = ask("agreement-parties",
               agreement="agreement/kaohsiung-arizona-kumamoto-economic-exchange-mou")
    parties = {r["actorLabel"] for r in rows if r["part"] == "party"}
    signatories = {(r["actorLabel"], r["roleLabel"], r["inLabel"])
                   for r in rows if r["part"] == "signatory"}
    assert parties == {"Kaohsiung", "Arizona", "Kumamoto Prefecture"}
    assert signatories == {("Chen Chi-mai", "Mayor", "Kaohsiung"),
                           ("Katie Hobbs", "Governor", "Arizona"),
                           ("Kimura Takashi", "Governor", "Kumamoto Prefecture")}


def test_3_the_port_memorandum_was_witnessed_by_gdyniasdeputy_mayor(ask):
    rows = ask("agreement-parties", agreement="agreement/port-of-kaohsiung-port-of-gdynia-mou-2026")
    assert {r["actor"] for r in rows if r["part"] == "witness"} == {ID + "person/augustyniak"}
    assert {r["actor"] for r in rows if r["part"] == "party"} == {ID + "port/kaohsiung",
                                                                   ID + "port/gdynia"}


def test_4_semiconductor_agreements_and_the_since_filter(ask):
    undated = {r["agreement"] for r in ask("agreements-on-topic", topic="topic/semiconductors")}
    assert ID + "agreement/six-party-semiconductor-ecosystem-global-talent-mou" in undated
    assert ID + "agreement/kaohsiung-arizona-kumamoto-economic-exchange-mou" in undated
    # The report dates none of them, so asking "since 2025" returns none, rather than a guess.
    assert ask("agreements-on-topic", topic="topic/semiconductors", since="2025") == []
    education_2026 = {r["date"] for r in ask("agreements-on-topic", topic="topic/education",
                                             since="2026")}
    assert education_2026 == {"2026-03"}


def test_5_sister_schools_of_yangming(ask):
    rows = ask("sister-schools-of", school="school/kaohsiung-yangming-junior-high")
    sisters = {r["sister"].removeprefix(ID + "school/") for r in rows}
    assert sisters == {f"mutsu-{s}-junior-high" for s in (
        "tanabu", "mutsu", "sekine", "chikagawa", "ominato", "odaira", "ohata", "wakinosawa",
        "kawauchi")}
    assert {r["date"] for r in rows if r["sister"].endswith("kawauchi-junior-high")} == \
        {"1993", "2025-12"}


def test_6_officials_of_kaohsiung_and_what_they_signed(ask):
    rows = ask("officials-of", actor="city/kaohsiung")
    signed = {(r["personLabel"], r["activity"].removeprefix(ID)) for r in rows
              if r["how"] == "signed"}
    assert ("Lo Ta-sheng", "agreement/kaohsiung-gdynia-sister-city-2025") in signed
    assert ("Lo Ta-sheng", "agreement/kaohsiung-katowice-friendship-declaration-2025") in signed
    assert ("Chen Chi-mai", "agreement/kaohsiung-arizona-kumamoto-economic-exchange-mou") in signed
    roles = {(r["personLabel"], r["roleLabel"]) for r in rows}
    assert ("Lin Chin-rong", "Deputy mayor") in roles


def test_7_visits_to_kaohsiung_by_year_with_leaders(ask):
    rows = ask("visits-by-year", host="city/kaohsiung")
    by_year = {(r["year"], r["leaderLabel"]) for r in rows}
    assert ("2025", "Abe Kenichi") in by_year
    assert ("2026", "Marcin Krupa") in by_year
    assert ("2026", "Lou Leon Guerrero") in by_year
    years = [r["year"] for r in rows if r["year"]]
    assert years == sorted(years)


def test_8_who_took_part_in_the_smart_city_expo(ask):
    rows = ask("event-participants", event="event/2026-kaohsiung-smart-city-expo")
    actors = {r["actor"].removeprefix(ID) for r in rows}
    for expected in ("city/san-antonio", "city/kumamoto-city", "city/kitakyushu", "city/dresden",
                     "city/katowice", "city/poznan", "city/gdynia", "city/gdansk",
                     "city/the-hague", "group/ukraine-six-cities",
                     "office/marshall-islands-embassy", "office/polish-office-taipei",
                     "office/netherlands-office-taipei"):
        assert expected in actors


def test_9_partner_links_beyond_kaohsiung(ask):
    rows = ask("partner-links-beyond", hub="city/kaohsiung")
    pairs = {frozenset((r["a"].removeprefix(ID), r["b"].removeprefix(ID))) for r in rows}
    assert frozenset(("state/arizona", "prefecture/kumamoto")) in pairs
    assert frozenset(("city/san-antonio", "city/kumamoto-city")) in pairs
    assert frozenset(("school/kaohsiung-yangming-junior-high",
                      "school/mutsu-kawauchi-junior-high")) in pairs
    assert all(ID + "city/kaohsiung" not in (r["a"], r["b"]) for r in rows)


def test_10_the_source_quote_behind_the_gdynia_agreement(ask):
    rows = ask("source-of", resource="agreement/kaohsiung-gdynia-sister-city-2025")
    assert {r["statement"] for r in rows} == {ID + "agreement/kaohsiung-gdynia-sister-city-2025"}
    quotes = " ".join(r["quote"] for r in rows)
    assert "與格丁尼亞科西奧雷克 Aleksandra Kosiorek 市長共同簽署姊妹市協定" in quotes
    assert {r["reportTitle"] for r in rows} == {"行政暨國際處業務報告"}


def test_10_the_sources_behind_an_actor_are_those_that_mention_it(ask, store):
    rows = ask("source-of", resource="city/gdynia")
    statements = {r["statement"] for r in rows}
    assert ID + "agreement/kaohsiung-gdynia-sister-city-2025" in statements
    assert ID + "agreement/kaohsiung-guam-sister-city-2026" not in statements


def test_11_agreements_per_year_and_kind(ask):
    rows = {(r["year"], r["kindLabel"]): int(r["count"]) for r in ask("agreements-timeline")}
    assert rows[("1982", "Sister-city agreement")] == 1
    assert rows[("2025", "Sister-city agreement")] == 1
    assert rows[("2026", "Sister-city agreement")] == 2
    assert rows[("2025", "Sister-school agreement")] == 9
    assert rows[(None, "Memorandum of understanding")] >= 4


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("格丁尼亞", None, "city/gdynia"),
    ("gdynia", "pl", "city/gdynia"),
    ("GDAŃSK", None, "city/gdansk"),
    ("むつ", "ja", "city/mutsu"),
    ("PPNT", None, "park/ppnt"),
])
def test_12_label_search_in_any_language(ask, text, lang, expected):
    values = {"text": text} | ({"lang": lang} if lang else {})
    found = {r["resource"].removeprefix(ID) for r in ask("label-search", **values)}
    assert expected in found
    if lang:
        assert {r["language"] for r in ask("label-search", **values)} <= {lang}
