"""Fictional petitioners for the demo: valid ID numbers (GB 11643 check digit), valid mobiles,
common names, addresses in the district's communities and villages."""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Any

from xinfang.cases.models import Channel
from xinfang.core.idcard import id_check_digit
from xinfang.org import demo_text as T
from xinfang.org.demo_topics import Topic
from xinfang.people.services import PetitionerInput, age_band_of

if TYPE_CHECKING:
    from xinfang.org.demo import Place

DISTRICT_REGION = "110199"
MOBILE_PREFIXES = [str(p) for p in (130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151)]
MOBILE_PREFIXES += [str(p) for p in (152, 153, 155, 156, 158, 159, 166, 177, 180, 181, 185)]
MOBILE_PREFIXES += [str(p) for p in (186, 187, 188, 189, 199)]
# Share of petitioners who give an ID number, by channel (online filing is real-name).
ID_SHARE: dict[str, float] = {
    Channel.ONLINE: 1.0,
    Channel.PHONE: 0.6,
    Channel.LETTER: 0.7,
    Channel.EMAIL: 0.5,
}


def _pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


class PeopleMaker:
    def __init__(self, rng: random.Random, places: list[Place], street_names: dict[str, str]):
        self.rng = rng
        self.places = places
        self.street_names = street_names
        self.used_ids: set[str] = set()
        self.today = dt.date.today()

    def id_number(self, region: str, birth: dt.date, male: bool) -> str:
        while True:
            seq = self.rng.randint(0, 499) * 2 + (1 if male else 0)
            first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_digit(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"

    def name(self, male: bool) -> str:
        surname = self.rng.choices(T.SURNAMES, weights=T.SURNAME_WEIGHTS)[0]
        return surname + self.rng.choice(T.GIVEN_MALE if male else T.GIVEN_FEMALE)

    def address(self, place: Place) -> str:
        rng = self.rng
        street = self.street_names[place.street]
        estate = rng.choice(place.estates)
        if place.rural:
            return f"示范区{street}{estate}{rng.randint(1, 320)}号"
        return (
            f"示范区{street}{estate}{rng.randint(1, 24)}号楼{rng.randint(1, 4)}单元"
            f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}室"
        )

    def person(
        self, topic: Topic, place: Place, channel: str, *, with_id: bool | None = None
    ) -> PetitionerInput:
        rng = self.rng
        if with_id is None:
            with_id = rng.random() < ID_SHARE.get(channel, 0.92)
        male = rng.random() < 0.55
        age = rng.randint(*topic.age)
        birth = self.today - dt.timedelta(days=age * 365 + rng.randint(10, 360))
        if rng.random() < topic.migrant:
            region = rng.choice(T.MIGRANT_REGIONS)
        elif rng.random() < 0.8:
            region = DISTRICT_REGION
        else:
            region = rng.choice(T.LOCAL_REGIONS)
        phone = "" if channel == Channel.LETTER and rng.random() < 0.2 else self.mobile()
        return PetitionerInput(
            name=self.name(male),
            id_number=self.id_number(region, birth, male) if with_id else "",
            phone=phone,
            address=self.address(place),
            sex="" if with_id else ("M" if male else "F"),
            age_band="" if with_id else age_band_of(age),
            education=_pick(rng, T.EDUCATION),
            occupation=rng.choice(topic.occupations),
            ethnic_group=_pick(rng, T.ETHNIC_GROUPS),
        )
