"""Pydantic models of the API's requests and responses (the OpenAPI schema)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from territorio.categories import CATEGORIES
from territorio.db.models import OFFER_CATEGORIES, ROLES

__all__ = [
    "AccessibilityList",
    "AccessibilityRow",
    "AccountCreate",
    "AccountCreated",
    "AccountOut",
    "AccountUpdate",
    "AuditEventOut",
    "CategoryIndicator",
    "CategoryOut",
    "ClusterList",
    "ClusterOut",
    "Collection",
    "Collections",
    "Conformance",
    "Feature",
    "FeatureCollection",
    "FieldError",
    "LandingPage",
    "Link",
    "Me",
    "MetaInfo",
    "MunicipalityDetail",
    "MunicipalityList",
    "MunicipalitySummary",
    "NearestList",
    "NearestService",
    "NearestServiceRef",
    "OfferCreate",
    "OfferList",
    "OfferOut",
    "OfferUpdate",
    "OrganisationCreate",
    "OrganisationOut",
    "Problem",
    "ScenarioChangeIn",
    "ScenarioIndicator",
    "ScenarioMunicipality",
    "ScenarioOut",
    "ScenarioRequest",
    "ServiceList",
    "ServiceOut",
    "SiteCandidate",
    "SiteOut",
    "SitingOut",
    "SitingRequest",
    "SourceInfo",
    "ThresholdIndicator",
    "TokenCreate",
    "TokenCreated",
    "TokenOut",
    "WinterCategoryOut",
    "WinterClosureOut",
    "WinterClusterOut",
    "WinterOut",
]

OfferCategory = Literal[
    "childcare", "elderly_care", "transport", "health", "training", "leisure", "shopping", "digital"
]
Role = Literal["business", "cooperative", "municipality", "admin"]
if set(get_args(OfferCategory)) != set(OFFER_CATEGORIES) or set(get_args(Role)) != set(ROLES):
    raise RuntimeError("api.models and db.models disagree on offer categories or roles")

IstatCode = str

#: A service category of the fixed taxonomy (an enum in the OpenAPI schema).
ServiceCategory = Annotated[
    str,
    Field(max_length=40, json_schema_extra={"enum": list(CATEGORIES)}, examples=["pharmacy"]),
]


def _known_categories(v: list[str] | None) -> list[str] | None:
    if v is None:
        return v
    bad = [c for c in v if c not in CATEGORIES]
    if bad:
        raise ValueError(
            f"unknown service category {bad[0]!r}; use some of: {', '.join(CATEGORIES)} "
            "(see /categories)"
        )
    return v


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- common -------------------------------------------------------------------


class Link(_Out):
    """A hypermedia link (OGC API style)."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class FieldError(_Out):
    """One invalid field of a request."""

    field: str = Field(examples=["query.minutes"])
    reason: str = Field(examples=["Input should be less than or equal to 60"])


class ProblemType(_Out):
    """What a problem type means and how to fix it (the target of a problem's ``type``)."""

    type: str = Field(examples=["http://127.0.0.1:8000/problems/not-found"])
    status: int = Field(examples=[404])
    title: str = Field(examples=["Not found"])
    description: str = Field(examples=["No such resource: check the identifier or the path."])


class Problem(_Out):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str = Field(
        description="URI of the problem type, documented at that address",
        examples=["http://127.0.0.1:8000/problems/not-found"],
    )
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["no municipality with ISTAT code '001999' in this territory"])
    instance: str = Field(examples=["/municipalities/001999"])
    errors: list[FieldError] | None = None


class CategoryOut(_Out):
    """A category code with its labels."""

    code: str = Field(examples=["pharmacy"])
    label_it: str = Field(examples=["Farmacia"])
    label_en: str = Field(examples=["Pharmacy"])
    group: str | None = Field(default=None, examples=["health"])


# -- GeoJSON ------------------------------------------------------------------


class Feature(BaseModel):
    """A GeoJSON Feature (RFC 7946)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Feature"]
    id: str | int | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection, with OGC API paging members when paged."""

    model_config = ConfigDict(extra="allow")

    type: Literal["FeatureCollection"]
    features: list[Feature]
    numberMatched: int | None = None  # noqa: N815 - OGC API member name
    numberReturned: int | None = None  # noqa: N815 - OGC API member name
    timeStamp: str | None = None  # noqa: N815 - OGC API member name
    links: list[Link] | None = None


# -- municipalities -----------------------------------------------------------


class MunicipalitySummary(_Out):
    """A municipality in a list: identity, population, reference point."""

    pro_com_t: IstatCode = Field(examples=["001272"])
    name: str = Field(examples=["Torino"])
    province_code: str = Field(examples=["001"])
    pop_total: int = Field(examples=[847287])
    pop_65_plus: int = Field(examples=[223000])
    area_km2: float | None = Field(examples=[130.0])
    density: float | None = Field(examples=[6516.0])
    old_age_index: float | None = Field(examples=[216.0])
    altitude_zone: str | None = None
    network_coverage: str | None = Field(default=None, examples=["full"])
    ref_lon: float = Field(examples=[7.6858])
    ref_lat: float = Field(examples=[45.0703])
    ref_source: str | None = Field(
        default=None,
        examples=["istat_2011_centre"],
        description="where the reference point comes from: istat_2011_centre, osm_place, "
        "population_cell, representative_point or user:<file>",
    )
    snai_class: str | None = Field(default=None, examples=["A"])
    time_to_polo_min: float | None = Field(
        default=None, description="minutes by car to the SNAI polo (0 for a polo)"
    )
    polo_destination: IstatCode | None = Field(
        default=None,
        examples=["001090"],
        description="ISTAT code of the ONE comune the SNAI time is measured to (for a polo "
        "intercomunale, its destination member)",
    )
    polo_destination_name: str | None = Field(default=None, examples=["Collegno"])
    marginality_score: float | None = None
    cluster_id: str | None = None


class MunicipalityList(_Out):
    """A page of municipalities."""

    total: int
    limit: int
    offset: int
    items: list[MunicipalitySummary]
    links: list[Link]


class ThresholdIndicator(_Out):
    """Residents beyond a travel-time threshold (people and shares)."""

    minutes: int = Field(examples=[30])
    pop_beyond: float | None = None
    pop65_beyond: float | None = None
    pop_u15_beyond: float | None = None
    share_beyond: float | None = None
    share65_beyond: float | None = None


class NearestServiceRef(_Out):
    """The service nearest to a municipality's reference point."""

    service_id: str
    name: str | None
    category: str
    lon: float | None
    lat: float | None
    time_min: float | None = Field(description="car travel time from the reference point")


class CategoryIndicator(_Out):
    """Accessibility of one service category for one municipality."""

    category: str = Field(examples=["pharmacy"])
    label_it: str | None = None
    label_en: str | None = None
    status: str = Field(description="ok | partial | outside_coverage | no_data", examples=["ok"])
    covered_pop_share: float | None = None
    ref_time_min: float | None = None
    nearest: NearestServiceRef | None = None
    mean_min: float | None = None
    median_min: float | None = None
    p90_min: float | None = None
    opportunities_15: float | None = None
    opportunities_30: float | None = None
    sfca: float | None = None
    e2sfca: float | None = None
    thresholds: list[ThresholdIndicator] = Field(default_factory=list)


class MunicipalityDetail(MunicipalitySummary):
    """A municipality with every indicator of the bundle."""

    attributes: dict[str, Any] = Field(
        description="every other column of the municipality layer (population by age, ...)"
    )
    indicators: list[CategoryIndicator]
    planning: dict[str, Any] | None = Field(
        default=None, description="SNAI class, marginality and cluster, when computed"
    )


class AccessibilityRow(CategoryIndicator):
    """A category indicator with its municipality."""

    pro_com_t: IstatCode
    name: str


class AccessibilityList(_Out):
    """Accessibility of one category in every municipality."""

    category: str
    total: int
    items: list[AccessibilityRow]


# -- services -----------------------------------------------------------------


class ServiceOut(_Out):
    """A service point of the bundle."""

    service_id: str = Field(examples=["osm:node/123"])
    category: str = Field(examples=["pharmacy"])
    name: str | None = Field(examples=["Farmacia Centrale"])
    source: str | None = None
    source_id: str | None = None
    pro_com_t: IstatCode | None = None
    capacity: float | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    lon: float
    lat: float


class ServiceList(_Out):
    """A page of services."""

    total: int
    limit: int
    offset: int
    items: list[ServiceOut]
    links: list[Link]


class NearestService(ServiceOut):
    """A service with its car travel time from the origin."""

    time_min: float = Field(examples=[7.5])
    rank: int = Field(examples=[1])


class NearestList(_Out):
    """The nearest services of a category from a point."""

    origin: dict[str, float]
    category: str
    max_minutes: float
    data: Literal["ok", "partial", "no_data"] = Field(
        description="ok: the sources cover the whole territory; partial: only some "
        "municipalities (nearer services may be missing); no_data: no source has this "
        "category, so an empty list is a gap in the data, not a service desert"
    )
    note: str | None = Field(default=None, description="what 'partial' or 'no_data' means here")
    items: list[NearestService]


class ClusterOut(_Out):
    """An underserved cluster of adjacent marginal municipalities."""

    cluster_id: str = Field(examples=["C01"])
    members: list[str] = Field(description="ISTAT codes of the member municipalities")
    attributes: dict[str, Any] = Field(description="population, mean score, ... of the cluster")


class ClusterList(_Out):
    """The clusters found by the planning step."""

    total: int
    items: list[ClusterOut]


# -- meta ---------------------------------------------------------------------


class SourceInfo(_Out):
    """One data source of the bundle."""

    source: str
    location: str | None = None
    data_date: str | None = None
    retrieved_at: str | None = None
    licence: str | None = None


class MetaInfo(_Out):
    """Provenance of the data served and version of the software."""

    software_version: str = Field(examples=["0.1.0"])
    bundle_software_version: str | None = None
    format_version: int | None = None
    area: str | None = Field(default=None, examples=["Città Metropolitana di Torino"])
    built_at: str | None = None
    osm_timestamp: str | None = None
    istat_year: int | str | None = None
    layers: dict[str, int]
    sources: list[SourceInfo]
    features: dict[str, bool] = Field(
        description="which optional features this server offers with this bundle"
    )


# -- OGC API - Features -------------------------------------------------------


class LandingPage(_Out):
    """OGC API landing page."""

    title: str
    description: str
    links: list[Link]


class Conformance(_Out):
    """OGC API conformance classes."""

    conformsTo: list[str]  # noqa: N815 - OGC API member name


class Collection(_Out):
    """An OGC API collection."""

    id: str
    title: str
    description: str
    links: list[Link]
    extent: dict[str, Any]
    itemType: str = "feature"  # noqa: N815 - OGC API member name
    crs: list[str]


class Collections(_Out):
    """The OGC API collections."""

    links: list[Link]
    collections: list[Collection]


# -- accounts -----------------------------------------------------------------


class OrganisationCreate(BaseModel):
    """A new organisation."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200, examples=["Cooperativa Valli Unite"])
    role: Role = Field(examples=["cooperative"])
    pro_com_t: IstatCode | None = Field(default=None, pattern=r"^\d{6}$", examples=["001272"])


class OrganisationOut(_Out):
    """An organisation."""

    id: int
    name: str
    role: Role
    pro_com_t: str | None
    created_at: datetime
    deleted_at: datetime | None = Field(
        default=None, description="set when an administrator deleted it (soft deletion)"
    )


class AccountCreate(BaseModel):
    """A new account of an organisation."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$", examples=["anna@coop.it"]
    )
    display_name: str = Field(min_length=1, max_length=200, examples=["Anna Rossi"])


class AccountOut(_Out):
    """An account."""

    id: int
    organisation_id: int
    email: str
    display_name: str
    active: bool
    created_at: datetime


class AccountUpdate(BaseModel):
    """An administrator's change to an account."""

    model_config = ConfigDict(extra="forbid")

    active: bool = Field(
        description="false deactivates the account (its tokens stop working at once); "
        "true reactivates it",
        examples=[False],
    )


class AuditEventOut(_Out):
    """One administrator action: who did what to which record, and when."""

    id: int
    at: datetime
    actor: str = Field(examples=["admin@wpt.example", "bootstrap-admin"])
    actor_account_id: int | None
    action: str = Field(examples=["account.deactivate", "token.revoke", "organisation.delete"])
    target_type: str = Field(examples=["account", "token", "organisation"])
    target_id: int
    detail: dict[str, Any]


class TokenCreate(BaseModel):
    """A new API token."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=100, examples=["gestionale offerte"])


class TokenOut(_Out):
    """An API token as listed (the secret is never shown again)."""

    id: int
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    """A freshly created token: ``token`` is shown only this once."""

    token: str = Field(description="the bearer token; store it, it cannot be shown again")


class AccountCreated(AccountOut):
    """A new account with its first token."""

    token: TokenCreated


class Me(_Out):
    """Who the caller is."""

    role: Role
    bootstrap_admin: bool
    account: AccountOut | None
    organisation: OrganisationOut | None


# -- offers -------------------------------------------------------------------


class _OfferFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("municipalities", check_fields=False)
    @classmethod
    def _codes(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        bad = [c for c in v if not (len(c) == 6 and c.isdigit())]
        if bad:
            raise ValueError(f"ISTAT codes must be 6-digit strings, got {bad[:3]}")
        return sorted(set(v))

    @model_validator(mode="after")
    def _dates(self) -> _OfferFields:
        vf = getattr(self, "valid_from", None)
        vt = getattr(self, "valid_to", None)
        if vf is not None and vt is not None and vt < vf:
            raise ValueError("valid_to must not be before valid_from")
        return self


class OfferCreate(_OfferFields):
    """A new welfare offer."""

    title: str = Field(min_length=3, max_length=200, examples=["Doposcuola in valle"])
    description: str = Field(default="", max_length=5000)
    category: OfferCategory = Field(examples=["childcare"])
    provider: str = Field(min_length=2, max_length=200, examples=["Cooperativa Valli Unite"])
    lon: float = Field(ge=-180, le=180, examples=[7.6858])
    lat: float = Field(ge=-90, le=90, examples=[45.0703])
    municipalities: list[IstatCode] = Field(
        default_factory=list, max_length=400, description="ISTAT codes of the comuni served"
    )
    contact: str = Field(default="", max_length=300, examples=["info@coop.it"])
    valid_from: date | None = None
    valid_to: date | None = None
    conditions: str = Field(default="", max_length=5000)


class OfferUpdate(_OfferFields):
    """Changes to an offer (fields left out are kept)."""

    title: str | None = Field(default=None, min_length=3, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    category: OfferCategory | None = None
    provider: str | None = Field(default=None, min_length=2, max_length=200)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    municipalities: list[IstatCode] | None = Field(default=None, max_length=400)
    contact: str | None = Field(default=None, max_length=300)
    valid_from: date | None = None
    valid_to: date | None = None
    conditions: str | None = Field(default=None, max_length=5000)


class OfferOut(_Out):
    """A welfare offer."""

    id: int
    organisation_id: int
    organisation: str
    title: str
    description: str
    category: OfferCategory
    provider: str
    lon: float
    lat: float
    pro_com_t: str | None
    municipalities: list[str]
    contact: str
    valid_from: date | None
    valid_to: date | None
    conditions: str
    hidden: bool
    created_at: datetime
    updated_at: datetime
    travel_time_min: float | None = Field(
        default=None, description="car travel time from the given workplace, when asked"
    )


class OfferList(_Out):
    """A page of offers."""

    total: int
    limit: int
    offset: int
    items: list[OfferOut]
    links: list[Link]


# -- planning computations ----------------------------------------------------------

#: Most sites chosen by one ``POST /planning/sites``.
MAX_SITES = 10
#: Most candidate sites given in one request.
MAX_CANDIDATES = 50
#: Most changes in one ``POST /planning/scenarios``.
MAX_CHANGES = 10


class SiteCandidate(BaseModel):
    """A candidate site given by the caller (default: the municipalities' reference points)."""

    model_config = ConfigDict(extra="forbid")

    lon: float = Field(ge=-180, le=180, examples=[7.2667])
    lat: float = Field(ge=-90, le=90, examples=[45.0417])
    name: str | None = Field(default=None, max_length=200, examples=["Ex scuola di Coazze"])


class SitingRequest(BaseModel):
    """Where to open up to ``k`` multi-service points (maximal covering, greedy)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "cluster": "C01",
                    "k": 3,
                    "minutes": 15,
                    "categories": ["pharmacy", "post_office", "digital_help"],
                    "demand": "pop_65_plus",
                }
            ]
        },
    )

    cluster: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,20}$",
        description="a cluster id of /planning/clusters, 'worst' (the first) or 'all' "
        "(the whole territory, the default when municipalities is not given)",
        examples=["C01"],
    )
    municipalities: list[Annotated[str, Field(pattern=r"^\d{6}$")]] | None = Field(
        default=None,
        min_length=1,
        max_length=400,
        description="ISTAT codes of the area (instead of a cluster)",
        examples=[["001090", "001219"]],
    )
    candidates: list[SiteCandidate] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CANDIDATES,
        description="candidate sites; default: the reference points of the municipalities in scope",
    )
    k: int = Field(default=3, ge=1, le=MAX_SITES, description="sites to choose")
    minutes: float = Field(
        default=15.0, ge=5, le=60, description="a resident is served within this car time"
    )
    categories: list[ServiceCategory] = Field(
        default_factory=lambda: ["pharmacy", "post_office", "digital_help"],
        min_length=1,
        max_length=len(CATEGORIES),
        description="the service bundle each new point offers (categories of /categories)",
    )
    demand: Literal["pop_total", "pop_65_plus"] = Field(
        default="pop_total", description="count all residents or those aged 65+"
    )

    @field_validator("categories")
    @classmethod
    def _cats(cls, v: list[str]) -> list[str]:
        out = _known_categories(v) or []
        return list(dict.fromkeys(out))


class SiteOut(_Out):
    """A chosen site with what it brings."""

    order: int = Field(examples=[1])
    site_id: str = Field(examples=["001090"])
    name: str = Field(examples=["Collegno"])
    pro_com_t: str | None = Field(description="municipality of the site")
    lon: float
    lat: float
    marginal_gain: float | None = Field(description="people newly served (in the demand unit)")
    marginal_gain_pop: float | None = Field(description="residents newly served")
    marginal_gain_65: float | None = Field(description="residents aged 65+ newly served")
    served_before: float | None
    served_after: float | None
    share_before: float | None = Field(description="share of the judged demand served before")
    share_after: float | None


class SitingOut(_Out):
    """The sites chosen and the coverage they bring."""

    scope: str = Field(description="the cluster id, 'all' or 'municipalities'", examples=["C01"])
    municipalities: list[str] = Field(description="ISTAT codes in scope")
    demand: str = Field(examples=["pop_65_plus"])
    minutes: float = Field(examples=[15.0])
    categories: list[str]
    k: int
    in_scope: float | None = Field(description="people in scope (demand unit)")
    judged: float | None = Field(description="people whose service level is known")
    unknown: float | None = Field(description="people outside coverage or without data")
    served_today: float | None
    served_after: float | None
    candidates: int
    covered_candidates: int = Field(description="candidates that reach anyone within minutes")
    categories_without_data: list[str]
    sites: list[SiteOut]
    notes: list[str]


class ScenarioChangeIn(BaseModel):
    """One change: ``remove`` a service by id, or ``add`` one of a category at a point."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["add", "remove"] = Field(examples=["remove"])
    service_id: str | None = Field(
        default=None, min_length=1, max_length=200, examples=["osm:node/446391749"]
    )
    category: ServiceCategory | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    name: str | None = Field(default=None, max_length=200)

    @field_validator("category")
    @classmethod
    def _cat(cls, v: str | None) -> str | None:
        if v is not None:
            _known_categories([v])
        return v

    @model_validator(mode="after")
    def _complete(self) -> ScenarioChangeIn:
        if self.action == "remove":
            if not self.service_id:
                raise ValueError("a 'remove' change needs service_id")
            if self.category is not None or self.lon is not None or self.lat is not None:
                raise ValueError("a 'remove' change takes only service_id")
        else:
            if self.category is None or self.lon is None or self.lat is None:
                raise ValueError("an 'add' change needs category, lon and lat")
            if self.service_id is not None:
                raise ValueError("an 'add' change takes no service_id (a new one is made)")
        return self


class ScenarioRequest(BaseModel):
    """A what-if scenario: up to ten services added or removed, or a road preset.

    ``preset`` runs a road scenario instead of service changes: ``"winter"``
    (high passes closed, slower roads above an altitude) or a ``[[winter]]``
    variant of the served plan configuration.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "rivalta-post-closes",
                    "changes": [
                        {"action": "remove", "service_id": "osm:node/446391749"},
                        {
                            "action": "add",
                            "category": "pharmacy",
                            "lon": 7.445961,
                            "lat": 45.154548,
                            "name": "Farmacia di comunità",
                        },
                    ],
                },
                {"preset": "winter"},
            ]
        },
    )

    name: str = Field(
        default="scenario",
        pattern=r"^[A-Za-z0-9_.-]{1,60}$",
        description="scenario name (prefix of the ids of added services)",
    )
    preset: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$",
        description="road scenario instead of changes: 'winter' or a [[winter]] variant",
        examples=["winter"],
    )
    changes: list[ScenarioChangeIn] = Field(
        default_factory=list, max_length=MAX_CHANGES, validate_default=True
    )
    only_changed: bool = Field(
        default=True, description="list only the municipalities where something changed"
    )

    @field_validator("changes")
    @classmethod
    def _one_kind(cls, v: list[ScenarioChangeIn], info: ValidationInfo) -> list[ScenarioChangeIn]:
        preset = info.data.get("preset")
        if preset is None and not v:
            raise ValueError("give 1 to 10 changes (services added or removed), or a preset")
        if preset is not None and v:
            raise ValueError("give either changes or a preset, not both")
        return v


class ScenarioIndicator(_Out):
    """One recomputed category of one municipality, before and after (minutes, residents)."""

    category: str
    mean_min_before: float | None = None
    mean_min_after: float | None = None
    ref_min_before: float | None = Field(default=None, description="from the reference point")
    ref_min_after: float | None = None
    pop_beyond_30_before: float | None = Field(default=None, description="residents beyond 30'")
    pop_beyond_30_after: float | None = None
    status_after: str | None = Field(
        default=None,
        description="road presets: ok, partly_unreachable, unreachable (no time given), "
        "outside_coverage, no_data",
    )
    pop_unreachable_after: float | None = Field(
        default=None, description="road presets: residents who cannot reach the category"
    )


class ScenarioMunicipality(_Out):
    """A municipality before and after the scenario."""

    pro_com_t: str
    name: str
    score_before: float | None
    score_after: float | None
    score_delta: float | None
    class_before: str | None
    class_after: str | None
    changed: bool
    indicators: list[ScenarioIndicator]
    has_elevation: bool | None = Field(
        default=None, description="road presets: the DEM covers the capoluogo"
    )
    altitude_source: str | None = Field(
        default=None,
        description="road presets: dem, istat_centre (ISTAT centre altitude stands in) or none",
    )


class ScenarioOut(_Out):
    """What a scenario changes."""

    name: str
    categories: list[str] = Field(description="categories recomputed")
    municipalities: int = Field(description="municipalities compared")
    changed: int = Field(description="municipalities where something changed")
    class_changes: int = Field(description="municipalities changing SNAI class")
    items: list[ScenarioMunicipality]
    notes: list[str]
    winter: WinterOut | None = Field(default=None, description="road presets: what changed")


class WinterClosureOut(_Out):
    """A road closure rule and the edges it closed."""

    ref: str | None
    name: str | None
    municipalities: list[str] = Field(default_factory=list, description="ISTAT codes, if any")
    above_m: float | None = Field(default=None, description="only edges at or above (m)")
    note: str
    edges_closed: int
    km_closed: float
    unmatched_reason: str | None = Field(description="why no edge matched, or null")


class WinterCategoryOut(_Out):
    """What winter changes for one category, over the whole area."""

    category: str
    minutes_added_mean: float | None = Field(description="resident-weighted, reachable both ways")
    minutes_added_max: float | None
    residents_pushed_beyond_30: float
    residents_65_pushed_beyond_30: float
    residents_unreachable: float
    comuni_with_unreachable_residents: int


class WinterClusterOut(_Out):
    """An underserved cluster that appears or grows in winter."""

    cluster_id: str
    name_it: str
    name_en: str
    new_members: list[str]
    pop_total: float
    new: bool = Field(description="true when no member was in a summer cluster")


class WinterOut(_Out):
    """The road changes of a winter preset and their effects."""

    edges_closed: int
    km_closed: float
    edges_slowed: int
    km_slowed: float
    altitude_m: float
    altitude_speed_factor: float
    edges_without_altitude: int
    closures: list[WinterClosureOut]
    categories: list[WinterCategoryOut]
    clusters_appearing: list[WinterClusterOut]
    comuni_without_dem: list[str] = Field(description="ISTAT codes; their altitude is ISTAT's")
    seconds: float
