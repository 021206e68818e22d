"""Event decoding against awslambdaric's own unmarshal_request (contract §1.8)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marshal_helpers import canonical, outcome, reference_marshaller

from fastrt.marshal import Marshaller

REFERENCE = reference_marshaller(True)

DOCUMENTS = [
    b"{}", b"[]", b'"plain"', b"null", b"true", b"0", b"-0", b"-0.0", b"1.5e3", b"1E400", b"-1e400",
    b"18446744073709551615", b"18446744073709551616", b"-9223372036854775809", b"9" * 40,
    b"1." + b"0" * 30 + b"1", b"0.1000000000000000055511151231257827",
    b'{"a":1,"b":2,"a":3}', b'"\\ud800"', b'"\\ud83d\\ude00"', b'"\\udc00\\ud800"', b'"\\ud800\\u0041"',
    b'"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80"', b'"\\u00e9\\n\\t\\/"', b"\xef\xbb\xbf{}",
    "\ufeff[1]".encode(), b" \t\n\r[1 , 2 ]\r\n", b'{"k": {"n": [null, true, false, 1, -2.5]}}',
    # rejected: each must give the reference's exact message
    b"", b" ", b"NaN", b"Infinity", b"-Infinity", b"[NaN]", b"[1,]", b"{", b"[", b"]", b'{"a" 1}',
    b"[1 2]", b'"abc', b'"\\x"', b'"\\u12"', b'"\\u12g4"', b'"\\ud800\\u12"', b'"a\x01"', b'"\x1f"',
    b"1 2", b"\xff", b"\xed\xa0\x80", b"tru", b'{"a":1,}', b"-", b"01", b"{}x", b"  \n 1 \n x",
    b'{"a":1 "b":2}', b"1" * 5000, b"[" + b"1" * 5000 + b"]", b'{"a":}', b"{,}", b'{"a":1,,}', b"[,1]",
    b"[1,,2]", b'{1:2}', b'{"a"', b'{"a":', b'"\\', b'"\\u', b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf1",
    b"1.", b"1e", b"-a", b".5", b"+1", b"[1]]", b"nul", b'"a\nb"', b"\n\n  {\n  x", b"[\n1,\n]",
    b"\xc3\xa9", b'["\xc3\xa9", x]', b"[" * 100000, b"{" * 50,
]


@pytest.mark.parametrize("body", DOCUMENTS, ids=lambda b: repr(b[:24]))
def test_documents_decode_like_the_reference(marshaller_factory, body):
    ours = outcome(marshaller_factory(True).decode, body, "application/json")
    theirs = outcome(REFERENCE.unmarshal_request, body, "application/json")
    if theirs[0] == "ok":
        assert ours[0] == "ok", ours
        assert canonical(ours[1]) == canonical(theirs[1])
    else:
        assert ours == theirs


def test_big_integers_stay_exact(marshaller_factory):
    marshaller = marshaller_factory(True)
    for text in (b"18446744073709551616", b"-9223372036854775809", b"[123456789012345678901234567890]"):
        value = marshaller.decode(text, "application/json")
        assert value == json.loads(text)
        assert type(value if isinstance(value, int) else value[0]) is int


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/json; charset=utf-8", "Application/JSON", "", "application/octet-stream"]
)
def test_other_content_types_get_the_raw_bytes(marshaller_factory, content_type):
    body = b'{"not": "decoded"}'
    assert marshaller_factory(True).decode(body, content_type) is body
    assert REFERENCE.unmarshal_request(body, content_type) is body


def test_missing_content_type_is_json(marshaller_factory):
    # Deliberate: the reference's native client crashes on a /next without Content-Type.
    assert marshaller_factory(True).decode(b'{"a": [1]}', None) == {"a": [1]}


def test_reference_path_imports_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys; before = set(sys.modules);"
        "from fastrt.marshal import Marshaller; m = Marshaller(True);"
        "m.decode(b'{\"a\": [1, 2.5, null, \"x\"]}', 'application/json'); m.encode({'a': (1, 2.5, None)});"
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    root = __file__.rsplit("/tests/", 1)[0]
    loaded = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    new = set(loaded.stdout.split())
    assert not new & {"json", "re", "orjson", "decimal", "simplejson", "traceback", "linecache", "enum"}, new


# -- properties --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None)
@given(value=json_values, ascii_only=st.booleans(), spaced=st.booleans())
def test_any_document_decodes_like_the_reference(marshaller_factory, value, ascii_only, spaced):
    separators = (", ", ": ") if spaced else (",", ":")
    body = json.dumps(value, ensure_ascii=ascii_only, separators=separators).encode("utf-8")
    ours = outcome(marshaller_factory(True).decode, body, "application/json")
    theirs = outcome(REFERENCE.unmarshal_request, body, "application/json")
    assert ours[0] == theirs[0] == "ok"
    assert canonical(ours[1]) == canonical(theirs[1])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None)
@given(
    value=json_values,
    cut=st.integers(min_value=0, max_value=200),
    insert=st.sampled_from(["", ",", "]", "}", ":", '"', "\\", "\x00", "x", " ", "NaN", "\ud800", "\\u", "{", "["]),
)
def test_damaged_documents_fail_like_the_reference(marshaller_factory, value, cut, insert):
    text = json.dumps(value)
    cut = min(cut, len(text))
    body = (text[:cut] + insert + text[cut:]).encode("utf-8", "surrogatepass")
    ours = outcome(marshaller_factory(True).decode, body, "application/json")
    theirs = outcome(REFERENCE.unmarshal_request, body, "application/json")
    if theirs[0] == "ok":
        assert ours[0] == "ok"
        assert canonical(ours[1]) == canonical(theirs[1])
    else:
        assert ours == theirs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.from_regex(r"\A-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][-+]?[0-9]{1,3})?\Z"))
def test_number_literals_decode_to_the_same_number(marshaller_factory, number):
    body = number.encode()
    ours = outcome(marshaller_factory(True).decode, body, "application/json")
    theirs = outcome(REFERENCE.unmarshal_request, body, "application/json")
    if theirs[0] == "ok":
        assert canonical(ours[1]) == canonical(theirs[1])
        assert type(ours[1]) is type(theirs[1])
    else:
        assert ours == theirs


@pytest.mark.parametrize("offset", [-30, -19, -18, -10, -1, 0, 5])
def test_big_integers_in_large_events_stay_exact_across_scan_windows(offset):
    # Large events are scanned for long digit runs in overlapping windows; a 20-digit integer
    # straddling any window edge must still keep it off orjson (which would make it a float).
    from fastrt import marshal

    marshaller = Marshaller(ensure_ascii=True)
    marshaller.enable_fast_path()
    number = 123456789012345678901
    # The number starts `offset` bytes from the end of the first window.
    prefix = b'{"pad": "' + b"x" * (marshal._WINDOW + offset - 17) + b'", "n": '
    assert len(prefix) == marshal._WINDOW + offset
    body = bytearray(prefix + str(number).encode() + b', "tail": "' + b"y" * 1000 + b'"}')
    event = marshaller.decode(body, "application/json")
    assert event["n"] == number and type(event["n"]) is int


def test_raw_events_are_handed_over_as_bytes_even_from_a_bytearray():
    marshaller = Marshaller(ensure_ascii=True)
    event = marshaller.decode(bytearray(b"\x00raw"), "application/octet-stream")
    assert type(event) is bytes and event == b"\x00raw"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80) | st.text(alphabet="0123456789 ,-.e", max_size=80).map(str.encode), st.booleans())
def test_the_long_number_scan_finds_exactly_the_runs_of_19_digits(data, as_bytearray):
    # Compiled, a strided C scan; plain Python, translate + search: both must equal the regex.
    import re

    from fastrt.marshal import has_long_number

    body = bytearray(data) if as_bytearray else data
    assert has_long_number(body) == (re.search(rb"[0-9]{19}", data) is not None)


def test_events_over_the_orjson_limit_decode_to_the_same_values():
    # Above _ORJSON_MAX_BODY the reference path's C scanner decodes (orjson's parse tree would
    # triple the peak memory); the values are the same, big integers and Decimals-to-be included.
    from fastrt import marshal

    marshaller = Marshaller(ensure_ascii=False)
    marshaller.enable_fast_path()
    records = [{"id": i, "name": "item-%06d" % i, "score": i / 4, "tags": ["a", "é"], "ok": i % 2 == 0} for i in range(40000)]
    document = {"records": records, "big": 123456789012345678901234567890, "nothing": None}
    body = json.dumps(document).encode()
    assert len(body) > marshal._ORJSON_MAX_BODY
    for given_body in (body, bytearray(body)):
        event = marshaller.decode(given_body, "application/json")
        assert event == document and type(event["big"]) is int
