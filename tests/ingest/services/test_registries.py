"""Registry adapters on small files in the publishers' exact layouts (rows copied from
the real files, some coordinates edited to cover every validation case)."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from territorio.errors import DataValidationError, MissingColumnError, UnknownCategoryError
from territorio.ingest.services import load_service_source
from territorio.ingest.services.registries import miur_school_category
from tests.ingest.services._toy import cfg, write

GISCO_HEADER = (
    "id,hospital_name,site_name,lat,lon,geo_qual,street,house_number,postcode,city,cc,country,"
    "cap_beds,cap_prac,cap_rooms,emergency,facility_type,public_private,list_specs,tel,email,url,"
    "ref_date,pub_date,comments\n"
)
GISCO_ROWS = (
    # Torino (inside the "Torino" box)
    "301-10003-,OSPEDALE MARIA VITTORIA,,45.08146,7.6563,-1,VIA CIBRARIO LUIGI 72,,,TORINO,IT,"
    "Italy,296,,,,Ospedale a gestione diretta,,,,,,01/01/20,16/04/2020,\n"
    # latin-1 byte in the name; inside Torino
    "909-10909-1,OSPEDALE SAN GIOVANNI BATTISTA MOLINETTE,,45.04222,7.67455,-1,CORSO BRAMANTE,,,"
    "TORINO,IT,Italy,1158,,,,Azienda Ospedaliera integrata con l'Università,,,,,,01/01/20,"
    "16/04/2020,\n"
    # Susa: outside the toy area
    "203-10079-4,OSPEDALE CIVILE DI SUSA,,45.13809,7.05107,-1,CORSO INGHILTERRA 66,,,SUSA,IT,"
    "Italy,49,,,,Ospedale a gestione diretta,,,,,,01/01/20,16/04/2020,\n"
    # missing coordinates
    "999-00000-,OSPEDALE SENZA COORDINATE,,,,-1,,,,TORINO,IT,Italy,,,,,Ospedale,,,,,,01/01/20,"
    "16/04/2020,\n"
    # in the buffer (east of both municipalities), no beds given
    "999-00001-,CASA DI CURA NEL BUFFER,,45.17,7.77,-1,,,,PINO,IT,Italy,,,,,"
    "Casa di cura privata accreditata,,,,,,01/01/20,16/04/2020,\n"
)


def test_gisco(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "gisco.csv", GISCO_HEADER + GISCO_ROWS, encoding="latin-1")
    res = load_service_source(cfg("gisco_healthcare"), location=str(path), **load_kw)
    df = res.data.set_index("source_id")
    c = res.provenance.counts
    # 5 rows: 3 kept (Maria Vittoria, Molinette, buffer), 1 outside (Susa), 1 no coordinates
    assert (c["read"], c["kept"], c["dropped_outside_area"], c["dropped_bad_coordinates"]) == (
        5,
        3,
        1,
        1,
    )
    assert c["kept_hospital"] == 3
    assert df.loc["909-10909-1", "name"] == "OSPEDALE SAN GIOVANNI BATTISTA MOLINETTE"
    assert df.loc["909-10909-1", "capacity"] == 1158.0
    assert math.isnan(df.loc["999-00001-", "capacity"])
    assert df.loc["301-10003-", "pro_com_t"] == "001272"
    assert pd.isna(df.loc["999-00001-", "pro_com_t"])  # buffer, outside both boxes
    attrs = json.loads(df.loc["909-10909-1", "attributes"])
    assert attrs["facility_type"] == "Azienda Ospedaliera integrata con l'Università"
    assert df.loc["301-10003-", "service_id"] == "gisco:301-10003-"
    assert res.provenance.data_date == "2020-01-01"
    assert res.provenance.sha256 and len(res.provenance.sha256) == 64


def test_gisco_every_row_bad_is_an_error(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    rows = (
        "a,H1,,,,-1,,,,X,IT,Italy,,,,,,,,,,,01/01/20,,\n"
        "b,H2,,0,7.6,-1,,,,X,IT,Italy,,,,,,,,,,,01/01/20,,\n"
    )
    path = write(tmp_path, "gisco.csv", GISCO_HEADER + rows)
    with pytest.raises(DataValidationError) as err:
        load_service_source(cfg("gisco_healthcare"), location=str(path), **load_kw)
    msg = str(err.value)
    # names the file, the first bad line (header is line 1) and both columns
    assert "gisco.csv" in msg and "line 2" in msg and "'lon'" in msg and "'lat'" in msg


def test_gisco_missing_column(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "gisco.csv", "id,hospital_name,latitude,lon\na,H,45.05,7.65\n")
    with pytest.raises(MissingColumnError) as err:
        load_service_source(cfg("gisco_healthcare"), location=str(path), **load_kw)
    assert "'lat'" in str(err.value) and "gisco.csv" in str(err.value)


ICCU = (
    "Unnamed: 0;codici-identificativi.isil;denominazioni.ufficiale;ente;indirizzo.via-piazza;"
    "tipologia-amministrativa;tipologia-funzionale;accesso.portatori-handicap;accesso.riservato;"
    "Lat;Long;comune\n"
    # real row, decimal commas instead of points
    "15600;IT-TO0100;Biblioteca civica Villa Amoretti;Comune di Torino;Corso Orbassano 200;"
    "Comune;Pubblica;True;False;45,0483;7,6412;Torino\n"
    # 20 m north of the previous one (0.00018 deg of latitude x 111,132 m/deg = 20.0 m)
    "15601;IT-TO0101;Biblioteca del quartiere;Comune di Torino;Corso Orbassano 202;Comune;"
    "Pubblica;;False;45.04848;7.6412;Torino\n"
    # swapped Lat/Long: kept and corrected
    "15602;IT-TO0102;Biblioteca scambiata;Comune di Moncalieri;Via Roma 1;Comune;Pubblica;;"
    "False;7.72;45.05;Moncalieri\n"
    # (0, 0) placeholder
    "15603;IT-TO0103;Biblioteca zero;Ente;Via X;Comune;Pubblica;;False;0.0;0.0;Torino\n"
    # Lana (BZ) in California: outside
    "3016;IT-BZ0138;Biblioteca Lana;Comune;Via Y;Comune;Pubblica;;False;34.054089;-118.241653;"
    "Lana\n"
    # university library, restricted access, inside Torino
    "15604;IT-TO0104;Biblioteca di dipartimento;Universita;Via Verdi 8;Universita' statali;"
    "Istituto di insegnamento superiore;;True;45.069;7.69;Torino\n"
)


def test_iccu(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "iccu.csv", ICCU)
    res = load_service_source(cfg("iccu_libraries"), location=str(path), **load_kw)
    c = res.provenance.counts
    # 6 rows: 4 kept (one of them swapped back), (0,0) bad, California outside
    assert (c["read"], c["kept"], c["dropped_bad_coordinates"], c["dropped_outside_area"]) == (
        6,
        4,
        1,
        1,
    )
    assert c["swapped_coordinates"] == 1
    df = res.data.set_index("source_id")
    pt = df.loc["IT-TO0100", "geometry"]
    assert (pt.x, pt.y) == (7.6412, 45.0483)  # decimal commas read
    sw = df.loc["IT-TO0102", "geometry"]
    assert (sw.x, sw.y) == (7.72, 45.05)
    assert df.loc["IT-TO0102", "pro_com_t"] == "001156"  # 7.72 E is in the Moncalieri box
    a = json.loads(df.loc["IT-TO0104", "attributes"])
    assert a["functional_type"] == "Istituto di insegnamento superiore"
    assert a["restricted_access"] == "True"
    assert set(df["category"]) == {"library"}


def test_iccu_wrong_separator_is_a_missing_column_error(
    tmp_path: Path, load_kw: dict[str, Any]
) -> None:
    path = write(tmp_path, "iccu.csv", ICCU.replace(";", ","))
    with pytest.raises(MissingColumnError, match="separator"):
        load_service_source(cfg("iccu_libraries"), location=str(path), **load_kw)


def _station(code: str, name: str, lat: float, lon: float, reg: int, tipo: int = 3) -> dict:
    return {
        "key": f"{code}_{reg}",
        "codReg": reg,
        "tipoStazione": tipo,
        "dettZoomStaz": [],
        "pstaz": [],
        "mappaCitta": {"urlImagePinpoint": "", "urlImageBaloon": ""},
        "codiceStazione": code,
        "codStazione": code,
        "lat": lat,
        "lon": lon,
        "latMappaCitta": 0,
        "lonMappaCitta": 0,
        "localita": {"nomeLungo": name, "nomeBreve": name.title(), "label": name, "id": code},
        "esterno": False,
        "offsetX": 0,
        "offsetY": 0,
        "nomeCitta": "A",
    }


def test_viaggiatreno(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    stations = [
        _station("S00219", "TORINO PORTA NUOVA", 45.060969, 7.67747, 0, tipo=1),
        _station("S00219", "TORINO PORTA NUOVA", 45.060969, 7.67747, 1, tipo=1),  # other region
        _station("S00086", "BORGARO", -9.019375697908, 4.5112471566161, 3),  # placeholder
        _station("S00097", "TORINO CORSO GROSSETO", 0.0, 4.511256, 3),  # lat exactly 0
        _station("S01700", "MILANO CENTRALE", 45.486347, 9.204528, 1, tipo=1),  # outside
    ]
    path = write(tmp_path, "stations.json", json.dumps(stations))
    res = load_service_source(cfg("viaggiatreno_stations"), location=str(path), **load_kw)
    c = res.provenance.counts
    # 5 entries: Porta Nuova kept once (duplicate code), Borgaro outside (valid numbers in the
    # Gulf of Guinea), Grosseto bad (lat 0), Milano outside
    assert (c["read"], c["kept"], c["dropped_duplicate_id"]) == (5, 1, 1)
    assert (c["dropped_bad_coordinates"], c["dropped_outside_area"]) == (1, 2)
    row = res.data.iloc[0]
    assert (row["service_id"], row["name"], row["category"]) == (
        "viaggiatreno:S00219",
        "TORINO PORTA NUOVA",
        "railway_station",
    )
    assert json.loads(row["attributes"])["station_type"] == 1


STOPS = (
    '"stop_id","stop_code","stop_name","stop_desc","stop_lat","stop_lon","zone_id","stop_url",'
    '"location_type","parent_station","stop_timezone","wheelchair_boarding"\n'
    '"6","10","Fermata 10 - RUBIANA","RUBIANA - TESORIERA","45.07545","7.63915","0","u","","",'
    '"Europe/Rome","1"\n'
    '"3631","8221","METRO PORTA SUSA","PORTA SUSA M1","45.06987","7.66477","7","u","","116590",'
    '"","1"\n'
    '"116590","PORTASUSA","STAZIONE PORTA SUSA","","45.070678","7.664319","","","1","",'
    '"Europe/Rome",""\n'
    '"116589","PORTANUOVA","STAZIONE PORTA NUOVA","","45.0622","7.6784","","","1","",'
    '"Europe/Rome",""\n'
    '"9001","X","INGRESSO","","45.0623","7.6785","","","2","116589","",""\n'
    '"7777","777","Fermata 777 - IVREA","","45.46","7.87","3","u","","","Europe/Rome","1"\n'
)
STOP_ATTRS = '"stop_id","stop_city"\n"6","Torino"\n"3631","Torino"\n"7777","Ivrea"\n'
FEED_INFO = (
    '"feed_publisher_name","feed_publisher_url","feed_lang","feed_start_date","feed_end_date",'
    '"feed_version"\n"GTT","http://www.gtt.to.it","it","20251009","20251231","20251010"\n'
)


def _check_gtfs(res: Any, source: str) -> None:
    c = res.provenance.counts
    # 6 stops: "6" and "3631" kept; station 116590 is the parent of 3631 (dropped);
    # station 116589 has no child stop (kept); entrance 9001 dropped; Ivrea outside the area
    assert c["read"] == 6
    assert (c["dropped_parent_station"], c["dropped_not_a_stop"], c["dropped_outside_area"]) == (
        1,
        1,
        1,
    )
    assert c["kept"] == c["kept_pt_stop"] == 3
    assert sorted(res.data["source_id"]) == ["116589", "3631", "6"]
    assert set(res.data["source"]) == {source}
    attrs = json.loads(res.data.set_index("source_id").loc["6", "attributes"])
    assert attrs["stop_city"] == "Torino" and attrs["stop_code"] == "10"
    assert res.provenance.data_date == "2025-10-10"


def test_gtfs_folder(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    feed = tmp_path / "gtt_gtfs"
    feed.mkdir()
    write(feed, "stops.txt", STOPS)
    write(feed, "stop_attributes.txt", STOP_ATTRS)
    write(feed, "feed_info.txt", FEED_INFO)
    res = load_service_source(cfg("gtfs_stops"), location=str(feed), **load_kw)
    _check_gtfs(res, "gtfs-gtt_gtfs")


def test_gtfs_zip(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = tmp_path / "gtt.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("stops.txt", STOPS)
        z.writestr("stop_attributes.txt", STOP_ATTRS)
        z.writestr("feed_info.txt", FEED_INFO)
    res = load_service_source(cfg("gtfs_stops"), location=str(path), **load_kw)
    _check_gtfs(res, "gtfs-gtt")


def test_gtfs_without_stops_is_an_error(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("agency.txt", "agency_id\n")
    with pytest.raises(DataValidationError, match=r"stops\.txt not found"):
        load_service_source(cfg("gtfs_stops"), location=str(path), **load_kw)


MOH_HEADER = (
    "CODICEIDENTIFICATIVOFARMACIA;CODFARMACIAASSEGNATODAASL;INDIRIZZO;DESCRIZIONEFARMACIA;"
    "PARTITAIVA;CAP;CODICECOMUNEISTAT;DESCRIZIONECOMUNE;FRAZIONE;CODICEPROVINCIAISTAT;"
    "SIGLAPROVINCIA;DESCRIZIONEPROVINCIA;CODICEREGIONE;DESCRIZIONEREGIONE;DATAINIZIOVALIDITA;"
    "DATAFINEVALIDITA;DESCRIZIONETIPOLOGIA;CODICETIPOLOGIA;orig_lat;orig_long;LOCALIZE;"
    "indirizzo_query;arcGIS_response;Long;Lat\n"
)
MOH_ROWS = (
    "1;0;Via San Francesco Da Paola, 10;SAN FRANCESCO DA PAOLA;3603780010;10123;1272;TORINO;-;"
    "1;TO;TORINO;10;PIEMONTE;01/01/2005;-;Ordinaria;1;45.0652154357;7.6867171934;1;q;r;"
    "7.688358686508202;45.06765224562872\n"
    # orig_* coordinates are wrong in the registry; Long/Lat (geocoded) are used
    "2;0;Piazza Vittorio Veneto, 10;ALGOSTINO DEMICHELIS;10170320013;10123;1272;TORINO;-;1;TO;"
    "TORINO;10;PIEMONTE;01/02/2015;-;Ordinaria;1;45.0033422056;7.6028495726;1;q;r;"
    "7,694033370102191;45,06506895253623\n"
    # closed pharmacy (end of validity set)
    "3;0;Via del Carmine, 1;FERRERO;10491430012;10122;1272;TORINO;-;1;TO;TORINO;10;PIEMONTE;"
    "01/05/2011;31/12/2016;Ordinaria;1;45.07;7.67;1;q;r;7.676760038576964;45.0751732178718\n"
    # not geocoded
    "4;0;Via X, 1;SENZA;1;10122;1272;TORINO;-;1;TO;TORINO;10;PIEMONTE;01/05/2011;-;Ordinaria;"
    "1;;;0;q;r;;\n"
)


def test_moh_pharmacies(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "pharmacies.csv", MOH_HEADER + MOH_ROWS)
    res = load_service_source(cfg("moh_pharmacies"), location=str(path), **load_kw)
    c = res.provenance.counts
    # 4 rows: 1 closed, 1 without coordinates, 2 kept
    assert (c["read"], c["dropped_closed"], c["dropped_bad_coordinates"], c["kept"]) == (
        4,
        1,
        1,
        2,
    )
    df = res.data.set_index("source_id")
    assert df.loc["2", "geometry"].x == pytest.approx(7.694033370102191)  # Long, not orig_long
    assert df.loc["2", "name"] == "ALGOSTINO DEMICHELIS"
    assert df.loc["1", "service_id"] == "moh:1"
    assert json.loads(df.loc["1", "attributes"])["istat_code_declared"] == "1272"


MIUR_HEADER = (
    "CODICESCUOLA;ANNOSCOLASTICO;AREAGEOGRAFICA;CAPSCUOLA;CODICECOMUNESCUOLA;"
    "CODICEISTITUTORIFERIMENTO;DENOMINAZIONEISTITUTORIFERIMENTO;DENOMINAZIONESCUOLA;"
    "DESCRIZIONECARATTERISTICASCUOLA;DESCRIZIONECOMUNE;DESCRIZIONETIPOLOGIAGRADOISTRUZIONESCUOLA;"
    "INDICAZIONESEDEDIRETTIVO;INDICAZIONESEDEOMNICOMPRENSIVO;INDIRIZZOEMAILSCUOLA;"
    "INDIRIZZOPECSCUOLA;INDIRIZZOSCUOLA;PROVINCIA;REGIONE;SEDESCOLASTICA;SITOWEBSCUOLA;"
    "bStatale;Long;Lat\n"
)


def _miur(code: str, name: str, grade: str, lon: str, lat: str, statale: str = "True") -> str:
    return (
        f"{code};201617;NORD OVEST;10121;L219;{code};IST;{name};NORMALE;TORINO;{grade};SI;"
        f"Non Disponibile;x@istruzione.it;Non Disponibile;VIA X 1;TORINO;PIEMONTE;SI;www;"
        f"{statale};{lon};{lat}\n"
    )


MIUR_ROWS = (
    _miur("TOPC070004", "M. D'AZEGLIO", "LICEO CLASSICO", "7,6757874", "45,0650845")
    + _miur("TOAA82002E", "I.C. SALVEMINI - INF. C. MIR.", "SCUOLA INFANZIA", "7,62946", "45,01198")
    + _miur("TOEE029027", "GABELLI - PESTALOZZI", "SCUOLA PRIMARIA", "7,6870812", "45,091546")
    + _miur("TOMM86401B", "SCUOLA SPINELLI", "SCUOLA PRIMO GRADO", "7,7065065", "45,0725632")
    + _miur("TOTD01000X", "SOMMEILLER", "ISTITUTO TECNICO COMMERCIALE", "7,66", "45,06")
    + _miur("TORI01000Y", "PLANA", "IST PROF INDUSTRIA E ARTIGIANATO", "7,65", "45,07")
    + _miur(
        "TO1M00100Z",
        "LICEO PARITARIO SACRO CUORE",
        "SCUOLA SEC. SECONDO GRADO NON STATALE",
        "7,64",
        "45,08",
        statale="False",
    )
    + _miur(
        "TO1A00200W",
        "MATERNA ROSSI",
        "SCUOLA INFANZIA NON STATALE",
        "12,444526",
        "41,9",
        statale="False",
    )  # Rome: outside
    + _miur("TOXX00000A", "CENTRO ADULTI", "CENTRO TERRITORIALE", "7,65", "45,05")  # unmapped
)


def test_miur_schools(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "schools.csv", MIUR_HEADER + MIUR_ROWS)
    res = load_service_source(cfg("miur_schools"), location=str(path), **load_kw)
    c = res.provenance.counts
    # 9 rows: 1 unmapped (CENTRO TERRITORIALE), 1 outside (Rome), 7 kept:
    # childcare 1 (infanzia), primary 1, secondary 5 (primo grado, liceo, tecnico, prof, paritaria)
    assert (c["read"], c["dropped_unmapped_category"], c["dropped_outside_area"], c["kept"]) == (
        9,
        1,
        1,
        7,
    )
    assert (c["kept_childcare"], c["kept_primary_school"], c["kept_secondary_school"]) == (1, 1, 5)
    df = res.data.set_index("source_id")
    a = {k: json.loads(v) for k, v in df["attributes"].items()}
    assert (a["TOPC070004"]["isced_level"], a["TOPC070004"]["school_type"]) == (3, "liceo")
    assert a["TOTD01000X"]["school_type"] == "tecnico"
    assert a["TORI01000Y"]["school_type"] == "professionale"
    # paritaria: the grade says only "SECONDO GRADO"; the name says LICEO
    assert a["TO1M00100Z"]["school_type"] == "liceo" and a["TO1M00100Z"]["statale"] is False
    assert a["TOMM86401B"]["isced_level"] == 2 and "school_type" not in a["TOMM86401B"]
    assert a["TOAA82002E"]["isced_level"] == 0
    pt = df.loc["TOPC070004", "geometry"]
    assert (pt.x, pt.y) == (7.6757874, 45.0650845)
    assert res.provenance.data_date == "2016/17"


def test_miur_category_map_table() -> None:
    grades = pd.Series(
        [
            "SCUOLA INFANZIA NON STATALE",
            "SCUOLA PRIMARIA NON STATALE",
            "SCUOLA SEC. PRIMO GRADO NON STATALE",
            "ISTITUTO MAGISTRALE",
            "ISTITUTO D'ARTE",
            "ISTITUTO TECNICO PER GEOMETRI",
            "IST PROF PER I SERVIZI COMMERCIALI",
            "SCUOLA SEC. SECONDO GRADO NON STATALE",
            "ALTRO",
        ]
    )
    names = pd.Series(["A", "B", "C", "D", "E", "F", "G", "ISTITUTO XYZ", "H"])
    got = miur_school_category(grades, names)
    assert got["category"].tolist() == [
        "childcare",
        "primary_school",
        "secondary_school",
        "secondary_school",
        "secondary_school",
        "secondary_school",
        "secondary_school",
        "secondary_school",
        None,
    ]
    assert got["school_type"].tolist() == [
        None,
        None,
        None,
        "liceo",
        "liceo",
        "tecnico",
        "professionale",
        "non_specificato",
        None,
    ]


def test_categories_filter_and_unknown_code(tmp_path: Path, load_kw: dict[str, Any]) -> None:
    path = write(tmp_path, "schools.csv", MIUR_HEADER + MIUR_ROWS)
    res = load_service_source(
        cfg("miur_schools", categories=["primary_school"]), location=str(path), **load_kw
    )
    assert res.provenance.counts["kept"] == 1
    # 8 mapped rows (Rome included: the category filter comes before the area test) - 1 kept
    assert res.provenance.counts["dropped_category_not_selected"] == 7
    with pytest.raises(UnknownCategoryError, match="scuola"):
        load_service_source(
            cfg("miur_schools", categories=["scuola"]), location=str(path), **load_kw
        )
