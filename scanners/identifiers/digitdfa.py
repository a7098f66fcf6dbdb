"""A regular expression over decimal digits as a deterministic automaton, packed for C.

The raw path's C phone confirmation must ask whether national digits are a Swedish number, which
libphonenumber's metadata says with a regular expression. Calling Python's `re` for that costs
about 2.5 us a number (a string and a call); walking an automaton costs a table lookup a digit.
The automaton is built here from the expression itself (Python's own parser, a Thompson NFA and
the subset construction), so it accepts exactly the digit strings `fullmatch` accepts. An
expression with anything but digits, classes of digits, groups, alternatives and repeats is
refused (ValueError), and the caller keeps the Python check.
"""

from __future__ import annotations

import array
from re import _constants as sre  # type: ignore[attr-defined]  # the parser behind `re`
from re import _parser as sre_parse  # type: ignore[attr-defined]

DIGITS = frozenset(range(10))
# Per state: the next state for each digit 0-9 (0: no match can follow), then 1 if it accepts.
STATE_WORDS = 11
START = 1
MAX_STATES = 65_535
MAX_NFA_STATES = 200_000


class _Nfa:
    """States joined by empty moves and by moves on sets of digits."""

    def __init__(self) -> None:
        self.empty: list[list[int]] = []
        self.moves: list[list[tuple[frozenset[int], int]]] = []

    def state(self) -> int:
        if len(self.empty) >= MAX_NFA_STATES:  # nested bounded repeats multiply the copies
            raise ValueError("the expression is too large")
        self.empty.append([])
        self.moves.append([])
        return len(self.empty) - 1

    def sequence(self, items: object, at: int) -> int:
        """The states for `items` (a parsed sequence) from `at`; returns where they end."""
        for op, av in items:  # type: ignore[attr-defined]
            at = self.item(op, av, at)
        return at

    def item(self, op: object, av: object, at: int) -> int:
        if op in (sre.LITERAL, sre.IN):
            digits = _digit_set(op, av)
            end = self.state()
            if digits:
                self.moves[at].append((digits, end))
            return end
        if op is sre.SUBPATTERN:
            return self.sequence(av[-1], at)  # type: ignore[index]
        if op is sre.BRANCH:
            end = self.state()
            for alternative in av[1]:  # type: ignore[index]
                self.empty[self.sequence(alternative, at)].append(end)
            return end
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, body = av  # type: ignore[misc]
            for _ in range(low):
                at = self.sequence(body, at)
            if high is sre.MAXREPEAT:
                loop = self.state()
                self.empty[at].append(loop)
                self.empty[self.sequence(body, loop)].append(loop)
                return loop
            end = self.state()
            for _ in range(high - low):
                self.empty[at].append(end)
                at = self.sequence(body, at)
            self.empty[at].append(end)
            return end
        raise ValueError(f"not a digit expression: {op}")

    def closure(self, states: set[int]) -> frozenset[int]:
        todo, seen = list(states), set(states)
        while todo:
            for nxt in self.empty[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return frozenset(seen)


def _digit_set(op: object, av: object) -> frozenset[int]:
    """The digits a LITERAL or IN item matches (other characters never occur in digits)."""
    if op is sre.LITERAL:
        return frozenset({av - 48}) if 48 <= av <= 57 else frozenset()  # type: ignore[operator]
    out: set[int] = set()
    negate = False
    for kind, value in av:  # type: ignore[attr-defined]
        if kind is sre.NEGATE:
            negate = True
        elif kind is sre.LITERAL:
            if 48 <= value <= 57:
                out.add(value - 48)
        elif kind is sre.RANGE:
            out.update(d for d in range(10) if value[0] <= d + 48 <= value[1])
        elif kind is sre.CATEGORY and value is sre.CATEGORY_DIGIT:
            out.update(DIGITS)
        else:
            raise ValueError(f"not a digit class: {kind}")
    return DIGITS - out if negate else frozenset(out)


def compile_digits(pattern: str) -> bytes:
    """The automaton of `pattern` (matched whole, as `fullmatch`) as native uint16 words.

    State `START` is where a number begins and state 0 rejects; each state has `STATE_WORDS`
    words: its next state for digits 0-9, then whether a number may end there.
    """
    nfa = _Nfa()
    begin = nfa.state()
    final = nfa.sequence(sre_parse.parse(pattern), begin)
    first = nfa.closure({begin})
    number = {frozenset(): 0, first: START}
    order = [frozenset(), first]
    rows = [[0] * STATE_WORDS]
    while len(rows) < len(order):
        current = order[len(rows)]
        row = []
        for digit in range(10):
            targets = {t for s in current for digits, t in nfa.moves[s] if digit in digits}
            nxt = nfa.closure(targets) if targets else frozenset()
            if nxt not in number:
                if len(order) >= MAX_STATES:
                    raise ValueError("the automaton is too large")
                number[nxt] = len(order)
                order.append(nxt)
            row.append(number[nxt])
        rows.append([*row, int(final in current)])
    return array.array("H", [word for row in rows for word in row]).tobytes()


def accepts(table: bytes, digits: str) -> bool:
    """Whether the automaton `table` accepts `digits` (the C walk, in Python, for tests)."""
    words = array.array("H")
    words.frombytes(table)
    state = START
    for ch in digits:
        state = words[state * STATE_WORDS + ord(ch) - 48]
        if not state:
            return False
    return bool(words[state * STATE_WORDS + 10])
