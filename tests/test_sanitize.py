"""Sanitizer on its own: any value in, strict-JSON-safe, bounded and redacted data out.

Each public path is driven directly (``value``, ``string``, ``key``, ``extra``, ``record`` and
``json_safe``); records come from a real loguru sink. The end-to-end path (records in files) is
in ``test_redaction.py``.
"""

from __future__ import annotations

import copy
import datetime
import enum
import json
import re
import sys

import pytest
from loguru import logger

from streamlit_extension.patcher.redaction import KeyRedactor
from streamlit_extension.patcher.sanitize import (
    BUDGET_KEY,
    BUDGET_MARKER,
    CYCLE_MARKER,
    DEPTH_MARKER,
    MAX_DEPTH,
    MAX_FIELD_CHARS,
    MAX_RECORD_CHARS,
    Sanitizer,
    json_safe,
)
from streamlit_extension.patcher.values import ValueRedactor
from streamlit_extension.schema import OWN_FIELDS, REDACTED


def budget(chars: int = MAX_RECORD_CHARS) -> list[int]:
    return [chars]


def strict_json(value) -> str:
    """Serialise as a strict JSON writer would: NaN, Infinity and non-str keys refused."""
    return json.dumps(value, allow_nan=False)


def full() -> Sanitizer:
    return Sanitizer(KeyRedactor(), ValueRedactor())


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


class Colour(enum.Enum):
    RED = "red"


class Size(enum.IntEnum):
    LARGE = 3


class Name(str, enum.Enum):
    ANN = "ann"


# --------------------------------------------------------------------------- plain values


@pytest.mark.parametrize(("value", "expected"), [
    ("text", "text"),
    (0, 0),
    (-7, -7),
    (True, True),
    (None, None),
    (1.5, 1.5),
    (float("nan"), "NaN"),
    (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"),
    ((1, "a"), [1, "a"]),
    ({3}, [3]),
    (frozenset(), []),
    (b"ab\xff", "ab\\xff"),
    (bytearray(b"x"), "x"),
    (memoryview(b"y"), "y"),
    (datetime.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
    (datetime.date(2024, 1, 2), "2024-01-02"),
    (datetime.time(1, 2), "01:02:00"),
    (Size.LARGE, 3),
    (Name.ANN, "ann"),
    (Colour.RED, "Colour.RED"),
    (ValueError("boom"), "ValueError: boom"),
    (Unprintable(), "<unprintable Unprintable>"),
    (UnprintableError(), "UnprintableError: <unprintable UnprintableError>"),
])
def test_each_kind_of_value_becomes_json(value, expected):
    result = Sanitizer().value(value, budget())
    assert result == expected
    assert type(result) is type(expected)  # an IntEnum is written as an int, a str enum as a str
    strict_json(result)


def test_float_subclasses_and_their_non_finite_values():
    class Money(float):
        pass

    assert Sanitizer().value(Money("nan"), budget()) == "NaN"
    assert Sanitizer().value(Money("2.5"), budget()) == 2.5


def test_ints_too_long_to_print_are_written_in_hex():
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    if not limit:
        pytest.skip("this Python prints ints of any length")
    sanitizer = Sanitizer()
    largest = 10 ** limit - 1  # exactly `limit` digits: still printable
    assert sanitizer.value(largest, budget(10 * limit)) == largest
    for big in (10 ** limit, -(10 ** (limit * 2))):
        written = sanitizer.value(big, budget(10 * limit))
        digits = len(hex(abs(big))) - 2
        assert written == f"{'-' if big < 0 else ''}0x{hex(abs(big))[2:66]}…[int of {digits} hex digits]"
        strict_json(written)


def test_non_string_keys_become_strings():
    keys = {(1, 2): "a", 3: "b", None: "c", 1.5: "d", Unprintable(): "e", Colour.RED: "f"}
    result = Sanitizer().value(keys, budget())
    assert result == {"(1, 2)": "a", "3": "b", "None": "c", "1.5": "d", "<unprintable Unprintable>": "e",
                      "Colour.RED": "f"}
    strict_json(result)


def test_containers_are_copied_and_the_original_never_changes():
    inner = {"password": "pw", "ip": "10.0.0.1", "items": [1, (2, 3)]}
    original = {"inner": inner, "list": [inner], 4: {5}}
    before = copy.deepcopy(original)
    result = full().value(original, budget())
    assert original == before
    assert result["inner"] is not inner
    assert result["inner"] == {"password": REDACTED, "ip": "[IP]", "items": [1, [2, 3]]}
    assert result["4"] == [5]


# --------------------------------------------------------------------------- depth and cycles


def nested(levels: int) -> list:
    top = current = []
    for _ in range(levels):
        current.append([])
        current = current[0]
    return top


def test_nesting_stops_at_the_depth_limit():
    result = Sanitizer().value(nested(MAX_DEPTH + 10), budget())
    text = strict_json(result)
    assert text.replace(DEPTH_MARKER, "").count("[") == MAX_DEPTH
    assert DEPTH_MARKER in text
    assert Sanitizer(max_depth=2).value([[[1]], {"a": {"b": 1}}], budget()) == [[DEPTH_MARKER], {"a": DEPTH_MARKER}]
    assert Sanitizer(max_depth=0).value({"a": 1}, budget()) == DEPTH_MARKER


def test_cycles_are_cut_but_shared_values_are_repeated():
    looped: dict = {"name": "a"}
    looped["self"] = looped
    other = [looped]
    looped["other"] = other
    listed: list = [1]
    listed.append(listed)
    assert Sanitizer().value(looped, budget()) == {"name": "a", "self": CYCLE_MARKER, "other": [CYCLE_MARKER]}
    assert Sanitizer().value(listed, budget()) == [1, CYCLE_MARKER]
    shared = {"x": 1}
    assert Sanitizer().value([shared, shared, (shared,)], budget()) == [{"x": 1}, {"x": 1}, [{"x": 1}]]


# --------------------------------------------------------------------------- size


def test_a_long_string_is_capped_with_how_much_was_cut():
    sanitizer = Sanitizer(max_field=5)
    assert sanitizer.string("abcdefghij", budget()) == "abcde…[truncated 5 chars]"
    assert sanitizer.string("abcde", budget()) == "abcde"
    assert Sanitizer().string("x" * (MAX_FIELD_CHARS + 3), budget()).endswith("…[truncated 3 chars]")


def test_keys_are_capped_and_scanned_like_values():
    sanitizer = Sanitizer(values=ValueRedactor(), max_field=5)
    assert sanitizer.key("k" * 8, budget()) == "kkkkk…[truncated 3 chars]"
    assert Sanitizer(values=ValueRedactor()).key("ann@example.com", budget()) == REDACTED
    assert Sanitizer().key(("a", 1), budget()) == "('a', 1)"


def test_the_budget_is_spent_and_running_out_leaves_one_marker():
    spent = budget(100)
    Sanitizer().value("x" * 30, spent)
    assert spent == [70]
    assert Sanitizer().value(["aa", "bb", "cc", "dd"], budget(3))[:2] == ["aa", BUDGET_MARKER]
    # A key costs its length and 4 (quotes, colon, comma): a + x*10 + b + y spend exactly 21.
    cut = Sanitizer().value({"a": "x" * 10, "b": "y", "c": "z"}, budget(21))
    assert cut == {"a": "x" * 10, "b": "y", BUDGET_KEY: BUDGET_MARKER}
    assert Sanitizer().value([1], budget(0)) == BUDGET_MARKER
    assert Sanitizer().value(5, budget(1)) == BUDGET_MARKER
    assert Sanitizer().value(1.0, budget(10)) == BUDGET_MARKER
    assert Sanitizer().string("abc", budget(2)) == BUDGET_MARKER


def test_a_huge_value_fits_the_record_limit():
    sanitizer = Sanitizer()
    frame = {f"column_{n}": ["v" * 1000] * 100 for n in range(100)}  # ~10 MB as JSON
    text = strict_json(sanitizer.value(frame, budget()))
    assert len(text) < MAX_RECORD_CHARS + 64 * 1024
    assert BUDGET_MARKER in text


def test_bytes_are_cut_to_the_field_limit_and_say_so():
    sanitizer = Sanitizer(max_field=4)
    assert sanitizer.value(b"abcdefgh", budget()) == "abcd…[truncated 4 bytes]"
    assert Sanitizer(max_field=8).value(bytearray(b"ab\xff"), budget()) == "ab\\xff"  # whole: no marker
    assert sanitizer.value(memoryview(b"abcdefghij"), budget()) == "abcd…[truncated 6 bytes]"
    wide = memoryview(bytes(range(16))).cast("I")  # 4-byte items: counted in bytes
    assert sanitizer.value(wide, budget()).endswith("…[truncated 12 bytes]")


# --------------------------------------------------------------------------- redaction


def test_secret_keys_are_masked_at_any_depth_and_values_scanned():
    data = {"user": {"name": "ann", "Password": "pw", "list": [{"api-key": "k"}]}, "note": "Bearer abcdefghijkl"}
    assert full().value(data, budget()) == {
        "user": {"name": "ann", "Password": REDACTED, "list": [{"api-key": REDACTED}]},
        "note": f"Bearer {REDACTED}",
    }


def test_a_key_that_only_names_a_secret_once_converted_is_masked():
    assert full().value({("password",): "pw"}, budget()) == {"('password',)": REDACTED}


def test_without_redactors_only_json_safety_applies():
    data = {"password": "pw", "note": "ann@example.com 10.0.0.1", "n": float("nan")}
    assert Sanitizer().value(data, budget()) == {"password": "pw", "note": "ann@example.com 10.0.0.1", "n": "NaN"}


def test_json_safe_masks_keys_only_when_given_a_key_redactor():
    data = {"token": "t", "deep": [{"secret": "s"}], "note": "ann@example.com", "t": (1, float("inf"))}
    assert json_safe(data) == {"token": "t", "deep": [{"secret": "s"}], "note": "ann@example.com", "t": [1, "Infinity"]}
    assert json_safe(data, KeyRedactor()) == {"token": REDACTED, "deep": [{"secret": REDACTED}],
                                              "note": "ann@example.com", "t": [1, "Infinity"]}
    assert json_safe(data, KeyRedactor(["note"]))["note"] == REDACTED


def test_json_safe_of_a_nasty_value_serialises_strictly():
    looped: dict = {}
    looped["me"] = looped
    nasty = {"cycle": looped, ("t",): {1, 2}, "nan": float("nan"), "when": datetime.date(2024, 1, 1),
             "bytes": b"\x00\xff", "bad": Unprintable(), "deep": nested(100)}
    strict_json(json_safe(nasty))


# --------------------------------------------------------------------------- extra


def test_extra_is_made_safe_in_place():
    extra = {"password": "pw", "note": "from 10.0.0.1", "n": float("nan"), "items": (1, 2), "flag": None, "ok": True}
    same = extra
    full().extra(extra)
    assert extra is same
    assert extra == {"password": REDACTED, "note": "from [IP]", "n": "NaN", "items": [1, 2], "flag": None, "ok": True}


def test_own_fields_holding_plain_ids_are_not_rescanned():
    # A valid id in a field we own is kept as is, even when it looks like an address.
    assert {"operation", "page", "session_id", "user_id", "correlation_id"} <= OWN_FIELDS
    extra = {"operation": "10.0.0.1", "page": "10.0.0.2", "correlation_id": "req_1", "duration_ms": 12,
             "success": True, "note": "10.0.0.1"}
    full().extra(extra)
    assert extra == {"operation": "10.0.0.1", "page": "10.0.0.2", "correlation_id": "req_1", "duration_ms": 12,
                     "success": True, "note": "[IP]"}


def test_own_fields_an_app_filled_with_something_else_are_scanned():
    extra = {"page": "ann@example.com", "session_id": "bad id from 10.0.0.1", "operation": {"token": "t"},
             "user_id": "Ann@Example.com"}
    full().extra(extra)
    assert extra["page"] == REDACTED
    assert extra["session_id"] == "bad id from [IP]"
    assert extra["operation"] == {"token": REDACTED}
    # An e-mail bound as user_id becomes its pseudonym: stable, and not the address.
    assert re.fullmatch(r"user_[0-9a-f]{16}", extra["user_id"])
    again = {"user_id": "ann@example.com"}
    full().extra(again)
    assert again["user_id"] == extra["user_id"]


def test_keys_that_are_not_identifiers_are_scanned_and_renamed():
    long_key = "k" * 65 + " ann@example.com"
    extra = {"ann@example.com": 1, "from 10.0.0.1": 2, long_key: 3, "plain": 4}
    full().extra(extra)
    assert extra == {"plain": 4, REDACTED: 1, "from [IP]": 2, "k" * 65 + f" {REDACTED}": 3}


def test_extra_runs_out_of_budget_field_by_field():
    extra = {"a": "x" * 10, "b": 5, "c": "y", "d": 1.5}
    Sanitizer(max_record=12).extra(extra)
    assert extra == {"a": "x" * 10, "b": 5, "c": BUDGET_MARKER, "d": BUDGET_MARKER}
    shared = budget(12)
    Sanitizer().extra({"a": "x" * 10}, shared)
    assert shared == [2]  # the caller's budget, spent


# --------------------------------------------------------------------------- record


@pytest.fixture
def capture():
    """Real loguru records, as a sink receives them."""
    records: list[dict] = []
    logger.add(lambda message: records.append(message.record), catch=False, format="{message}")
    return records


def test_record_masks_the_message_extras_and_exception(capture):
    try:
        try:
            raise KeyError("inner")
        except KeyError as cause:
            raise ConnectionError("pw at postgres://app:hunter22@db/x") from cause
    except ConnectionError as exc:
        error = exc
        logger.bind(password="p", ip="10.0.0.1").opt(exception=exc).error("login from 10.0.0.1")
    (record,) = capture
    original = record["exception"]
    full().record(record)
    assert record["message"] == "login from [IP]"
    assert record["extra"] == {"password": REDACTED, "ip": "[IP]"}
    masked = record["exception"]
    assert masked.type is ConnectionError
    assert type(masked.value) is ConnectionError
    assert str(masked.value) == f"pw at postgres://app:{REDACTED}@db/x"
    assert masked.value.__cause__ is error.__cause__
    assert masked.traceback is original.traceback
    assert masked.value.__traceback__ is error.__traceback__
    assert str(error) == "pw at postgres://app:hunter22@db/x"  # the app's exception is untouched


def test_record_keeps_a_clean_exception_as_it_is(capture):
    try:
        raise ValueError("nothing secret")
    except ValueError:
        logger.exception("failed")
    (record,) = capture
    original = record["exception"]
    full().record(record)
    assert record["exception"] is original


def test_an_exception_with_its_own_str_gets_a_plain_masked_stand_in(capture):
    class CustomError(Exception):
        def __str__(self) -> str:
            return f"custom {self.args[0]}"

    try:
        raise CustomError("token=abc")
    except CustomError:
        logger.exception("failed")
    (record,) = capture
    full().record(record)
    assert record["exception"].type is CustomError
    assert str(record["exception"].value) == f"custom token={REDACTED}"


def test_an_unprintable_exception_gets_a_printable_stand_in(capture):
    try:
        raise UnprintableError("x")
    except UnprintableError:
        logger.exception("failed")
    (record,) = capture
    Sanitizer().record(record)
    assert record["exception"].type is UnprintableError
    assert str(record["exception"].value) == "<unprintable UnprintableError>"


def test_record_shares_one_budget_between_message_and_extras(capture):
    logger.bind(a="y" * 10).info("x" * 10)
    (record,) = capture
    Sanitizer(max_record=15).record(record)
    assert record["message"] == "x" * 10
    assert record["extra"]["a"] == BUDGET_MARKER
