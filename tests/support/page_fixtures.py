"""Data the page tests share: a quote the Gdynia page shows, and resources whose labels, quotes
and links are HTML and script (the pages must show them as text)."""

QUOTE = "與格丁尼亞科西奧雷克 Aleksandra Kosiorek 市長共同簽署姊妹市協定"

HOSTILE_TURTLE = """\
@prefix cd:   <https://w3id.org/citydiplomacy/ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .

# Text that would run as script if a page pasted it into HTML unescaped.
<https://w3id.org/citydiplomacy/id/city/hostile> a cd:City ;
    rdfs:label "<img src=x onerror=alert(1)>"@en , "<script>alert('zh')</script>"@zh-Hant ;
    rdfs:comment "\\"><svg onload=alert(2)>"@en ;
    cd:country <https://w3id.org/citydiplomacy/id/country/poland> ;
    rdfs:seeAlso <javascript:alert(3)> ;
    prov:wasDerivedFrom <https://w3id.org/citydiplomacy/id/passage/hostile-l1> .

<https://w3id.org/citydiplomacy/id/agreement/hostile-gdynia-sister-city> a cd:SisterCityAgreement ;
    rdfs:label "<b onmouseover=alert(4)>Hostile</b> sister-city agreement"@en ;
    cd:party <https://w3id.org/citydiplomacy/id/city/hostile> ,
        <https://w3id.org/citydiplomacy/id/city/gdynia> ;
    cd:signedOn "2026-01"^^xsd:gYearMonth ;
    prov:wasDerivedFrom <https://w3id.org/citydiplomacy/id/passage/hostile-l1> .

<https://w3id.org/citydiplomacy/id/passage/hostile-l1> a cd:Passage ;
    cd:quote "<img src=y onerror=alert(5)> 簽署"@zh-Hant ;
    cd:lineStart 1 ;
    cd:lineEnd 1 ;
    cd:section "</blockquote><script>alert(6)</script>"@zh-Hant .
"""
