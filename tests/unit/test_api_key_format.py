from __future__ import annotations

import random
import string

from hypothesis import given
from hypothesis import strategies as st

from ias.contracts.api_keys import (
    ALPHABET,
    DISPLAY_LENGTH,
    KEY_LENGTH,
    display_prefix,
    generate_key,
    hash_key,
    is_well_formed,
)

CORPUS = [generate_key() for _ in range(200)]


def test_generated_keys_are_well_formed_and_distinct() -> None:
    assert all(is_well_formed(key) for key in CORPUS)
    assert len(set(CORPUS)) == len(CORPUS)
    assert all(len(key) == KEY_LENGTH and key.startswith("ias_") for key in CORPUS)


def test_every_single_character_substitution_is_caught() -> None:
    typos = 0
    for key in CORPUS[:40]:
        for position in range(len(key)):
            for char in ALPHABET + "_-":
                if char == key[position]:
                    continue
                mistyped = key[:position] + char + key[position + 1 :]
                assert not is_well_formed(mistyped), (key, position, char)
                typos += 1
    assert typos > 100_000


def test_every_neighbour_swap_deletion_and_insertion_is_caught() -> None:
    for key in CORPUS:
        for position in range(len(key) - 1):
            swapped = key[:position] + key[position + 1] + key[position] + key[position + 2 :]
            if swapped != key:
                assert not is_well_formed(swapped)
            assert not is_well_formed(key[:position] + key[position + 1 :])
            assert not is_well_formed(key[:position] + "x" + key[position:])


@given(st.text(alphabet=string.ascii_letters + string.digits + "_", max_size=60))
def test_made_up_keys_are_rejected(text: str) -> None:
    assert not is_well_formed(text) or text in CORPUS


def test_random_keys_of_the_right_shape_are_rejected() -> None:
    rng = random.Random(7)
    made_up = ["ias_" + "".join(rng.choices(ALPHABET, k=KEY_LENGTH - 4)) for _ in range(20_000)]
    assert sum(is_well_formed(key) for key in made_up) == 0


def test_hash_is_keyed_and_stable() -> None:
    key = CORPUS[0]
    assert hash_key(key, "a" * 32) == hash_key(key, "a" * 32)
    assert hash_key(key, "a" * 32) != hash_key(key, "b" * 32)
    assert key not in hash_key(key, "a" * 32)


def test_display_prefix_reveals_only_the_start() -> None:
    key = CORPUS[0]
    assert display_prefix(key) == key[:DISPLAY_LENGTH]
    assert len(display_prefix(key)) == 12
