"""A small, safe expression language for ``ifTrue``, loop ``whileTrue`` and
``ensure`` conditions (never Python ``eval``).

Artillery evaluates these with filtrex; this follows it, with JavaScript
truthiness (undefined, null, false, 0, NaN and "" are false):

- ``and``, ``or``, ``not`` (JavaScript's ``&& || ! === !==`` are syntax
  errors, as in filtrex: the message names the filtrex spelling);
- ``==`` ``!=``, ``<`` ``<=`` ``>`` ``>=``,
  ``x in (1, 2)``, ``x not in (...)``;
- ``+ - * / %`` and ``^`` (power), unary minus, parentheses, ``a ? b : c``;
- numbers, ``"strings"`` (double quotes), ``true``/``false``/``null``;
- names: ``authToken``, ``user.id``, ``items[0]``, and ``'quoted names'``
  (single quotes are names in filtrex). A dotted name is first looked up
  whole (``http.response_time.p99`` in a flat metric mapping), then as a
  path through nested vars.

Runtime mistakes (comparing undefined, dividing by zero) give false or NaN,
never an exception; syntax errors raise ``ValueError`` at compile time.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from perfgate.script.template import UNDEFINED, lookup_path, parse_path

__all__ = ["compile_condition", "compile_expression", "expression_names", "truthy"]

Evaluator = Callable[[Mapping[str, Any]], Any]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
     |(?P<str>"(?:[^"\\]|\\.)*")
     |(?P<qname>'(?:[^'\\]|\\.)*')
     |(?P<op>===|!==|==|!=|<=|>=|&&|\|\||[<>!+\-*/%^(),?:])
     |(?P<name>[A-Za-z_$][\w$]*(?:(?:\.[\w$][\w$-]*)|\[\d+\])*)
    )""",
    re.X,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null", "undefined"}
_JS_ONLY = {"===": "==", "!==": "!=", "&&": "and", "||": "or", "!": "not"}
_MAX_LEN = 4000


def truthy(value: Any) -> bool:
    """JavaScript truthiness (``[]`` and ``{}`` are true, as in JS)."""
    if value is UNDEFINED or value is None or value is False:
        return False
    if isinstance(value, int | float):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"unexpected character {text[pos:].strip()[:1]!r} at position {pos}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "op" and value in _JS_ONLY:
            # filtrex (what Artillery compiles these with) has no such operator: a
            # syntax error there, which Artillery then ignores (ifTrue lets the request
            # through, an ensure check fails). perfgate refuses it at load instead.
            raise ValueError(f"'{value}' is not filtrex syntax (write '{_JS_ONLY[value]}')")
        if kind == "name" and value in _KEYWORDS:
            kind = "kw"
        tokens.append((kind, value))
        pos = m.end()
    tokens.append(("end", ""))
    return tokens


def _number(value: Any) -> float:
    """JS ToNumber, loosely: numbers, numeric strings, booleans; else NaN."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return 0.0
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return math.nan
    return math.nan


def _eq(a: Any, b: Any) -> bool:
    if a is UNDEFINED or b is UNDEFINED:
        return a is b or ((a is None or b is None) and (a is UNDEFINED or b is UNDEFINED))
    if isinstance(a, int | float) and not isinstance(a, bool) and isinstance(b, str):
        return _number(b) == a
    if isinstance(b, int | float) and not isinstance(b, bool) and isinstance(a, str):
        return _number(a) == b
    try:
        return bool(a == b)
    except Exception:
        return False


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def cmp(a: Any, b: Any) -> bool:
        if isinstance(a, str) and isinstance(b, str):
            return op(a, b)
        x, y = _number(a), _number(b)
        if math.isnan(x) or math.isnan(y):
            return False
        return op(x, y)

    return cmp


def _arith(op: Callable[[float, float], float]) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        x, y = _number(a), _number(b)
        try:
            return op(x, y)
        except (ZeroDivisionError, OverflowError, ValueError):
            if op is operator.truediv and y == 0:
                return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
            return math.nan

    return apply


def _plus(a: Any, b: Any) -> Any:
    if isinstance(a, str) or isinstance(b, str):
        from perfgate.script.template import js_string

        return js_string(a) + js_string(b)
    return _arith(operator.add)(a, b)


def _pow(x: float, y: float) -> float:
    result = x**y
    return result if isinstance(result, float) else math.nan


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": _eq,
    "===": _eq,
    "!=": lambda a, b: not _eq(a, b),
    "!==": lambda a, b: not _eq(a, b),
    "<": _compare(operator.lt),
    "<=": _compare(operator.le),
    ">": _compare(operator.gt),
    ">=": _compare(operator.ge),
    "+": _plus,
    "-": _arith(operator.sub),
    "*": _arith(operator.mul),
    "/": _arith(operator.truediv),
    "%": _arith(math.fmod),
    "^": _arith(_pow),
}
_PRECEDENCE = {
    "==": 3, "===": 3, "!=": 3, "!==": 3, "<": 3, "<=": 3, ">": 3, ">=": 3, "in": 3, "not in": 3,
    "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "^": 6,
}  # fmt: skip


def _name_getter(name: str) -> Evaluator:
    parts = parse_path(name)

    def get(ctx: Mapping[str, Any]) -> Any:
        value = ctx.get(name, UNDEFINED)
        if value is UNDEFINED and parts is not None and len(parts) > 1:
            value = lookup_path(ctx, parts)
        return value

    return get


class _Parser:
    """Recursive descent: ternary > or > and > not > comparison/arithmetic > unary > atom."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, *values: str) -> bool:
        kind, value = self.peek()
        if kind in ("op", "kw") and value in values:
            self.i += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.accept(value):
            raise ValueError(f"expected {value!r}, found {self.peek()[1] or 'end of expression'!r}")

    def parse(self) -> Evaluator:
        fn = self.ternary()
        if self.peek()[0] != "end":
            raise ValueError(f"unexpected {self.peek()[1]!r}")
        return fn

    def ternary(self) -> Evaluator:
        self.depth += 1
        if self.depth > 100:
            raise ValueError("expression nests too deeply")
        cond = self.or_()
        if self.accept("?"):
            yes = self.ternary()
            self.expect(":")
            no = self.ternary()
            self.depth -= 1
            return lambda c: yes(c) if truthy(cond(c)) else no(c)
        self.depth -= 1
        return cond

    def or_(self) -> Evaluator:
        left = self.and_()
        while self.accept("or", "||"):
            right = self.and_()
            left = (lambda a, b: lambda c: a(c) if truthy(a(c)) else b(c))(left, right)
        return left

    def and_(self) -> Evaluator:
        left = self.not_()
        while self.accept("and", "&&"):
            right = self.not_()
            left = (lambda a, b: lambda c: b(c) if truthy(a(c)) else a(c))(left, right)
        return left

    def not_(self) -> Evaluator:
        if self.accept("not", "!"):
            inner = self.not_()
            return lambda c: not truthy(inner(c))
        return self.binary(0)

    def binary(self, min_prec: int) -> Evaluator:
        left = self.unary()
        while True:
            op = self.binary_op()
            if op is None or _PRECEDENCE[op] < min_prec:
                return left
            self.i += 2 if op == "not in" else 1
            if op in ("in", "not in"):
                options = self.tuple_()
                negate = op == "not in"
                left = (lambda a, opts, neg: lambda c: neg != any(_eq(a(c), o(c)) for o in opts))(
                    left, options, negate
                )
                continue
            right = self.binary(_PRECEDENCE[op] + (0 if op == "^" else 1))
            fn = _BINARY[op]
            left = (lambda f, a, b: lambda c: f(a(c), b(c)))(fn, left, right)

    def binary_op(self) -> str | None:
        kind, value = self.peek()
        if kind == "op" and value in _BINARY:
            return value
        if kind == "kw" and value == "in":
            return "in"
        if kind == "kw" and value == "not" and self.tokens[self.i + 1] == ("kw", "in"):
            return "not in"
        return None

    def tuple_(self) -> list[Evaluator]:
        self.expect("(")
        items = [self.ternary()]
        while self.accept(","):
            items.append(self.ternary())
        self.expect(")")
        return items

    def unary(self) -> Evaluator:
        if self.accept("-"):
            inner = self.unary()
            return lambda c: -_number(inner(c))
        if self.accept("+"):
            inner = self.unary()
            return lambda c: _number(inner(c))
        if self.accept("!"):
            inner = self.unary()
            return lambda c: not truthy(inner(c))
        return self.atom()

    def atom(self) -> Evaluator:
        kind, value = self.take()
        if kind == "num":
            num: float | int = float(value) if any(ch in value for ch in ".eE") else int(value)
            return lambda _c: num
        if kind == "str":
            text = _unescape(value[1:-1])
            return lambda _c: text
        if kind == "qname":
            return _name_getter(_unescape(value[1:-1]))
        if kind == "name":
            return _name_getter(value)
        if kind == "kw":
            constants: dict[str, Any] = {
                "true": True,
                "false": False,
                "null": None,
                "undefined": UNDEFINED,
            }
            if value in constants:
                constant = constants[value]
                return lambda _c: constant
        if kind == "op" and value == "(":
            self.i -= 1
            self.expect("(")
            inner = self.ternary()
            self.expect(")")
            return inner
        raise ValueError(f"unexpected {value or 'end of expression'!r}")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def compile_expression(expr: str) -> Evaluator:
    """Compile an expression to a function of a mapping returning its value."""
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError("empty expression")
    if len(expr) > _MAX_LEN:
        raise ValueError(f"expression longer than {_MAX_LEN} characters")
    try:
        return _Parser(expr).parse()
    except RecursionError:
        raise ValueError("expression nests too deeply") from None


def expression_names(expr: str, *, quoted: bool = False) -> list[str]:
    """The variable names an expression reads (``user.id``, ``items[0]``), or with
    ``quoted`` its ``'quoted names'``."""
    wanted = "qname" if quoted else "name"
    return [value for kind, value in _tokenize(expr) if kind == wanted]


def compile_condition(expr: str) -> Callable[[Mapping[str, Any]], bool]:
    """Compile an ``ifTrue`` / ``whileTrue`` / ensure condition; ValueError on bad syntax."""
    fn = compile_expression(expr)

    def condition(context: Mapping[str, Any]) -> bool:
        try:
            return truthy(fn(context))
        except RecursionError:
            return False

    return condition
