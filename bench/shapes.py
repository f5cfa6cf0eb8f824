"""Generated programs for the benchmarks, and the same graphs for the engines we compare with.

Three shapes, each about `size` nodes:
- chain: relu(relu(x*0.999 + 0.001)*0.999 + 0.001)...: one long nested chain;
- wide: x*0.5 + y*1.5 + x*2.5 + ...: a wide sum of products;
- mixed: random statements over every op, each using the one before and a random earlier one (fan-out);
- named: s1 = tanh(s0 * w + x), s2 = tanh(s1 * w + x), ...: one named statement per 3 nodes.
"""
from __future__ import annotations

import random

from autodiff_cli import ops

SHAPES = ("chain", "wide", "mixed", "named")
CHAIN_NODES_PER_LINK = 5          # const, *, const, +, relu
WIDE_NODES_PER_TERM = 3           # const, *, +
NAMED_NODES_PER_STATEMENT = 3     # *, +, tanh

MIXED_TEMPLATES = [               # every value stays in a modest range, so no op leaves its domain
    "tanh({a} * {b})", "({a} + {b}) / 2", "({a} - {b}) / 2", "sin({a})", "cos({a} - {b})", "sigmoid({a})",
    "{a} / (1 + {b}*{b})", "log(1 + {a}*{a})", "sqrt(1 + {a}*{a}) - 1", "exp(-{a}*{a})",
    "relu({a}) - abs({b}) / 2", "{a}**2", "(1 + {a}*{a}) ** ({b} / 4)", "-{a} * {b}",
]


def program(shape: str, size: int, seed: int = 0) -> str:
    if shape == "chain":
        links = max(1, size // CHAIN_NODES_PER_LINK)
        return "x = 0.5\n" + "relu(" * links + "x" + "*0.999 + 0.001)" * links + "\n"
    if shape == "wide":
        terms = max(1, size // WIDE_NODES_PER_TERM)
        return "x = 0.5; y = -1.5\n" + " + ".join(f"{'xy'[i % 2]}*{i % 97 + 0.5}" for i in range(terms)) + "\n"
    if shape == "mixed":
        rng = random.Random(seed)
        lines = ["x = 0.5", "y = -0.25", "z = 1.5", "v0 = x * y + z"]
        names = ["x", "y", "z", "v0"]
        nodes = 4
        while nodes < size:
            template = rng.choice(MIXED_TEMPLATES)
            a, b = names[-1], rng.choice(names)        # a chains every statement into the output
            name = f"v{len(names)}"
            lines.append(f"{name} = " + template.format(a=a, b=b))
            names.append(name)
            nodes += _template_nodes(template)
        lines.append(names[-1])
        return "\n".join(lines) + "\n"
    if shape == "named":
        statements = max(1, size // NAMED_NODES_PER_STATEMENT)
        lines = ["w = 0.5; x = 0.25; s0 = x"]
        lines += [f"s{i} = tanh(s{i - 1} * w + x)" for i in range(1, statements + 1)]
        return "\n".join(lines) + "\n"
    raise ValueError(shape)


def _template_nodes(template: str) -> int:
    """How many nodes one mixed statement adds (its operands already exist)."""
    from autodiff_cli.parsing import parse
    prog = parse(template.format(a="p", b="q"))
    return len(prog.nodes) - len(prog.inputs)


def micrograd_graph(shape: str, size: int):
    """The same chain or wide graph built with micrograd's engine (it has no tanh, log, ...: no mixed)."""
    from micrograd.engine import Value

    if shape == "chain":
        node = x = Value(0.5)
        for _ in range(max(1, size // CHAIN_NODES_PER_LINK)):
            node = (node * 0.999 + 0.001).relu()
        return node, [x]
    if shape == "wide":
        x, y = Value(0.5), Value(-1.5)
        terms = max(1, size // WIDE_NODES_PER_TERM)
        total = x * 0.5
        for i in range(1, terms):
            total = total + (x, y)[i % 2] * (i % 97 + 0.5)
        return total, [x, y]
    return None, []


def sympy_expression(prog):
    """The program's output as one SymPy expression, built from the graph without recursion,
    each op from its SymPy form in the op table."""
    import sympy

    exprs = []
    symbols = {}
    for node in prog.nodes:
        if node.op is ops.INPUT:
            symbols[node.label] = e = sympy.Symbol(node.label, real=True)
        elif node.op is ops.CONST:
            e = sympy.Float(node.data)
        else:
            operands = dict(zip("xy", (exprs[x.index] for x in node.inputs)))
            e = sympy.sympify(node.op.sympy, locals=operands)
        exprs.append(e)
    return exprs[-1], symbols
