"""The one bounded cache and the one keyed hash every memo uses."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cookiegate._cache import BoundedCache, KeyedHash


def test_a_full_cache_is_emptied_before_a_new_key_goes_in() -> None:
    cache: BoundedCache[int, str] = BoundedCache(3)
    for key in range(3):
        cache.put(key, str(key))
    cache.put(1, "one")  # a key already in: nothing is dropped
    assert len(cache) == 3 and cache.get(1) == "one"
    cache.put(3, "3")
    assert len(cache) == 1 and cache.get(3) == "3" and cache.get(0) is None


def test_a_cache_bounded_by_weight_is_emptied_when_the_weight_would_pass_the_bound() -> None:
    cache: BoundedCache[str, bytes] = BoundedCache(100, weight=10)
    cache.put("a", b"x" * 6, weight=6)
    cache.put("b", b"y" * 4, weight=4)
    assert cache.weight == 10 and len(cache) == 2
    cache.put("c", b"z", weight=1)
    assert list(cache) == ["c"] and cache.weight == 1


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 5)), max_size=200))
def test_a_cache_never_holds_more_than_its_bounds_and_answers_what_was_put_last(ops: list[tuple[int, int]]) -> None:
    cache: BoundedCache[int, int] = BoundedCache(5, weight=12)
    for key, weight in ops:
        cache.put(key, weight, weight=weight)
        assert cache.get(key) == weight
        assert len(cache) <= 5
        assert cache.weight <= 12 or len(cache) == 1


def test_a_cache_refuses_to_hold_nothing() -> None:
    with pytest.raises(ValueError):
        BoundedCache(0)


def test_the_keyed_hash_is_blake2b_under_its_key_whatever_the_number_of_digests_before() -> None:
    key = bytes(range(16))
    keyed = KeyedHash(key=key)
    for material in (b"", b"a", b"a" * 300, b"a"):
        assert keyed.digest(material) == hashlib.blake2b(material, digest_size=16, key=key).digest()
    assert keyed.digest(b"ab", b"c") == keyed.digest(b"abc")


def test_two_keyed_hashes_disagree_unless_given_the_same_key() -> None:
    assert KeyedHash().digest(b"x") != KeyedHash().digest(b"x")
