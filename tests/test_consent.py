from __future__ import annotations

import time

import itsdangerous
import pytest

from cookiegate._http import build_set_cookie, read_cookie
from cookiegate.policy._consent import Choice, ConsentCodec

OLD, NEW = "o" * 40, "n" * 40


def choice(**overrides: object) -> Choice:
    data: dict[str, object] = {
        "consent_id": "abcdefghijklmnop",
        "categories": {"functional": True, "analytics": True, "ads": False, "social": False},
        "policy_revision": "1",
        "regime_key": "FR",
        "regime_kind": "opt-in",
        "action": "save",
        "issued_at": int(time.time()),
    }
    data.update(overrides)
    return Choice(**data)  # type: ignore[arg-type]


def codec(keys: list[str] | None = None, revision: str = "1", max_age: int = 3600) -> ConsentCodec:
    return ConsentCodec(keys or [NEW], policy_revision=revision, max_age=max_age)


def test_round_trip_keeps_every_field() -> None:
    c = choice()
    assert codec().decode(codec().encode(c)) == c


def test_tampered_payload_is_no_choice() -> None:
    value = codec().encode(choice())
    i = 5  # inside the payload, whatever its compression marker
    flipped = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1 :]
    c = codec()
    assert c.decode(flipped) is None
    assert c.rejections == 1


def test_cookie_signed_with_another_salt_is_no_choice() -> None:
    other = itsdangerous.URLSafeTimedSerializer([NEW], salt="someone-else")
    assert codec().decode(other.dumps(choice().to_payload())) is None


def test_key_rotation_old_cookies_still_verify_and_the_newest_key_signs() -> None:
    before = codec([OLD]).encode(choice())
    rotated = codec([OLD, NEW])
    assert rotated.decode(before) is not None
    after = rotated.encode(choice())
    assert codec([NEW]).decode(after) is not None
    assert codec([OLD]).decode(after) is None


def test_unknown_key_is_no_choice() -> None:
    assert codec([NEW]).decode(codec(["x" * 40]).encode(choice())) is None


def test_expired_cookie_is_no_choice() -> None:
    old = choice(issued_at=int(time.time()) - 7200)
    value = codec(max_age=3600).encode(old)
    assert codec(max_age=3600).decode(value) is None


def test_new_policy_revision_asks_again() -> None:
    value = codec(revision="1").encode(choice(policy_revision="1"))
    assert codec(revision="2").decode(value) is None


@pytest.mark.parametrize("value", ["", "garbage", "a.b.c", "é" * 10, "x" * 5000, ".".join(["A"] * 50)])
def test_malformed_or_oversized_cookie_is_no_choice(value: str) -> None:
    assert codec().decode(value) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"v": 2},
        {"v": 1, "id": "abcdefghijkl", "c": "1111", "r": "1", "g": "FR", "k": "opt-in", "a": "save", "t": 1},
        {"v": 1, "id": "<script>", "c": "0000", "r": "1", "g": "FR", "k": "opt-in", "a": "save", "t": 1},
        {"v": 1, "id": "abcdefghijkl", "c": "0000", "r": "1", "g": "FR", "k": "opt-in", "a": "hack", "t": 1},
        {"v": 1, "id": "abcdefghijkl", "c": "0000", "r": "1", "g": "FR", "k": "opt-in", "a": "save", "t": True},
        [1, 2, 3],
    ],
)
def test_validly_signed_but_malformed_payload_is_no_choice(payload: object) -> None:
    signer = itsdangerous.URLSafeTimedSerializer([NEW], salt="cookiegate.consent.v1")
    assert codec().decode(signer.dumps(payload)) is None


def test_read_cookie_picks_the_named_cookie_and_refuses_conflicting_duplicates() -> None:
    headers = [(b"cookie", b"a=1; cookiegate_consent=abc; b=2")]
    assert read_cookie(headers, "cookiegate_consent") == "abc"
    dup = [(b"cookie", b"cookiegate_consent=abc; cookiegate_consent=def")]
    assert not read_cookie(dup, "cookiegate_consent")
    assert read_cookie([(b"cookie", b"other=1")], "cookiegate_consent") is None


def test_set_cookie_attributes() -> None:
    header = build_set_cookie("cookiegate_consent", "v", max_age=100, domain="kactuce.com", secure=True)
    for part in (
        "cookiegate_consent=v",
        "Max-Age=100",
        "Domain=kactuce.com",
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
    ):
        assert part in header
    insecure = build_set_cookie("c", "v", max_age=100, domain=None, secure=False)
    assert "Secure" not in insecure and "Domain" not in insecure


def test_codec_repr_hides_keys() -> None:
    assert NEW not in repr(codec())


def test_a_remembered_cookie_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    c = codec(max_age=3600)
    value = c.encode(choice())
    assert c.decode(value) is not None
    assert c.decode(value) is not None  # the second read is answered from memory
    later = time.time() + 3601
    monkeypatch.setattr(time, "time", lambda: later)
    assert c.decode(value) is None
    assert c.rejections == 1


def test_a_cookie_that_failed_verification_is_not_remembered() -> None:
    c = codec()
    good = c.encode(choice())
    flipped = good[:5] + ("A" if good[5] != "A" else "B") + good[6:]
    for _ in range(3):
        assert c.decode(flipped) is None
    assert c.rejections == 3  # every attempt verified (and refused) again
    assert c.decode(good) == choice(issued_at=c.decode(good).issued_at)  # type: ignore[union-attr]


def test_a_remembered_cookie_is_not_trusted_by_a_codec_with_other_keys() -> None:
    value = codec([OLD]).encode(choice())
    first = codec([OLD])
    assert first.decode(value) is not None
    assert codec([NEW]).decode(value) is None


def _signed_at(value_of: ConsentCodec, c: Choice, when: float, monkeypatch: pytest.MonkeyPatch) -> str:
    """``c`` signed by ``value_of`` as if at ``when`` (itsdangerous stamps the signing time itself)."""
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: when)
        return value_of.encode(c)


def test_one_read_gives_the_choice_and_the_other_revision_as_the_two_separate_questions_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = time.time()
    current, older = codec(revision="2"), codec(revision="1")
    values = {
        "current": current.encode(choice(policy_revision="2")),
        "older revision": older.encode(choice(policy_revision="1")),
        "older revision, expired": _signed_at(older, choice(policy_revision="1", issued_at=int(now) - 7200),
                                              now - 7200, monkeypatch),
        "current, expired": _signed_at(current, choice(policy_revision="2", issued_at=int(now) - 7200),
                                       now - 7200, monkeypatch),
        "another key": codec(["x" * 40], revision="1").encode(choice(policy_revision="1")),
        "forged": "eyJmb3JnZWQiOnRydWV9.AAAAAA.c2lnbmF0dXJlLWZvcmdlZC0xMjM0NTY3",
        "no separator": "garbage",
        "absent": None,
        "empty": "",
    }
    expected = {
        "current": (True, None), "older revision": (False, "1"), "older revision, expired": (False, "1"),
        "current, expired": (False, None), "another key": (False, None), "forged": (False, None),
        "no separator": (False, None), "absent": (False, None), "empty": (False, None),
    }
    for name, value in values.items():
        reader = codec(revision="2")
        got, revision = reader.read(value)
        assert (got is not None, revision) == expected[name], name
        assert got == codec(revision="2").decode(value) and revision == codec(revision="2").previous_revision(value)


def test_a_forged_cookie_is_refused_before_itsdangerous_and_leaves_no_garbage_cycle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc
    import types

    import cookiegate.policy._consent as consent_module

    def from_the_codec(obj: object) -> bool:
        # Other threads of the suite (a flusher, a server) may leave garbage of their own while this runs;
        # only what the codec's frames left behind counts.
        if isinstance(obj, BaseException):
            obj = obj.__traceback__
        while isinstance(obj, types.TracebackType):
            if obj.tb_frame.f_code.co_filename == consent_module.__file__:
                return True
            obj = obj.tb_next
        return isinstance(obj, types.FrameType) and obj.f_code.co_filename == consent_module.__file__

    c = codec([OLD, NEW])
    valid_old, valid_new = codec([OLD]).encode(choice()), codec([NEW]).encode(choice())
    forged = [valid_new[:-4] + "AAAA", valid_new.rsplit(".", 1)[0] + ".", "a.b", "x.y.z", valid_old + "x"]
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.garbage.clear()
    try:
        with monkeypatch.context() as m:
            def must_not_run(*args: object, **kwargs: object) -> object:
                raise AssertionError("itsdangerous asked about a forged signature")

            m.setattr(itsdangerous.URLSafeTimedSerializer, "loads", must_not_run)
            for _ in range(50):
                for value in forged:
                    assert c.read(value) == (None, None)
        gc.collect()
        left = [o for o in gc.garbage if from_the_codec(o)]
        assert not left  # no exception, traceback and frame left in a cycle
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert c.rejections == 50 * len(forged)
    # Both keys' signatures pass the check and go on to the full verification.
    assert c.decode(valid_old) is not None
    assert c.decode(valid_new) is not None


def test_vendors_chosen_by_name_round_trip_and_are_left_out_when_there_are_none() -> None:
    c = choice(vendors={"hotjar": True, "microsoft-clarity": False})
    assert codec().decode(codec().encode(c)) == c
    assert "o" not in choice().to_payload()
    assert choice().vendors == {}


@pytest.mark.parametrize(
    "vendors",
    [
        {"Hotjar": 1},  # not a vendor id
        {"hotjar": True},  # a flag is 0 or 1
        {"hotjar": 2},
        [["hotjar", 1]],
        {f"v{i}": 1 for i in range(40)},  # more than a cookie should carry
    ],
)
def test_a_signed_payload_with_bad_vendor_choices_is_no_choice(vendors: object) -> None:
    signer = itsdangerous.URLSafeTimedSerializer([NEW], salt="cookiegate.consent.v1")
    payload = {**choice().to_payload(), "o": vendors}
    assert codec().decode(signer.dumps(payload)) is None
