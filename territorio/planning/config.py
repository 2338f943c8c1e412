"""Configuration of ``territorio plan``: one pydantic model, unknown keys are errors.

Example (TOML, section ``[plan]`` or a file of its own)::

    snai_preset = "2020"             # "2014", "2020" or "custom" (+ thresholds_min)
    poli = "official-2020-torino"    # "derive", a preset name or a list of ISTAT codes
    threshold = 50                   # marginality score flagging a municipality
    flag_classes = ["E", "F"]

    [siting]
    k = 3
    t_min = 15
    categories = ["pharmacy", "post_office", "digital_help"]
    cluster = "worst"                # "worst", "all" or a cluster id such as "C01"

    [[scenario.changes]]
    action = "remove"
    service_id = "osm:node/123"

    [[winter]]                       # the "winter" preset, edited (see WinterConfig)
    name = "winter"
    altitude_m = 1000
    altitude_speed_factor = 0.8
    closed_services = ["osm:node/456"]
    [[winter.closures]]
    ref = "SP172"
    above_m = 1800
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from territorio.categories import CATEGORIES
from territorio.errors import ConfigError

__all__ = [
    "DEFAULT_WINTER_CLOSURES",
    "OFFICIAL_POLI",
    "SNAI_PRESETS",
    "IndexConfig",
    "PlanConfig",
    "PoliCriteria",
    "PoliPreset",
    "RoadClosure",
    "ScenarioChange",
    "ScenarioConfig",
    "SitingConfig",
    "WinterConfig",
    "winter_preset",
]

#: SNAI class thresholds (minutes to the nearest polo) of the official maps:
#: C Cintura below the first, D Intermedio below the second, E Periferico
#: below the third, F Ultraperiferico from the third.
SNAI_PRESETS: dict[str, tuple[float, float, float]] = {
    "2014": (20.0, 40.0, 75.0),
    "2020": (27.7, 40.9, 66.9),
}


class PoliPreset(NamedTuple):
    """The poli of an official SNAI map for one area.

    Attributes
    ----------
    poli
        ISTAT codes of the poli (class A).
    intercomunali
        ISTAT codes of the members of the poli intercomunali (class B).
    destinations
        For each member of a polo intercomunale, the ONE member its group's
        times are measured to (the official table names it), by ISTAT code.
    """

    poli: tuple[str, ...]
    intercomunali: tuple[str, ...]
    destinations: dict[str, str]


#: Official poli of the SNAI 2020 map, by area.
OFFICIAL_POLI: dict[str, PoliPreset] = {
    "official-2020-torino": PoliPreset(
        # Torino, Chieri, Chivasso, Ivrea, Moncalieri, Pinerolo
        ("001272", "001078", "001082", "001125", "001156", "001191"),
        # Alpignano, Collegno, Nichelino, Orbassano, Rivoli, Rosta
        ("001008", "001090", "001164", "001171", "001219", "001228"),
        # The SNAI 2020 table measures every time to Collegno for the
        # Rivoli-Collegno-Alpignano-Rosta polo and to Nichelino for the
        # Nichelino-Orbassano one (Sangano's time goes to Collegno, not to
        # the nearer Orbassano).
        {
            "001008": "001090",
            "001090": "001090",
            "001219": "001090",
            "001228": "001090",
            "001164": "001164",
            "001171": "001164",
        },
    ),
}


def _check_codes(v: list[str]) -> list[str]:
    bad = [c for c in v if not (isinstance(c, str) and len(c) == 6 and c.isdigit())]
    if bad:
        raise ValueError(f"ISTAT codes must be 6-digit strings such as '001272', got {bad[:3]}")
    return v


def _check_categories(v: list[str]) -> list[str]:
    bad = [c for c in v if c not in CATEGORIES]
    if bad:
        raise ValueError(f"unknown service categories {bad}; use some of: {', '.join(CATEGORIES)}")
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PoliCriteria(_Strict):
    """How poli are derived from the services layer (each criterion can be relaxed).

    The official criteria ask a municipality to offer at once: upper-secondary
    schooling with a liceo and a technical or vocational institute; a hospital
    with an emergency department (DEA) of level I or more; a railway station
    of at least Silver category. Registries often lack those attributes, so
    each criterion can be relaxed or ignored.
    """

    #: ``"liceo_and_technical"``: a liceo and a technical or vocational
    #: school (MIUR ``school_type`` attribute); ``"any_secondary"``: any
    #: ``secondary_school``; ``"ignore"``: not required.
    school: Literal["liceo_and_technical", "any_secondary", "ignore"] = "liceo_and_technical"
    #: ``"emergency"``: a hospital whose ``emergency`` attribute is true (or a
    #: DEA level >= 1); ``"any"``: any hospital with at least ``min_beds``
    #: beds; ``"ignore"``: not required.
    hospital: Literal["emergency", "any", "ignore"] = "emergency"
    min_beds: float = Field(default=0.0, ge=0)
    #: ``"silver"``: RFI category Platinum, Gold or Silver (attribute
    #: ``rfi_category``), or a ViaggiaTreno ``tipoStazione`` listed in
    #: ``station_types``; ``"any"``: any railway station; ``"ignore"``.
    station: Literal["silver", "any", "ignore"] = "silver"
    station_types: list[int] = Field(default_factory=list)


class IndexConfig(_Strict):
    """Weights and scales of the welfare marginality index (see :mod:`.marginality`)."""

    #: Weight of each service category (population-weighted travel time).
    service_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "primary_care": 0.15,
            "pharmacy": 0.15,
            "primary_school": 0.10,
            "post_office": 0.10,
            "social_facility": 0.10,
            "digital_help": 0.10,
        }
    )
    #: Weights of the structural factors.
    altitude_weight: float = Field(default=0.10, ge=0)
    density_weight: float = Field(default=0.10, ge=0)
    old_age_weight: float = Field(default=0.10, ge=0)
    #: Travel time (min) scoring 100; 0 min scores 0, linear in between.
    time_cap_min: float = Field(default=45.0, gt=0)
    #: Categories for which a resident aged 65+ counts ``elderly_weight`` times.
    elderly_categories: list[str] = Field(
        default_factory=lambda: ["hospital", "primary_care", "pharmacy"]
    )
    elderly_weight: float = Field(default=2.0, ge=1)
    #: Density (residents/km2) scoring 100 (at or below) and 0 (at or above), log scale.
    density_low: float = Field(default=10.0, gt=0)
    density_high: float = Field(default=1000.0, gt=0)
    #: Old-age index (65+ per 100 under 15) scoring 0 (at or below) and 100 (at or above).
    old_age_low: float = Field(default=100.0, ge=0)
    old_age_high: float = Field(default=300.0, gt=0)

    @field_validator("service_weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        _check_categories(list(v))
        neg = [k for k, w in v.items() if w < 0]
        if neg:
            raise ValueError(f"weights must be >= 0, got negative weights for {neg}")
        return v

    @field_validator("elderly_categories")
    @classmethod
    def _elderly(cls, v: list[str]) -> list[str]:
        return _check_categories(v)

    @model_validator(mode="after")
    def _ranges(self) -> IndexConfig:
        if self.density_low >= self.density_high:
            raise ValueError("density_low must be below density_high")
        if self.old_age_low >= self.old_age_high:
            raise ValueError("old_age_low must be below old_age_high")
        return self


class SitingConfig(_Strict):
    """Maximal-covering siting of new multi-service points."""

    k: int = Field(default=3, ge=1, le=50)
    #: Residents are "served" when within ``t_min`` minutes of every category
    #: of the bundle (existing services, or one of the new sites).
    t_min: float = Field(default=15.0, gt=0, le=180)
    categories: list[str] = Field(
        default_factory=lambda: ["pharmacy", "post_office", "digital_help"]
    )
    #: ``"pop_total"`` or ``"pop_65_plus"``.
    demand: Literal["pop_total", "pop_65_plus"] = "pop_total"
    #: ``"worst"`` cluster, ``"all"`` (the whole area) or a cluster id (``"C01"``).
    cluster: str = "worst"
    #: CSV (``lon``, ``lat``, optional ``name``/``site_id``) or GeoJSON of
    #: candidate sites; default: the reference points of the municipalities.
    candidates: str | None = None

    @field_validator("categories")
    @classmethod
    def _cats(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("give at least one category for the service bundle")
        return _check_categories(v)


class ScenarioChange(_Strict):
    """One change of a what-if scenario: a service removed, or a new one added."""

    action: Literal["add", "remove"]
    #: For ``remove``: the ``service_id`` to close.
    service_id: str | None = None
    #: For ``add``: category, position and an optional name.
    category: str | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    name: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> ScenarioChange:
        if self.action == "remove" and not self.service_id:
            raise ValueError("a 'remove' change needs service_id")
        if self.action == "add":
            if self.category is None or self.lon is None or self.lat is None:
                raise ValueError("an 'add' change needs category, lon and lat")
            _check_categories([self.category])
        return self


class ScenarioConfig(_Strict):
    """A named what-if scenario."""

    name: str = "scenario"
    changes: list[ScenarioChange] = Field(default_factory=list)


class RoadClosure(_Strict):
    """Roads closed in a scenario (e.g. a high pass in winter), chosen by ``ref`` or name.

    An edge is closed when its ``ref`` is ``ref`` (spaces, dots and hyphens
    ignored, case-insensitive; ``"SP 172"`` = ``"sp172"``; an edge may carry
    several refs separated by ``;``) or its ``name`` contains ``name``
    (case-insensitive), and, when given, its comune (``pro_com_t`` of the
    edge's midpoint) is in ``municipalities`` and its altitude (``altitude_m``
    of the edge: its highest point on the DEM, else the comune's ISTAT centre
    altitude) is at least ``above_m``. Refs repeat across provinces (every
    province has an SP 50) and names across towns (a "Via Assietta" in many
    of them), hence the comuni and the altitude. Without ``ref`` and
    ``name``, ``municipalities`` and ``above_m`` together close every road of
    those comuni at or above that altitude (the road beyond a winter barrier
    whose ref the map lacks).
    """

    ref: str | None = None
    name: str | None = None
    municipalities: list[str] = Field(default_factory=list)
    above_m: float | None = Field(default=None, ge=-500, le=9000)
    #: Why the road is closed (shown in the report).
    note: str = ""

    @field_validator("municipalities")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        return _check_codes(v)

    @model_validator(mode="after")
    def _what(self) -> RoadClosure:
        if not (self.ref or self.name) and not (self.municipalities and self.above_m is not None):
            raise ValueError(
                "a road closure needs ref (e.g. 'SP172') or name, or both municipalities "
                "and above_m (every road of those comuni above that altitude)"
            )
        return self


#: Documented default of the ``winter`` preset: high passes of the Città
#: Metropolitana di Torino closed by snow every winter (edit the list in the
#: plan config; the altitudes keep the valley sections and hamlets below the
#: winter barriers open). Sources: the provincial winter closure ordinances
#: name these roads every year; the barrier positions vary, hence ``above_m``.
DEFAULT_WINTER_CLOSURES: tuple[RoadClosure, ...] = (
    RoadClosure(
        ref="SP172",
        name="Colle delle Finestre",
        # Meana di Susa, Mattie, Usseaux, Fenestrelle
        municipalities=["001149", "001147", "001281", "001103"],
        above_m=1800.0,
        note="SP 172 del Colle delle Finestre (2,176 m), closed November-May",
    ),
    RoadClosure(
        ref="SP50",
        name="Nivolet",
        municipalities=["001073"],  # Ceresole Reale
        above_m=1700.0,
        note="SP 50 to the Colle del Nivolet (2,612 m), closed October-June beyond Chiapili",
    ),
    RoadClosure(
        # the same road where the map gives it no ref: every road of Ceresole
        # Reale above 1,700 m is the Nivolet road beyond Chiapili (1,667 m)
        municipalities=["001073"],
        above_m=1700.0,
        note="Ceresole Reale above 1,700 m: the Nivolet road beyond Chiapili",
    ),
    RoadClosure(
        ref="SP173",
        name="Strada dell'Assietta",
        # Usseaux, Pragelato, Sestriere, Exilles, Chiomonte, Salbertrand, Oulx, Sauze d'Oulx
        municipalities=[
            "001281",
            "001201",
            "001263",
            "001100",
            "001080",
            "001232",
            "001175",
            "001259",
        ],
        above_m=1800.0,
        note="Strada dell'Assietta (SP 173, 2,472 m), unpaved crest road closed in winter",
    ),
    RoadClosure(
        name="Colle dell'Assietta",
        municipalities=["001281", "001201", "001263", "001100", "001232", "001259"],
        above_m=1800.0,
        note="Strada militare del Colle dell'Assietta, closed in winter",
    ),
)


class WinterConfig(_Strict):
    """A winter scenario: closed roads, slower roads up high, seasonal services closed.

    The ``winter`` preset is this model with its defaults; a ``[[winter]]``
    table in the plan config defines a variant (any field changed, a new
    ``name``).
    """

    name: str = Field(default="winter", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    #: Roads closed (default: :data:`DEFAULT_WINTER_CLOSURES`).
    closures: list[RoadClosure] = Field(default_factory=lambda: list(DEFAULT_WINTER_CLOSURES))
    #: Car speeds on edges at or above ``altitude_m`` (edge ``altitude_m``: DEM
    #: where it covers the edge, else the comune's ISTAT centre altitude) are
    #: multiplied by ``altitude_speed_factor`` (snow, ice, chains).
    altitude_m: float = Field(default=1000.0, ge=0, le=9000)
    altitude_speed_factor: float = Field(default=0.8, gt=0, le=1)
    #: ``service_id`` of services closed in winter (e.g. seasonal ones).
    closed_services: list[str] = Field(default_factory=list)
    #: Categories compared (default: the index basket plus the categories of
    #: the closed services).
    categories: list[str] | None = None

    @field_validator("categories")
    @classmethod
    def _cats(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _check_categories(v)


def winter_preset(name: str = "winter") -> WinterConfig:
    """Return the named winter preset (only ``"winter"`` exists)."""
    if name != "winter":
        raise ConfigError(f"unknown scenario preset {name!r}; the presets are: winter")
    return WinterConfig()


class PlanConfig(_Strict):
    """Everything ``territorio plan`` needs; unknown keys are errors."""

    #: ``"2014"``, ``"2020"`` or ``"custom"`` (then ``thresholds_min`` is required).
    snai_preset: Literal["2014", "2020", "custom"] = "2020"
    thresholds_min: tuple[float, float, float] | None = None
    #: ``"derive"`` (from the services layer with ``criteria``), a preset of
    #: :data:`OFFICIAL_POLI`, or a list of ISTAT codes.
    poli: str | list[str] = "derive"
    #: With an explicit list of poli: the poli intercomunali (ISTAT codes).
    poli_intercomunali: list[str] = Field(default_factory=list)
    #: For members of poli intercomunali: the ONE member of the group the
    #: times are measured to (member code -> destination code), as the
    #: official SNAI table names it. Overrides the preset's; members given
    #: none take the most populous member of their group (contiguous members
    #: of an explicit list form a group).
    polo_destinations: dict[str, str] = Field(default_factory=dict)
    criteria: PoliCriteria = PoliCriteria()
    index: IndexConfig = IndexConfig()
    #: A municipality is flagged when its score is at least ``threshold`` or
    #: its SNAI class is in ``flag_classes``.
    threshold: float = Field(default=50.0, ge=0, le=100)
    flag_classes: list[Literal["A", "B", "C", "D", "E", "F"]] = Field(
        default_factory=lambda: ["E", "F"]  # type: ignore[arg-type]
    )
    #: Two neighbouring flagged municipalities belong to the same underserved
    #: cluster (valley) only when their reference points are at most this many
    #: minutes apart by road, both ways: comuni that share a ridge but not a
    #: road (Balme and Usseglio, an hour apart) are different valleys. None:
    #: a shared boundary is enough.
    valley_link_min: float | None = Field(default=25.0, gt=0, le=180)
    #: Flagged neighbours join one cluster only when their fastest roads to the
    #: SNAI polo leave the flagged area through the same comune (the valley
    #: mouth): see :mod:`territorio.planning.valleys`.
    valley_gateways: bool = True
    siting: SitingConfig | None = SitingConfig()
    scenario: ScenarioConfig | None = None
    #: Winter scenario variants (``[[winter]]``); the ``winter`` preset is
    #: always available by name.
    winter: list[WinterConfig] = Field(default_factory=list)
    #: Report languages.
    languages: list[Literal["it", "en"]] = Field(
        default_factory=lambda: ["it", "en"]  # type: ignore[arg-type]
    )
    #: Travel mode of the accessibility engine.
    mode: str = "car"

    @field_validator("poli")
    @classmethod
    def _poli(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list):
            return _check_codes(v)
        if v != "derive" and v not in OFFICIAL_POLI:
            raise ValueError(
                f"poli must be 'derive', a list of ISTAT codes or one of {list(OFFICIAL_POLI)}"
            )
        return v

    @field_validator("winter")
    @classmethod
    def _winter_names(cls, v: list[WinterConfig]) -> list[WinterConfig]:
        names = [w.name for w in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"winter scenario names must be unique, repeated: {', '.join(dup)}")
        return v

    @field_validator("poli_intercomunali")
    @classmethod
    def _inter(cls, v: list[str]) -> list[str]:
        return _check_codes(v)

    @field_validator("polo_destinations")
    @classmethod
    def _destinations(cls, v: dict[str, str]) -> dict[str, str]:
        _check_codes([*v, *v.values()])
        loops = [d for d in set(v.values()) if v.get(d, d) != d]
        if loops:
            d = sorted(loops)[0]
            raise ValueError(
                f"destination {d!r} is itself sent to {v[d]!r}: a group's destination must "
                f"be its own destination (set {d!r} = {d!r} or pick one destination)"
            )
        return v

    @model_validator(mode="after")
    def _thresholds(self) -> PlanConfig:
        t = self.thresholds
        if not (0 < t[0] < t[1] < t[2]):
            raise ValueError(f"thresholds_min must be increasing and positive, got {t}")
        if self.snai_preset != "custom" and self.thresholds_min is not None:
            raise ValueError("thresholds_min is only allowed with snai_preset = 'custom'")
        return self

    def winter_scenario(self, name: str = "winter") -> WinterConfig:
        """Return the winter variant called ``name`` of this config, else the preset.

        Raises
        ------
        ConfigError
            If ``name`` is neither a ``[[winter]]`` variant nor a preset.
        """
        for w in self.winter:
            if w.name == name:
                return w
        try:
            return winter_preset(name)
        except ConfigError:
            known = ["winter", *[w.name for w in self.winter if w.name != "winter"]]
            raise ConfigError(
                f"unknown winter scenario {name!r}; defined: {', '.join(known)}"
            ) from None

    @property
    def thresholds(self) -> tuple[float, float, float]:
        """The three class thresholds in minutes (preset or custom)."""
        if self.snai_preset == "custom":
            if self.thresholds_min is None:
                raise ValueError("snai_preset = 'custom' needs thresholds_min = [t1, t2, t3]")
            return self.thresholds_min
        return SNAI_PRESETS[self.snai_preset]

    def basket(self) -> list[str]:
        """Categories of the index with a positive weight (default: the essential basket)."""
        return [c for c, w in self.index.service_weights.items() if w > 0]
