"""Schemas of the rounds endpoints. Request bodies are strict (backend.api_basics.StrictIn)."""

from datetime import datetime

from pydantic import BaseModel, Field

from backend.api_basics import IsoDate, StrictIn
from inspections.models import Round, RoundStop


class RoundIn(StrictIn):
    """POST rounds. The stops are visited in the order given, unless `optimize_route`."""

    inspector_id: int = Field(ge=1)
    date: IsoDate
    checklist_id: int = Field(ge=1)
    establishment_ids: list[int] = Field(min_length=1, max_length=60)
    optimize_route: bool = True
    notes: str = Field(default="", max_length=2000)


class RoundPatch(StrictIn):
    """PATCH rounds/{id}: any of these; `status: "cancelled"` cancels (on its own)."""

    inspector_id: int | None = Field(default=None, ge=1, description="Reassign to this inspector")
    stop_ids: list[int] | None = Field(
        default=None, max_length=60, description="A permutation of the current (non-cancelled) stop ids"
    )
    add_establishment_ids: list[int] = Field(default_factory=list, max_length=60)
    remove_stop_ids: list[int] = Field(default_factory=list, max_length=60)
    optimize_route: bool = Field(default=False, description="Re-order the pending stops by a short tour")
    status: str | None = Field(default=None, pattern="^cancelled$", description='Only "cancelled"')
    notes: str | None = Field(default=None, max_length=2000)


class EstablishmentBrief(BaseModel):
    id: int
    name_ar: str
    name_en: str
    category: str
    licence_no: str
    address: str
    lat: float
    lon: float


class StopOut(BaseModel):
    id: int
    position: int
    status: str = Field(description="pending, visited, missed or cancelled")
    is_follow_up: bool
    updated_at: datetime
    establishment: EstablishmentBrief

    @classmethod
    def of(cls, stop: RoundStop) -> "StopOut":
        establishment = stop.establishment
        return cls(
            id=stop.pk,
            position=stop.position,
            status=stop.status,
            is_follow_up=stop.is_follow_up,
            updated_at=stop.updated_at,
            establishment=EstablishmentBrief(
                id=establishment.pk,
                name_ar=establishment.name_ar,
                name_en=establishment.name_en,
                category=establishment.category.code,
                licence_no=establishment.licence_no,
                address=establishment.address,
                lat=establishment.lat,
                lon=establishment.lon,
            ),
        )


class RoundSummaryOut(BaseModel):
    id: int
    date: IsoDate
    municipality_id: int
    inspector_id: int
    inspector_username: str
    checklist_id: int
    checklist_version_id: int | None = Field(description="The checklist's published version, used by the visits")
    status: str = Field(description="planned, in_progress, done, partly_done or cancelled")
    route_optimized: bool
    tour_length_m: float | None = Field(description="Geodesic length of the path through the stops, in order")
    notes: str
    stop_count: int
    visited_count: int
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None

    @classmethod
    def fields_of(cls, round: Round, version_ids: dict[int, int]) -> dict:
        stops = [stop for stop in round.stops.all() if stop.status != RoundStop.Status.CANCELLED]
        return {
            "id": round.pk,
            "date": round.date,
            "municipality_id": round.municipality_id,
            "inspector_id": round.inspector_id,
            "inspector_username": round.inspector.get_username(),
            "checklist_id": round.checklist_id,
            "checklist_version_id": version_ids.get(round.checklist_id),
            "status": round.status,
            "route_optimized": round.route_optimized,
            "tour_length_m": round.tour_length_m,
            "notes": round.notes,
            "stop_count": len(stops),
            "visited_count": sum(1 for stop in stops if stop.status == RoundStop.Status.VISITED),
            "created_at": round.created_at,
            "updated_at": round.updated_at,
            "cancelled_at": round.cancelled_at,
        }

    @classmethod
    def of(cls, round: Round, version_ids: dict[int, int]) -> "RoundSummaryOut":
        return cls(**cls.fields_of(round, version_ids))


class RoundOut(RoundSummaryOut):
    """A round with its stops in route order (cancelled stops last, so the phone can drop them)."""

    stops: list[StopOut]

    @classmethod
    def of(cls, round: Round, version_ids: dict[int, int]) -> "RoundOut":
        stops = sorted(round.stops.all(), key=lambda stop: (stop.position, stop.pk))
        return cls(**cls.fields_of(round, version_ids), stops=[StopOut.of(stop) for stop in stops])


class MeRoundsOut(BaseModel):
    """The delta-sync answer. Store `cursor` and send it back as `updated_since` next time."""

    cursor: datetime = Field(description="Pass back as updated_since on the next sync")
    server_time: datetime
    full: bool = Field(description="True when no updated_since was given: the answer is the whole current set")
    rounds: list[RoundOut] = Field(description="Rounds of yours created, changed or cancelled since the cursor")
    removed_round_ids: list[int] = Field(
        description="Rounds reassigned away from you since the cursor: delete them from the phone"
    )
