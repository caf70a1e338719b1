"""The ontology: every term labelled in English and Traditional Chinese, commented and aligned."""

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from graph.core.namespaces import CD

OWN = str(CD)
EXTERNAL_VOCABULARIES = (
    "https://schema.org/",
    "http://www.w3.org/ns/org#",
    "http://xmlns.com/foaf/0.1/",
    "http://www.w3.org/ns/prov#",
    "http://www.w3.org/2006/time#",
    "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "http://www.opengis.net/ont/geosparql#",
    "http://www.wikidata.org/",
    "http://purl.org/dc/terms/",
    "http://www.w3.org/2004/02/skos/core#",
    "http://purl.org/linked-data/cube#",
)
TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)


def terms(ontology: rdflib.Graph) -> list[rdflib.URIRef]:
    found = {s for t in TERM_TYPES for s in ontology.subjects(RDF.type, t)}
    return sorted(s for s in found if str(s).startswith(OWN))


def test_the_ontology_declares_the_core_classes(ontology):
    declared = set(terms(ontology))
    for name in ("AdministrativeArea", "City", "County", "Prefecture", "State", "Territory",
                 "Country", "Organization", "School", "University", "Port", "Person",
                 "Membership", "Agreement", "SisterCityAgreement", "SisterSchoolAgreement",
                 "Event", "Visit", "VisitorStatistics", "Passage", "Report", "party",
                 "signatory", "witness", "signedOn", "signedAt", "topic", "status",
                 "sisterCityOf", "friendshipCityOf", "sisterSchoolOf", "partnerOf", "partOf",
                 "country"):
        assert CD[name] in declared, f"cd:{name} is not declared"


def test_every_term_has_english_and_traditional_chinese_labels(ontology):
    for term in terms(ontology):
        languages = {label.language for label in ontology.objects(term, RDFS.label)}
        assert {"en", "zh-Hant"} <= languages, f"{term} lacks an en or zh-Hant label"


def test_every_term_has_a_comment(ontology):
    missing = [t for t in terms(ontology) if ontology.value(t, RDFS.comment) is None]
    assert not missing


def test_every_term_is_aligned_to_a_public_vocabulary(ontology):
    """Directly, or through a super-class or super-property of ours that is aligned."""

    def aligned(term):
        lineage = set(ontology.transitive_objects(term, RDFS.subClassOf))
        lineage |= set(ontology.transitive_objects(term, RDFS.subPropertyOf))
        targets = {o for t in lineage for o in ontology.objects(t, SKOS.closeMatch)} | lineage
        return any(str(t).startswith(EXTERNAL_VOCABULARIES) for t in targets)

    assert [t for t in terms(ontology) if not aligned(t)] == []


SHORTCUTS = ["partnerOf", "sisterCityOf", "friendshipCityOf", "sisterSchoolOf"]


@pytest.mark.parametrize("prop", SHORTCUTS)
def test_shortcuts_are_symmetric_subproperties_of_partner_of(ontology, prop):
    assert (CD[prop], RDF.type, OWL.SymmetricProperty) in ontology
    assert CD.partnerOf in set(ontology.transitive_objects(CD[prop], RDFS.subPropertyOf))


def test_every_controlled_value_is_labelled_in_both_languages(ontology):
    concepts = set(ontology.subjects(SKOS.inScheme, None))
    assert concepts
    for concept in concepts:
        languages = {label.language for label in ontology.objects(concept, SKOS.prefLabel)}
        assert {"en", "zh-Hant"} <= languages, concept
