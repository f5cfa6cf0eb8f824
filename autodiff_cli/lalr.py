"""A fast LALR loop and lexer over the tables Lark generates from the grammar.

Lark's generated parser is a general engine: about 3 µs a token on this grammar, four times
CPython's own `compile()`.  This loop does the same parse with less: one compiled regular
expression built from the grammar's own terminal definitions (in Lark's order of precedence),
matched at each position in turn; shifts and reductions over Lark's own parse table; and for each
reduction the children Lark would give the callback (anonymous and `_` tokens dropped, `_rule`s
spliced in, a `?rule`'s single child passed through, `[ ]`'s placeholders).  The grammar stays the
single source of the language: the terminals, the table and the rules' shapes all come from it.

It parses valid programs only: at the first token it cannot place (a syntax error), the caller
parses again with Lark, whose error the messages are built from.  A test runs both on generated
programs and compares the graphs.
"""
from __future__ import annotations

import operator
import re
from typing import Any, Callable

SHIFT = 0
UNIT, PICK, GENERAL = "unit", "pick", "general"      # the shapes of a reduction


def _getter(positions: list[int]) -> Callable[[list], tuple]:
    """The kept children at `positions` (from the top of the stack), as a tuple."""
    if len(positions) == 1:
        (i,) = positions
        return lambda values: (values[i],)
    return operator.itemgetter(*positions)


class Token(str):
    """A token a callback keeps: its text, its terminal's name, and where it is in the source."""

    type: str
    start_pos: int
    end_pos: int


class NoFastParse(Exception):
    """The text is not a valid program (or uses what this loop does not handle): use Lark."""


class FastSyntaxError(NoFastParse):
    """Where and why the text is not a valid program, as Lark's parser would say it: the token it
    cannot place (`token`, None for a character no terminal matches), its position, and the
    terminals the parser expected there."""

    def __init__(self, pos: int, token: Token | None, expected: set[str]):
        super().__init__(pos)
        self.pos_in_stream = pos
        self.token = token
        self.expected = expected


class FastParser:
    """The parse of valid programs, from a Lark standalone parser's own tables and rules."""

    def __init__(self, lark: Any):
        table = lark.parser.parser.parser.parse_table
        ignored = set(lark.lexer_conf.ignore)
        ordered = sorted(lark.terminals, key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
        skip = "|".join(t.pattern.to_regexp() for t in ordered if t.name in ignored)
        tokens = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in ordered if t.name not in ignored)
        # What is ignored goes with the next token, consumed atomically (a lookahead captures it, a
        # backreference takes it: no backtracking into it, whatever the ignored patterns).
        ignorable = f"(?:(?=(?P<_skip>{skip}))(?P=_skip))*"
        self.scanner = re.compile(f"{ignorable}(?:{tokens})")
        self.rest = re.compile(ignorable)
        self.kept = frozenset(symbol.name for rule in lark.rules for symbol in rule.expansion
                              if symbol.is_term and (rule.options.keep_all_tokens or not symbol.filter_out))
        shapes = {id(rule): self._shape(rule) for rule in lark.rules}
        # Lark's table with each reduction's rule replaced by its shape, looked up once here
        self.states = {state: {kind: (action, argument if action == SHIFT else shapes[id(argument)])
                               for kind, (action, argument) in actions.items()}
                       for state, actions in table.states.items()}
        self.start = table.start_states["start"]
        self.chains: dict[tuple, int] = {}

    def _after_units(self, below: int, origin: str, kind: str) -> int:
        """The state on top after a chain of unit reductions with `below` underneath, starting with
        one to `origin`, while the next token is `kind`."""
        while True:
            top = self.states[below][origin][1]
            action = self.states[top].get(kind)
            if action is None or action[0] == SHIFT or action[1][0] is not UNIT:
                return top
            origin = action[1][2]

    @staticmethod
    def _shape(rule: Any) -> tuple:
        """What a reduction by `rule` does: (how, size, origin, name, details).  `unit`: a `?rule`'s
        single kept child passes through; `pick`: the kept values at these positions go to the
        callback, as a tuple; `general`: tokens dropped, `_rule`s spliced, placeholders inserted."""
        keep_all = rule.options.keep_all_tokens
        roles = []
        for symbol in rule.expansion:
            if symbol.is_term:
                roles.append("keep" if keep_all or not symbol.filter_out else "drop")
            else:
                roles.append("splice" if symbol.name.startswith("_") else "keep")
        empty = tuple(rule.options.empty_indices or ())
        single = rule.options.expand1 and not rule.alias
        origin = rule.origin.name
        name = rule.alias or origin
        size = len(roles)
        if single and roles == ["keep"] and not empty:
            return UNIT, size, origin, name, ()
        picked = [i - size for i, role in enumerate(roles) if role == "keep"]
        if "splice" not in roles and not empty and not single and size and picked and origin[0] != "_" \
                and origin != "start":
            return PICK, size, origin, name, _getter(picked)
        return GENERAL, size, origin, name, (tuple(roles), empty, single)

    def parse(self, text: str, builder: Any, inlined: Callable[[list], Any], start: int = 0,
              stop: int | None = None) -> Any:
        """The value of the start rule's callback for a valid `text[start:stop]` (positions stay
        those of `text`: a function's body is parsed where it stands); `NoFastParse` otherwise."""
        states, kept, chains = self.states, self.kept, self.chains
        callbacks: dict[str, Callable] = {}
        state = self.start
        state_stack = [state]
        values: list = []
        position = start
        scan, length = self.scanner.match, len(text) if stop is None else stop
        while True:
            match = scan(text, position, length)    # anchored: a bad character costs no search
            if match is None:
                end = self.rest.match(text, position, length).end()
                if end != length:                   # a character no terminal matches
                    raise FastSyntaxError(end, None, self._expected(states[state]))
                kind, token = "$END", None
            else:
                position = match.end()
                kind = match.lastgroup
                if kind in kept:                    # the token's group ends the match
                    token = Token(match[kind])
                    token.type, token.start_pos, token.end_pos = kind, position - len(token), position
                else:
                    token = None
            while True:                             # reduce until the token can be shifted
                try:
                    action, argument = states[state][kind]
                except KeyError:
                    raise self._error(length, match, kind, states[state]) from None
                if action is SHIFT:
                    state = argument
                    state_stack.append(state)
                    values.append(token)
                    break
                how, size, origin, name, details = argument
                if how is UNIT:                     # a ?rule passing its one child up: only the state changes,
                    key = (state_stack[-2], state, kind)        # and a chain of them is worked out once
                    state = chains.get(key)
                    if state is None:
                        state = chains[key] = self._after_units(key[0], origin, kind)
                    state_stack[-1] = state
                    continue
                if how is PICK:
                    children = details(values)
                    del values[-size:]
                    del state_stack[-size:]
                    callback = callbacks.get(name)
                    if callback is None:
                        callback = callbacks[name] = getattr(builder, name)
                    result = callback(children)
                else:
                    children = self._children(values, state_stack, size, details)
                    if origin[0] == "_":
                        result = inlined(children)
                    elif details[2] and len(children) == 1:
                        result = children[0]
                    else:
                        result = getattr(builder, name)(children)
                    if origin == "start":
                        return result
                state = states[state_stack[-1]][origin][1]
                state_stack.append(state)
                values.append(result)
            if match is None:
                raise NoFastParse()

    @staticmethod
    def _expected(actions: dict) -> set[str]:
        return {kind for kind in actions if kind.isupper() or kind.startswith(("_", "$"))}

    def _error(self, length: int, match, kind: str, actions: dict) -> FastSyntaxError:
        """The token that cannot be placed, as Lark's error names it (the end is at `length`)."""
        if match is None:
            token = Token("")
            token.type, token.start_pos, token.end_pos = "$END", length, length
        else:
            token = Token(match[kind])
            token.type, token.start_pos, token.end_pos = kind, match.end() - len(token), match.end()
        return FastSyntaxError(token.start_pos, token, self._expected(actions))

    @staticmethod
    def _children(values: list, state_stack: list, size: int, details: tuple) -> list:
        roles, empty, _ = details
        children: list = []
        if size:
            for role, value in zip(roles, values[-size:]):
                if role == "keep":
                    children.append(value)
                elif role == "splice":
                    if children:
                        children.extend(value.children)
                    else:                           # a left-recursive list grows in place, as in Lark:
                        children = value.children   # copying it at every statement is quadratic
            del values[-size:]
            del state_stack[-size:]
        for index in empty:
            children.insert(index, None)
        return children
