"""Generated Russian names for demo doctors and demo insured persons."""

import random

from portal.directory.demo_data import FEMALE_FIRST, MALE_FIRST, MALE_LAST, PATRONYMIC_ROOTS


def random_full_name(rng: random.Random, sex: str) -> tuple[str, str, str]:
    """(last, first, middle) agreeing in sex: -ов → -ова, -ович → -овна."""
    last = rng.choice(MALE_LAST)
    root = rng.choice(PATRONYMIC_ROOTS)
    if sex == "F":
        return last + "а", rng.choice(FEMALE_FIRST), root + "на"
    return last, rng.choice(MALE_FIRST), root + "ич"
