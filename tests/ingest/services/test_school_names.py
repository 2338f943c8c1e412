"""School levels read from names: real names of ``school`` POIs of the Turin tiles.

Every name below is copied from the ``poi`` layer of ../shared/data/osm_tiles
(subclass ``school``); the expected levels are what the name itself says, read by
hand, with the taxonomy's rule that an *istituto comprensivo* naming no level is a
primary and a lower-secondary school. These need no data files.
"""

from __future__ import annotations

import pandas as pd
import pytest

from territorio.ingest.services.vector_tiles import SCHOOL_LEVELS, school_levels_from_name

C, P, L, U, S = "childcare", "primary", "lower_secondary", "upper_secondary", "secondary"

REAL_NAMES: list[tuple[str, set[str], str | None]] = [
    # plain levels, in every spelling the tiles use
    ("Scuola Elementare", {P}, None),
    ("Scuole Pubbliche Elementari", {P}, None),
    ("Scuola Primaria Statale Massimo d'Azeglio", {P}, None),
    ("Ecole Elementaire Lucio Duc", {P}, None),  # French, Valli valdesi
    ("Ecoles Primaries doct. Baraing", {P}, None),
    ("Parato primary school", {P}, None),
    ('Direzione Didattica "Albert Sabin"', {P}, None),  # the office of primary schools
    ("Scuola Materna", {C}, None),
    ("Asilo Nido", {C}, None),
    ("Borgarello nursery school", {C}, None),
    ("Scuola Media Statale", {L}, None),
    ("Scuole Medie Cavour", {L}, None),
    ('Scuola Secondaria di 1° grado "Gramsci"', {L}, None),
    ("Scuola Secondaria di I Grado “A. Viola”", {L}, None),
    ('Scuola Secondaria di I° Grado "L. Lagrange"', {L}, None),
    ('Scuola Secondaria Statale di Primo Grado "Giuseppe Perotti"', {L}, None),
    ("Scuola Secondaria Inferiore di San Secondo", {L}, None),
    # a "scuola secondaria" whose grade the name does not say: secondary, grade unknown
    ('Scuola secondaria "Enrico Fermi"', {S}, None),
    # upper secondary, with the SNAI school type
    ("Liceo Scientifico Statale Antonio Gramsci", {U}, "liceo"),
    ("Lycée Francais International Jean Giono", {U}, "liceo"),
    ("Istituto Tecnico Commerciale e per Geometri Giovanni Cena", {U}, "tecnico"),
    ("ITIS Pininfarina", {U}, "tecnico"),
    ("I.T.T.S. Carlo Grassi", {U}, "tecnico"),
    ("Istituto Majorana-Sez Tecnica", {U}, "tecnico"),
    ('Istituto Professionale di Stato "Dalmazio Birago"-succursale', {U}, "professionale"),
    ("IPSIA Porro", {U}, "professionale"),
    ("stituto Alberghiero succursale J.B. Beccari", {U}, "professionale"),  # typo in OSM
    ('Istituto Istruzione Superiore "8 Marzo"', {U}, "non_specificato"),
    ("I.I.S. “Fermi- Galilei”", {U}, "non_specificato"),
    (
        "Istituto tecnico industriale - Liceo scientifico tecnologico Enzo Ferrari",
        {U},
        "liceo+tecnico",
    ),
    # several levels in one name
    ("Scuola Primaria e dell'Infanzia", {C, P}, None),
    ("Scuola dell'Infanzia e Primaria “B. Ciari”", {C, P}, None),
    # istituto comprensivo: both, unless the name says which site it is
    ("Istituto Comprensivo Francesco Gonin", {P, L}, None),
    ("I.C. Pinerolo III - Piscina", {P, L}, None),
    ("IC I Nichelino", {P, L}, None),
    ("Istituto Comprensivo Trino-Scuola Secondaria di I Grado", {L}, None),
    ("IC G.Rodari Scuola primaria", {P}, None),
    (
        'Istituto comprensivo statale "ADELAIDE CAIROLI" - scuola dell\'infanzia - succursale',
        {C},
        None,
    ),
    # names that say no level: unknown, never guessed
    ("Istituto Federico Albert", set(), None),  # a liceo in Lanzo, but the name does not say
    ("La Castiglia", set(), None),
    ("Complesso Scolastico", set(), None),
    ('Formazione professionale "Amaldi"', set(), None),  # a training centre, not a school level
    ("Scuola Guida Petroz", set(), None),  # a driving school
    ("Scuola di Musica M° Alessandro Chiamberlando", set(), None),
    ("Scuola Statale Ceresole", set(), None),
    ("Istituto Medico", set(), None),  # "medi-" is not "media"
]


@pytest.mark.parametrize(("name", "levels", "school_type"), REAL_NAMES)
def test_real_school_names(name: str, levels: set[str], school_type: str | None) -> None:
    got = school_levels_from_name(pd.Series([name])).iloc[0]
    assert {lvl for lvl in SCHOOL_LEVELS if got[lvl]} == levels
    assert got["school_type"] == school_type


def test_missing_names_are_unknown() -> None:
    got = school_levels_from_name(pd.Series([None, "", float("nan")], dtype=object))
    assert not got[list(SCHOOL_LEVELS)].to_numpy().any()
    assert got.index.tolist() == [0, 1, 2]
