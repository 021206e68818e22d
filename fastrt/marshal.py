"""Events in, results out: JSON exactly as awslambdaric reads and writes it (contract §1.8, §1.9).

Two codecs give the same values:

* the *reference path* reproduces the reference (simplejson as awslambdaric configures it) rule
  for rule: decoding with the C scanner of the standard library's ``_json`` (and simplejson's
  wording for every rejection), encoding with a small encoder that follows simplejson's
  type rules (namedtuples as objects, bytes as UTF-8 text, ``NaN``/``Infinity``, Decimal as
  its exact digits, ``_asdict()``, dict keys converted, circular references refused). It
  imports nothing but ``_json``, so it serves the first event of a cold start;
* the *fast path* (:meth:`Marshaller.enable_fast_path`, after the first response) hands
  documents to orjson whenever orjson is known to produce the same value, and everything
  else to the reference path: an integer literal of 19 digits or more on the way in (orjson
  turns it into a float), and on the way out any value that is not made only of exact
  ``dict``/``list``/``tuple``/``str``/``int``/``bool``/``None``/finite ``float``/``Decimal``
  (orjson would write ``NaN`` as ``null``, and would encode UUIDs and Enums the reference
  refuses), or that orjson itself refuses (integers beyond 64 bits, lone surrogates,
  non-string keys, deep nesting).

``FASTRT_JSON=extended`` additionally encodes ``datetime``/``date``/``time`` (ISO 8601, as
orjson writes them), ``uuid.UUID`` (canonical hyphenated text) and dataclass instances
(an object of their fields), all of which the reference refuses.
"""

import _json
import sys
from _io import StringIO  # io's own class; _io is loaded with the interpreter

JSON_CONTENT_TYPE = "application/json"
BINARY_CONTENT_TYPE = "application/unknown"

_INFINITY = float("inf")
# orjson refuses documents nested deeper than this; the walk stops there too.
_ORJSON_MAX_DEPTH = 254
# Larger JSON events are decoded by the C scanner of the reference path, not orjson: orjson
# first builds a parse tree of about three times the body, so a 5.5 MiB event would peak
# 18 MB above awslambdaric, while the scanner is only ~15% slower at that size (bench).
_ORJSON_MAX_BODY = 2 * 1024 * 1024
# orjson may turn an integer of this many digits or more into a float (beyond 64 bits).
_LONG_RUN = 19
# Window of the plain-Python long-number scan of large events (see has_long_number).
_WINDOW = 256 * 1024
# Digits 1-9 become "0", so a run of _LONG_RUN zeros marks a long number (plain Python).
_DIGIT_MAP = bytes.maketrans(b"123456789", b"000000000")
_LONG_ZEROS = b"0" * _LONG_RUN
_WHITESPACE = " \t\n\r"
# Name of the codec error handler that writes what an encoding cannot hold as JSON \u escapes.
_ESCAPE_ERRORS = "fastrt.json-escape"
_escape_registered = False


class _Rejected(Exception):
    """A document the reference would refuse; the argument is the reference's message."""


def _refuse_constant(name: str) -> float:
    # simplejson >= 3.19 (which awslambdaric 4.2.2 requires) refuses NaN and Infinity literals.
    raise _Rejected(name)


class _ScannerSettings:
    """The attributes ``_json.make_scanner`` reads: simplejson's defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_refuse_constant)


_scan = _json.make_scanner(_ScannerSettings())


def _errors():
    # fastrt.errors shapes failures only: imported by the first one, never on the cold start.
    from fastrt import errors

    return errors


def decode_reference(body) -> object:
    """Decode ``body`` (UTF-8 JSON) to the value simplejson gives, or raise its UnmarshalError."""
    try:
        text = body if type(body) is str else str(body, "utf-8")
    except UnicodeDecodeError as exc:
        raise _errors().unmarshal_failed(exc) from None
    start = _skip_bom(text)
    rest = text[start:] if start else text
    start += len(rest) - len(rest.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except Exception as exc:  # StopIteration, a JSONDecodeError, _Rejected, ValueError, RecursionError
        raise _errors().unmarshal_failed(_rejection(text, exc)) from None
    if end != len(text) and len(text[end:].rstrip(_WHITESPACE)) != 0:
        raise _errors().unmarshal_failed(_rejection(text, None))
    return value


def _skip_bom(text: str) -> int:
    """simplejson skips one BOM, either decoded or as its three Latin-1 characters."""
    if text[:1] == "\ufeff":
        return 1
    if text[:3] == "\xef\xbb\xbf":
        return 3
    return 0


def _rejection(text: str, exc: BaseException | None) -> str:
    """The message simplejson gives for ``text``; ``exc`` is what the C scanner raised."""
    try:
        _SimplejsonGrammar(text).document()
    except _Rejected as rejected:
        return str(rejected.args[0])
    except Exception:
        pass  # e.g. RecursionError: the scanner's own message is the reference's too
    if exc is None or type(exc) is StopIteration:
        return "Expecting value: line 1 column 1 (char 0)"
    if isinstance(exc, RecursionError):
        # simplejson's C scanner says "from a string" where the standard library's says "unicode string".
        kind = "object" if "JSON object" in _errors().safe_str(exc) else "array"
        return "maximum recursion depth exceeded while decoding a JSON %s from a string" % kind
    return _errors().safe_str(exc)


class _SimplejsonGrammar:
    """Walks a rejected document the way simplejson's decoder does, to word the rejection.

    Runs only after the C scanner failed, so it is written for clarity, not speed.
    """

    def __init__(self, text: str) -> None:
        import re  # the error path only

        self.text = text
        # Compiled, this recursion has no interpreter guard: bound it as the interpreter would.
        self.depth_left = sys.getrecursionlimit()
        self.whitespace = re.compile(r"[ \t\n\r]*").match
        self.chunk = re.compile(r'(.*?)(["\\\x00-\x1f])', re.DOTALL).match
        self.number = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?").match

    def fail(self, message: str, pos: int, end: int | None = None) -> None:
        raise _Rejected(_position_message(message, self.text, pos, end))

    def skip(self, pos: int) -> int:
        return self.whitespace(self.text, pos).end()

    def document(self) -> None:
        text = self.text
        end = self.skip(self.value(self.skip(_skip_bom(text))))
        if end != len(text):
            self.fail("Extra data", end, len(text))

    def value(self, pos: int) -> int:
        text = self.text
        if pos >= len(text):
            self.fail("Expecting value", pos)
        char = text[pos]
        if char == '"':
            return self.string(pos + 1)
        if char == "{" or char == "[":
            self.depth_left -= 1
            if self.depth_left < 0:
                raise RecursionError("maximum recursion depth exceeded")
            end = self.object(pos + 1) if char == "{" else self.array(pos + 1)
            self.depth_left += 1
            return end
        for literal in ("null", "true", "false"):
            if text.startswith(literal, pos):
                return pos + len(literal)
        match = self.number(text, pos)
        if match is None:
            self.fail("Expecting value", pos)
        integer, fraction, exponent = match.groups()
        if not fraction and not exponent:
            try:
                int(integer)  # the reference rejects integers over sys.get_int_max_str_digits()
            except ValueError as exc:
                raise _Rejected(str(exc)) from None
        return match.end()

    def string(self, pos: int) -> int:
        text = self.text
        begin = pos - 1
        while True:
            chunk = self.chunk(text, pos)
            if chunk is None:
                self.fail("Unterminated string starting at", begin)
            pos = chunk.end()
            terminator = chunk.group(2)
            if terminator == '"':
                return pos
            if terminator != "\\":
                self.fail("Invalid control character %r at", pos - 1)
            if pos >= len(text):
                self.fail("Unterminated string starting at", begin)
            escape = text[pos]
            if escape != "u":
                if escape not in '"\\/bfnrt':
                    self.fail("Invalid \\X escape sequence %r", pos)
                pos += 1
                continue
            code = self.hex4(pos + 1)
            pos += 5
            if 0xD800 <= code <= 0xDBFF and text[pos : pos + 2] == "\\u":
                if 0xDC00 <= self.hex4(pos + 2) <= 0xDFFF:
                    pos += 6

    def hex4(self, pos: int) -> int:
        digits = self.text[pos : pos + 4]
        if len(digits) != 4 or not all([c in "0123456789abcdefABCDEF" for c in digits]):
            self.fail("Invalid \\uXXXX escape sequence", pos - 2)
        return int(digits, 16)

    def object(self, pos: int) -> int:
        text = self.text
        pos = self.skip(pos)
        if text[pos : pos + 1] == "}":
            return pos + 1
        if text[pos : pos + 1] != '"':
            self.fail("Expecting property name enclosed in double quotes or '}'", pos)
        pos += 1
        while True:
            pos = self.skip(self.string(pos))
            if text[pos : pos + 1] != ":":
                self.fail("Expecting ':' delimiter", pos)
            pos = self.skip(self.value(self.skip(pos + 1)))
            following = text[pos : pos + 1]
            if following == "}":
                return pos + 1
            if following != ",":
                self.fail("Expecting ',' delimiter or '}'", pos)
            comma = pos
            pos = self.skip(pos + 1)
            following = text[pos : pos + 1]
            if following != '"':
                if following == "}":
                    self.fail("Illegal trailing comma before end of object", comma)
                self.fail("Expecting property name enclosed in double quotes", pos)
            pos += 1

    def array(self, pos: int) -> int:
        text = self.text
        pos = self.skip(pos)
        following = text[pos : pos + 1]
        if following == "]":
            return pos + 1
        if following == "":
            self.fail("Expecting value or ']'", pos)
        while True:
            pos = self.skip(self.value(pos))
            following = text[pos : pos + 1]
            if following == "]":
                return pos + 1
            if following != ",":
                self.fail("Expecting ',' delimiter or ']'", pos)
            comma = pos
            pos = self.skip(pos + 1)
            if text[pos : pos + 1] == "]":
                self.fail("Illegal trailing comma before end of array", comma)


def _position_message(message: str, text: str, pos: int, end: int | None) -> str:
    """simplejson's ``<msg>: line L column C (char P)`` (or its ``L1 column C1 - …`` range form)."""
    message = message.replace("%r", repr(text[pos : pos + 1]))
    line, column = _line_column(text, pos)
    if end is None:
        return "%s: line %d column %d (char %d)" % (message, line, column, pos)
    end_line, end_column = _line_column(text, end)
    return "%s: line %d column %d - line %d column %d (char %d - %d)" % (
        message, line, column, end_line, end_column, pos, end,
    )


def _line_column(text: str, pos: int) -> tuple:
    line = text.count("\n", 0, pos) + 1
    return line, (pos + 1 if line == 1 else pos - text.rindex("\n", 0, pos))


class ReferenceEncoder:
    """simplejson's encoder as awslambdaric configures it, with awslambdaric's Decimal hook.

    ``extended`` adds the FASTRT_JSON=extended types in the place simplejson calls ``default``.
    """

    def __init__(self, ensure_ascii: bool, extended: bool = False) -> None:
        self.quote = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
        self.extended = extended

    def encode(self, value: object) -> str:
        # One growing buffer, not a list of tokens joined at the end: for a 5.5 MiB result the
        # token strings and list slots came to ~40 MiB of peak memory on top of the result.
        out = StringIO()
        self.value(value, out.write, {})
        return out.getvalue()

    def value(self, value, write, markers: dict) -> None:
        kind = type(value)
        if kind is str:
            write(self.quote(value))
        elif value is None:
            write("null")
        elif value is True:
            write("true")
        elif value is False:
            write("false")
        elif kind is int:
            write(int.__repr__(value))
        elif kind is float:
            write(_float_text(value))
        elif kind is dict:
            self.mapping(value, write, markers)
        elif kind is list or kind is tuple:
            self.sequence(value, write, markers)
        else:
            self.other(value, write, markers)

    def other(self, value, write, markers: dict) -> None:
        """Everything but the exact JSON types, in simplejson's order of checks."""
        if isinstance(value, str):
            write(self.quote(value))
        elif isinstance(value, bytes):
            write(self.quote(str(value, "utf-8")))
        elif _is_raw_json(value):
            write(value.encoded_json)
        elif isinstance(value, int):
            write(str(int(value)))
        elif isinstance(value, float):
            write(_float_text(value))
        else:
            as_dict = _call_asdict(value)
            if as_dict is not None:
                mapping = as_dict[0]
                if not isinstance(mapping, dict):
                    raise TypeError("_asdict() must return a dict, not %s" % (type(mapping).__name__,))
                self.marked(value, mapping, self.mapping, write, markers)
            elif isinstance(value, (list, tuple)):
                self.sequence(value, write, markers)
            elif isinstance(value, dict):
                self.mapping(value, write, markers)
            else:
                replacement = self.default(value)
                if type(replacement) is _Raw:
                    write(replacement.text)
                else:
                    self.marked(value, replacement, self.value, write, markers)

    def marked(self, origin, value, encode, write, markers: dict) -> None:
        key = _enter(origin, markers)
        encode(value, write, markers)
        del markers[key]

    def mapping(self, mapping, write, markers: dict) -> None:
        if not mapping:
            write("{}")
            return
        key_id = _enter(mapping, markers)
        quote = self.quote
        separator = "{"
        for key, item in mapping.items():
            if not isinstance(key, str):
                key = _key_text(key)
            write(separator)
            separator = ", "
            write(quote(key))
            write(": ")
            self.value(item, write, markers)
        write("}")
        del markers[key_id]

    def sequence(self, sequence, write, markers: dict) -> None:
        if not sequence:
            write("[]")
            return
        key_id = _enter(sequence, markers)
        separator = "["
        for item in sequence:
            write(separator)
            separator = ", "
            self.value(item, write, markers)
        write("[]" if separator == "[" else "]")
        del markers[key_id]

    def default(self, value) -> object:
        """awslambdaric's hook: Decimal as its exact text (NaN for any NaN); else refuse."""
        decimal = sys.modules.get("decimal")
        if decimal is not None and isinstance(value, decimal.Decimal):
            return _Raw("NaN" if value.is_nan() else str(value))
        if self.extended:
            converted = _extended(value)
            if converted is not None:
                return converted
        raise TypeError("Object of type %s is not JSON serializable" % (value.__class__.__name__,))


# The reference's words for a too-deep result: its C encoder's recursion check, which
# CPython 3.12 reworded.
_DEPTH_EXCEEDED = "maximum recursion depth exceeded while " + (
    "encoding a JSON object" if sys.version_info < (3, 12) else "calling a Python object"
)


def _check_depth(markers: dict) -> None:
    """One marker per open container: refuse nesting deeper than the interpreter would allow.

    (Compiled, the encoder's recursion has no interpreter guard.)
    """
    if len(markers) >= sys.getrecursionlimit():
        raise RecursionError(_DEPTH_EXCEEDED)


def _enter(container, markers: dict) -> int:
    """Mark ``container`` as being encoded (simplejson's cycle check); returns its marker."""
    key = id(container)
    if key in markers:
        raise ValueError("Circular reference detected")
    _check_depth(markers)
    markers[key] = container
    return key


class _Raw:
    """Text written into the document as it is (the reference's RawJSON for Decimals)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key_text(key) -> str:
    """simplejson's conversion of a non-``str`` dict key."""
    if isinstance(key, bytes):
        return str(key, "utf-8")
    if isinstance(key, float):
        return _float_text(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return str(int(key))
    raise TypeError("keys must be str, int, float, bool or None, not %s" % (key.__class__.__name__,))


def _call_asdict(value):
    """``(value._asdict(),)`` when that is a callable that accepts no arguments, else None."""
    method = getattr(value, "_asdict", None)
    if callable(method):
        try:
            return (method(),)
        except TypeError:
            pass
    return None


def _is_raw_json(value) -> bool:
    # A simplejson.RawJSON the handler built itself is written verbatim, as under the reference.
    module = sys.modules.get("simplejson.raw_json")
    return module is not None and isinstance(value, module.RawJSON)


def _extended(value):
    """FASTRT_JSON=extended: the types orjson encodes natively, in orjson's forms; else None."""
    datetime = sys.modules.get("datetime")
    if datetime is not None:
        if isinstance(value, (datetime.datetime, datetime.date)):
            return value.isoformat()
        if isinstance(value, datetime.time) and value.tzinfo is None:
            return value.isoformat()
    uuid = sys.modules.get("uuid")
    if uuid is not None and isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(type(value), "__dataclass_fields__"):
        import dataclasses  # only a dataclass instance gets here

        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    return None


def _register_escape() -> None:
    global _escape_registered
    import codecs  # loaded by the interpreter at start-up already

    codecs.register_error(_ESCAPE_ERRORS, _escape_unencodable)
    _escape_registered = True


def _escape_unencodable(exc: UnicodeError):
    """Codec error handler: characters an encoding cannot hold, as JSON \\u escapes.

    Only ever applied to JSON text, where such characters can stand only inside strings.
    """
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return _json.encode_basestring_ascii(exc.object[exc.start : exc.end])[1:-1], exc.end


def _utf8(text: str) -> bytes:
    """UTF-8 of a JSON text; lone surrogates (not UTF-8) become \\u escapes of equal value."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        if not _escape_registered:
            _register_escape()
        return text.encode("utf-8", _ESCAPE_ERRORS)


def _ascii_json(body: bytes) -> bytes:
    """orjson's UTF-8 output with every non-ASCII character \\u-escaped, as ensure_ascii does."""
    if not _escape_registered:
        _register_escape()
    return body.decode("utf-8").encode("ascii", _ESCAPE_ERRORS)


def _plain(value, leaves, depth: int = 0) -> bool:
    """True when orjson writes ``value`` as the reference does (up to spacing and float text).

    That is: only exact dict/list/tuple containers, exact str/int/bool/None, finite floats
    and the exact types in ``leaves``. orjson refuses the rest of what it cannot do alike
    (big integers, surrogates, non-str keys, depth) by raising, which sends the value to
    the reference path too.
    """
    if depth > _ORJSON_MAX_DEPTH:
        return False
    # A loop per container type: compiled, with ``members`` and ``elements`` typed in the
    # .pxd, each walks the dict's or the list's storage directly. (type() is repeated rather
    # than kept in a variable for the reason given in _plain_item.)
    if type(value) is dict:
        members = value
        for item in members.values():
            if not _plain_item(item, leaves, depth):
                return False
        return True
    if type(value) is list:
        elements = value
        for item in elements:
            if not _plain_item(item, leaves, depth):
                return False
        return True
    if type(value) is tuple:
        for item in value:
            if not _plain_item(item, leaves, depth):
                return False
        return True
    if type(value) is float:
        number = value
        return number - number == 0.0
    kind = type(value)  # a scalar result: reached once, off the hot loop
    return kind is str or kind is int or kind is bool or value is None or kind in leaves


def _plain_item(item, leaves, depth: int) -> bool:
    """:func:`_plain` for one member of a container ``depth`` levels down."""
    # type(item) in each test rather than once in a variable: compiled, each test is a pointer
    # compare, where a variable would take and drop a reference to the type (~15% of the walk).
    if type(item) is str or type(item) is int or type(item) is bool or item is None:
        return True
    if type(item) is float:
        number = item  # compiled: a C double, so the check allocates nothing
        return number - number == 0.0  # NaN or an infinity: orjson would write null
    return _plain(item, leaves, depth + 1)


def _decimal_fragment_hook(fragment, decimal_type):
    """orjson's ``default=`` for the one non-native type :func:`_plain` lets through."""

    def decimal_fragment(value):
        if type(value) is not decimal_type:
            raise TypeError("not a Decimal")
        return fragment(b"NaN" if value.is_nan() else str(value).encode("ascii"))

    return decimal_fragment


def has_long_number(body) -> bool:
    """Whether ``body`` (bytes or bytearray) holds a run of 19+ digits, which orjson might
    turn into a float."""
    if _COMPILED:
        return _digit_run(body, len(body))
    # Plain Python: C-level translate + search, in windows (overlapping by a run's length)
    # so that a multi-megabyte event costs no second copy of itself at once.
    size = len(body)
    if size <= _WINDOW:
        return _LONG_ZEROS in body.translate(_DIGIT_MAP)
    for start in range(0, size, _WINDOW - _LONG_RUN):
        if _LONG_ZEROS in body[start : start + _WINDOW].translate(_DIGIT_MAP):
            return True
    return False


def _digit_run(p, size: int) -> bool:
    """The compiled scan behind :func:`has_long_number`; ``p`` is a C pointer into the body.

    Looks at the last byte of each window of _LONG_RUN bytes: a non-digit there rules out the
    whole window, so ordinary JSON is crossed in strides and each byte is read at most twice.
    """
    start = 0
    while start + _LONG_RUN <= size:
        end = start + _LONG_RUN - 1
        if not (48 <= p[end] <= 57):
            start = end + 1
            continue
        k = end - 1
        while k >= start and 48 <= p[k] <= 57:
            k -= 1
        if k < start:
            return True
        start = k + 1
    return False


# True when this module runs compiled (an extension's __file__ is its shared object).
_COMPILED = not __file__.endswith(".py")


class Marshaller:
    """Event bodies to Python values and handler results to response bodies."""

    __slots__ = (
        "ensure_ascii",
        "extended",
        "reference",
        "_loads",
        "_dumps",
        "_default",
        "_leaves",
    )

    def __init__(self, ensure_ascii: bool, extended: bool = False) -> None:
        self.ensure_ascii = ensure_ascii
        self.extended = extended
        self.reference = ReferenceEncoder(ensure_ascii, extended)
        self._loads = None
        self._dumps = None
        self._default = None
        self._leaves = frozenset()

    def enable_fast_path(self) -> None:
        """Switch to orjson where it gives the reference's values; without orjson, stay as is."""
        try:
            import orjson
            import decimal  # Decimals (DynamoDB items) stay on the fast path
        except ImportError:
            return
        leaves = {decimal.Decimal}
        if self.extended:
            import datetime
            import uuid

            leaves.update((datetime.datetime, datetime.date, datetime.time, uuid.UUID))
        self._leaves = frozenset(leaves)
        self._default = _decimal_fragment_hook(orjson.Fragment, decimal.Decimal)
        self._loads = orjson.loads
        self._dumps = orjson.dumps

    def decode(self, body: bytes, content_type: str | None) -> object:
        """The event for ``body``: JSON-decoded for ``application/json`` (or no type), else the bytes."""
        if content_type is not None and content_type != JSON_CONTENT_TYPE:
            # Large bodies arrive as the transport's bytearray; handlers get bytes, as ever.
            return body if type(body) is bytes else bytes(body)
        loads = self._loads
        if loads is not None and len(body) <= _ORJSON_MAX_BODY and not has_long_number(body):
            try:
                return loads(body)
            except Exception:
                pass  # orjson refuses more than the reference does (BOM, surrogates, depth…)
        return decode_reference(body)

    def encode(self, result: object) -> tuple:
        """``(body, content_type)`` for a handler's result; ``bytes`` are sent as they are."""
        if isinstance(result, bytes):
            return result, BINARY_CONTENT_TYPE
        dumps = self._dumps
        if dumps is not None:
            try:
                if _plain(result, self._leaves):
                    body = dumps(result, default=self._default)
                    if self.ensure_ascii and not body.isascii():
                        body = _ascii_json(body)
                    return body, JSON_CONTENT_TYPE
            except Exception:
                pass  # orjson refused it: the reference path decides what the value becomes
        try:
            text = self.reference.encode(result)
        except RecursionError:
            # Interpreted, this encoder spends two frames per level: word it as the reference does.
            raise _errors().marshal_failed(_DEPTH_EXCEEDED) from None
        except Exception as exc:
            raise _errors().marshal_failed(exc) from None
        return _utf8(text), JSON_CONTENT_TYPE

    def dumps(self, value: object) -> bytes:
        """The reference encoder's exact bytes for ``value`` (raises what it raises)."""
        return _utf8(self.reference.encode(value))
