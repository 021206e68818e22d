"""Result encoding against awslambdaric's own marshal_response (contract §1.9)."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import gc
import math
import sys
import uuid
import warnings

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marshal_helpers import exact_canonical, outcome, parse_exact, reference_marshaller
from fastrt.marshal import Marshaller

Point = collections.namedtuple("Point", "x y")


class Color(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    HIGH = 3


class Mode(str, enum.Enum):
    FAST = "fast"


class Ratio(float, enum.Enum):
    HALF = 0.5


class Text(str):
    def __str__(self):
        return "not the data"


class Count(int):
    def __int__(self):
        return 7


class Real(float):
    def __repr__(self):
        return "0"


class Reversed(list):
    def __iter__(self):
        return iter(list.__iter__(self).__reversed__() if False else reversed(list(list.__iter__(self))))


class OnlyZ(dict):
    def items(self):
        return [("z", 1)]


class AsDict:
    def _asdict(self):
        return {"from": "asdict"}


class BadAsDict:
    def _asdict(self):
        return [1]


class AsDictNeedsArgument:
    def _asdict(self, required):
        return {}


class ForJson:
    def for_json(self):
        return {}


@dataclasses.dataclass
class Item:
    name: str = "n"
    when: datetime.date = datetime.date(2020, 1, 2)


async def coroutine_function():
    return 1


def generator():
    yield 1


def cases():
    circular: list = []
    circular.append(circular)
    circular_dict: dict = {}
    circular_dict["me"] = circular_dict
    return [
        None, True, False, 0, 1, -1, 2**63, 2**64, -(2**63) - 1, 2**200, -(2**200), 1.0, -0.0, 0.1, 1e16, 1e-7,
        1.7976931348623157e308, 5e-324, float("nan"), float("inf"), -float("inf"), "", "plain", "h\u00e9llo \u2713 \U0001F600",
        "\x00\x1f\x7f\u2028\"\\/", "\ud800", "a\udfffb", decimal.Decimal("1.10"), decimal.Decimal("1E+2"),
        decimal.Decimal("-0"), decimal.Decimal("NaN"), decimal.Decimal("-sNaN"), decimal.Decimal("Infinity"),
        decimal.Decimal("123456789012345678901234567890.000000001"), (1, 2), (), [], {}, [[]], [{}], Point(1, 2),
        [Point(1, [Point(2, 3)])], {"p": Point(1.5, None)}, {1: "i", 1.5: "f", True: "t", None: "n", 1e16: "e", float("nan"): "x"},
        {False: 0}, {b"k": 1}, {"b": b"bytes"}, [b"x"], {"bad": b"\xff"}, {decimal.Decimal(1): 1}, {(1, 2): 1},
        {1: 1, "1": 2}, Color.RED, Level.HIGH, Mode.FAST, Ratio.HALF, Text("data"), Count(3), Real(2.5), Reversed([1, 2]),
        OnlyZ(a=1), collections.OrderedDict(b=1, a=2), collections.defaultdict(int, a=1), collections.Counter("aab"),
        AsDict(), BadAsDict(), AsDictNeedsArgument(), ForJson(), uuid.UUID(int=1), datetime.datetime(2020, 1, 1),
        datetime.date(2020, 1, 1), datetime.time(1, 2), Item(), {1, 2}, frozenset(), bytearray(b"x"), memoryview(b"x"),
        generator(), object(), range(3), complex(1, 2), 10**5000, circular, circular_dict, {"deep": [[[[[[[[1]]]]]]]]},
        [{"a": [1, {"b": float("nan")}]}], [[1] * 3] * 3, {"k": {"n": [None, 2**70]}}, {"x": Color.RED},
        {"x": uuid.UUID(int=5)}, [decimal.Decimal("2.50"), {"d": decimal.Decimal("-1e-30")}], {"s": {1, 2}},
        "x" * 10000,
    ]


CASES = cases()


def _utf8_encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def body_of(result):
    body, content_type = result
    return (body if isinstance(body, bytes) else body.encode("utf-8")), content_type


@pytest.mark.parametrize("value", CASES, ids=lambda v: type(v).__name__)
def test_values_encode_like_the_reference(marshaller_factory, ensure_ascii, value):
    theirs = outcome(reference_marshaller(ensure_ascii).marshal_response, value)
    ours = outcome(marshaller_factory(ensure_ascii).encode, value)
    if theirs[0] == "ok" and isinstance(theirs[1][0], str) and not _utf8_encodable(theirs[1][0]):
        # A lone surrogate as raw UTF-8: the reference dies posting it; fastrt escapes it.
        assert exact_canonical(parse_exact(ours[1][0])) == exact_canonical(parse_exact(theirs[1][0]))
        return
    if theirs[0] == "ok":
        theirs = ("ok", body_of(theirs[1]))
    if theirs[0] == "error":
        assert ours == theirs
        return
    assert ours[0] == "ok", ours
    body, content_type = ours[1]
    assert content_type == theirs[1][1]
    if content_type == "application/unknown":
        assert body == theirs[1][0]
    elif marshaller_factory.fast:
        assert exact_canonical(parse_exact(body)) == exact_canonical(parse_exact(theirs[1][0]))
    else:
        assert body == theirs[1][0]  # the reference path is byte for byte the reference
    if ensure_ascii:
        assert body.isascii()


def test_lone_surrogates_are_escaped_when_utf8_is_asked_for(marshaller_factory):
    # The reference builds a str it cannot encode and dies posting it; fastrt escapes instead.
    body, _ = marshaller_factory(False).encode({"s": "a\ud800b\u00e9"})
    assert body.decode("utf-8") in ('{"s": "a\\ud800b\u00e9"}', '{"s":"a\\ud800b\u00e9"}')
    assert parse_exact(body) == {"s": "a\ud800b\u00e9"}


def test_utf8_output_is_raw_when_not_ascii(marshaller_factory):
    body, _ = marshaller_factory(False).encode(["\u00e9\U0001F600"])
    assert "\u00e9\U0001F600".encode() in body


def test_bytes_are_sent_raw():
    payload = b"\x00\xffbinary"
    for marshaller in (Marshaller(True), _fast(True)):
        assert marshaller.encode(payload) == (payload, "application/unknown")


def test_coroutine_result_still_warns_never_awaited(marshaller_factory):
    marshaller = marshaller_factory(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = coroutine_function()
        assert outcome(marshaller.encode, result)[0] == "error"
        del result
        gc.collect()
    assert any("was never awaited" in str(w.message) for w in caught)


def test_dumps_is_the_reference_encoder_output(ensure_ascii):
    from awslambdaric import lambda_runtime_marshaller

    value = {"errorMessage": "h\u00e9", "errorType": "E", "requestId": "r", "stackTrace": ["  File \"x\"\n"]}
    expected = reference_marshaller(ensure_ascii).jsonEncoder.encode(value).encode("utf-8")
    assert Marshaller(ensure_ascii).dumps(value) == expected
    assert lambda_runtime_marshaller  # the module the reference encodes with


def _fast(ensure_ascii, extended=False):
    marshaller = Marshaller(ensure_ascii, extended)
    marshaller.enable_fast_path()
    return marshaller


EXTENDED = [
    datetime.datetime(2020, 1, 2, 3, 4, 5),
    datetime.datetime(2020, 1, 2, 3, 4, 5, 6),
    datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    datetime.datetime(2020, 1, 2, 3, 4, 5, 123, tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))),
    datetime.date(1999, 12, 31),
    datetime.time(23, 59, 1),
    datetime.time(0, 0, 0, 500),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Item(),
    {"items": [Item("a", datetime.date(2021, 5, 6))], "at": datetime.datetime(2020, 1, 1)},
]


@pytest.mark.parametrize("value", EXTENDED, ids=lambda v: type(v).__name__)
def test_extended_mode_writes_orjson_forms(marshaller_factory, value):
    body, content_type = marshaller_factory(True, extended=True).encode(value)
    assert content_type == "application/json"
    assert parse_exact(body) == parse_exact(orjson.dumps(value))


@pytest.mark.parametrize("value", [datetime.time(1, tzinfo=datetime.timezone.utc), {1, 2}, Color.RED])
def test_extended_mode_still_refuses_other_types(marshaller_factory, value):
    assert outcome(marshaller_factory(True, extended=True).encode, value)[0] == "error"


# -- properties --------------------------------------------------------------------------------

leaves = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**60, max_value=2**70)
    | st.floats() | st.text() | st.decimals(places=None) | st.decimals(allow_nan=True, allow_infinity=True)
)
values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.builds(Point, children, children)
    | st.dictionaries(st.text(max_size=5) | st.integers() | st.floats() | st.booleans() | st.none(), children, max_size=4),
    max_leaves=25,
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@SETTINGS
@given(value=values, ascii_only=st.booleans())
def test_any_value_encodes_to_the_reference_value(marshaller_factory, value, ascii_only):
    theirs = outcome(reference_marshaller(ascii_only).marshal_response, value)
    ours = outcome(marshaller_factory(ascii_only).encode, value)
    if theirs[0] == "error":
        assert ours == theirs
        return
    body = ours[1][0]
    try:
        expected = body_of(theirs[1])[0]
    except UnicodeEncodeError:
        assert not ascii_only  # only raw UTF-8 output can hold a lone surrogate
        expected = theirs[1][0].encode("utf-8", "surrogatepass")
        assert exact_canonical(parse_exact(body)) == exact_canonical(
            parse_exact(reference_marshaller(True).marshal_response(value)[0])
        )
        return
    assert exact_canonical(parse_exact(body)) == exact_canonical(parse_exact(expected))
    if not marshaller_factory.fast:
        assert body == expected


@SETTINGS
@given(value=values)
def test_decode_of_encode_round_trips_where_the_reference_does(marshaller_factory, value):
    reference = reference_marshaller(True)
    ours = marshaller_factory(True)
    try:
        their_body = reference.marshal_response(value)[0]
    except Exception:
        return
    their_round = outcome(reference.unmarshal_request, their_body.encode(), "application/json")
    our_round = outcome(ours.decode, ours.encode(value)[0], "application/json")
    assert our_round[0] == their_round[0]
    if our_round[0] == "ok":
        from marshal_helpers import canonical

        assert canonical(our_round[1]) == canonical(their_round[1])
    elif marshaller_factory.fast:
        # NaN/Infinity come back refused by both; orjson's compact spacing moves the position.
        assert our_round[1] == their_round[1]
    else:
        assert our_round == their_round


def test_nan_never_becomes_null():
    marshaller = _fast(True)
    for value in ([float("nan")], {"a": [1, {"b": -math.inf}]}, (math.inf,), Point(math.nan, 1)):
        body, _ = marshaller.encode(value)
        assert b"null" not in body


@pytest.mark.parametrize("depth", [100, 400, 5000])
def test_deep_nesting_is_encoded_or_refused_like_the_reference(marshaller_factory, depth):
    nested: list = []
    for _ in range(depth):
        nested = [nested]
    theirs = outcome(reference_marshaller(True).marshal_response, nested)
    ours = outcome(marshaller_factory(True).encode, nested)
    if theirs[0] == "error":
        assert ours == theirs
    elif ours[0] == "error":
        # Deliberate: nesting beyond the recursion limit is refused (CPython 3.13's C encoder goes further).
        assert depth >= sys.getrecursionlimit() // 2
        assert ours[2].startswith("Unable to marshal response: maximum recursion depth exceeded")
    else:
        assert ours[1][0] == theirs[1][0].encode()


def test_a_large_result_on_the_reference_path_peaks_near_its_own_size():
    # The reference path encodes the first event's result (orjson is not loaded yet) and every
    # result orjson cannot write exactly. A 5.5 MiB result once peaked ~40 MiB above itself in
    # token strings; now the text grows in one buffer: buffer, final text and body, about 3x.
    import tracemalloc

    value = {"items": [{"id": i, "name": "item-%d" % i, "tags": ["a", "b"], "score": i / 7} for i in range(40_000)]}
    marshaller = Marshaller(True)  # no fast path: what a cold runtime's first result takes
    tracemalloc.start()
    try:
        body, _ = marshaller.encode(value)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(body) > 3_000_000
    assert peak < 4 * len(body), (peak, len(body))
