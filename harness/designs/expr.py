"""Arithmetic expressions of named dimensions, as kernel spec files write them ("M*K", "ceil(N/16)").

Parsed with `ast` and evaluated by walking the tree: only numbers, names, + - * / // % **,
unary minus and the functions min, max and ceil are allowed, so a spec file can never run
code. Every failure is a UserError naming the expression and what to change.
"""
from __future__ import annotations

import ast
import math
import operator

from harness.errors import UserError

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_FUNCS = {"min": min, "max": max, "ceil": math.ceil}
MAX_EXPONENT = 64            # keeps `**` from building numbers that take minutes to compute
ALLOWED = "numbers, names, + - * / // % **, min(), max(), ceil()"


class Expr:
    """One parsed expression; `names` are the free names it uses."""

    def __init__(self, text, what: str = "expression"):
        self.what = what
        if isinstance(text, bool) or not isinstance(text, (str, int, float)):
            raise UserError(f"{what}: {text!r} is not an expression; write it as a string, e.g. \"M*K\"")
        self.text = str(text).strip()
        try:
            self._tree = ast.parse(self.text, mode="eval")
        except SyntaxError:
            raise UserError(f"{what} {self.text!r} is not an arithmetic expression; use {ALLOWED}") from None
        self.names = frozenset(self._check(self._tree.body))

    def _check(self, node) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return set()
        if isinstance(node, ast.Name):
            if node.id in _FUNCS:
                raise UserError(f"{self.what} {self.text!r}: {node.id} is a function; call it, e.g. {node.id}(M, 4)")
            return {node.id}
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return self._check(node.left) | self._check(node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return self._check(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS \
                and not node.keywords and node.args:
            if node.func.id == "ceil" and len(node.args) != 1:
                raise UserError(f"{self.what} {self.text!r}: ceil takes one argument")
            out = set()
            for a in node.args:
                out |= self._check(a)
            return out
        raise UserError(f"{self.what} {self.text!r} uses {ast.unparse(node)!r}, which is not allowed; "
                        f"use {ALLOWED}")

    def __call__(self, names: dict):
        """The value with `names` bound (UserError naming a missing name or an impossible operation)."""
        missing = sorted(self.names - set(names))
        if missing:
            known = ", ".join(sorted(names)) or "none"
            raise UserError(f"{self.what} {self.text!r} does not evaluate: {missing[0]} is not bound here "
                            f"(bound: {known})")
        return self._eval(self._tree.body, names)

    def _eval(self, node, names):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return names[node.id]
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, names)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Call):
            args = [self._eval(a, names) for a in node.args]
            return _FUNCS[node.func.id](*args)
        a, b = self._eval(node.left, names), self._eval(node.right, names)
        if isinstance(node.op, ast.Pow) and abs(b) > MAX_EXPONENT:
            raise UserError(f"{self.what} {self.text!r}: exponent {b} is too large (at most {MAX_EXPONENT})")
        try:
            return _BINOPS[type(node.op)](a, b)
        except ZeroDivisionError:
            raise UserError(f"{self.what} {self.text!r} divides by zero with "
                            f"{_bound(self.names, names)}") from None
        except (OverflowError, ValueError) as exc:
            raise UserError(f"{self.what} {self.text!r} cannot be computed with "
                            f"{_bound(self.names, names)} ({exc})") from None

    def integer(self, names: dict, minimum: int | None = 0) -> int:
        """The value as a whole number (a float result must be integral), at least `minimum`."""
        v = self(names)
        if isinstance(v, float):
            if not math.isfinite(v) or not v.is_integer():
                raise UserError(f"{self.what} {self.text!r} gives {v:g} with {_bound(self.names, names)}, "
                                "not a whole number; use // or ceil()")
            v = int(v)
        if minimum is not None and v < minimum:
            raise UserError(f"{self.what} {self.text!r} gives {v} with {_bound(self.names, names)}; "
                            f"it must be at least {minimum}")
        return int(v)

    def number(self, names: dict, minimum: float | None = 0) -> float:
        v = float(self(names))
        if not math.isfinite(v) or (minimum is not None and v < minimum):
            raise UserError(f"{self.what} {self.text!r} gives {v:g} with {_bound(self.names, names)}; "
                            f"it must be a finite number of at least {minimum}")
        return v

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"


def _bound(used, names: dict) -> str:
    parts = [f"{n}={names[n]}" for n in sorted(used) if n in names]
    return ", ".join(parts) if parts else "no names"
