"""The pure-Python floor: a flat tape of parallel lists, one forward loop, one reverse loop.

No objects per node, no closures, no recursion: about as fast as reverse mode
gets in plain Python.  The benchmark runs it on the same graph as the engine.
"""
from __future__ import annotations

import math

LEAF, ADD, SUB, MUL, DIV, POW, NEG, TANH, EXP, LOG, SQRT, RELU, SIGMOID, SIN, COS, ABS = range(16)
CODES = {"input": LEAF, "const": LEAF, "add": ADD, "sub": SUB, "mul": MUL, "div": DIV, "pow": POW, "neg": NEG, "tanh": TANH, "exp": EXP, "log": LOG, "sqrt": SQRT,
         "relu": RELU, "sigmoid": SIGMOID, "sin": SIN, "cos": COS, "abs": ABS}


class Tape:
    def __init__(self, prog):
        nodes = prog.nodes
        self.code = [CODES[n.op.name] for n in nodes]
        self.left = [n.inputs[0].index if n.inputs else -1 for n in nodes]
        self.right = [n.inputs[1].index if len(n.inputs) > 1 else -1 for n in nodes]
        self.data = [n.data if not n.inputs else 0.0 for n in nodes]
        self.grad = [0.0] * len(nodes)

    def forward(self) -> None:
        code, left, right, data = self.code, self.left, self.right, self.data
        for i in range(len(code)):
            c = code[i]
            if c == LEAF:
                continue
            x = data[left[i]]
            if c == ADD:
                data[i] = x + data[right[i]]
            elif c == MUL:
                data[i] = x * data[right[i]]
            elif c == SUB:
                data[i] = x - data[right[i]]
            elif c == DIV:
                data[i] = x / data[right[i]]
            elif c == POW:
                data[i] = math.pow(x, data[right[i]])
            elif c == NEG:
                data[i] = -x
            elif c == TANH:
                data[i] = math.tanh(x)
            elif c == EXP:
                data[i] = math.exp(x)
            elif c == LOG:
                data[i] = math.log(x)
            elif c == SQRT:
                data[i] = math.sqrt(x)
            elif c == RELU:
                data[i] = x if x > 0.0 else 0.0
            elif c == SIGMOID:
                data[i] = 1.0 / (1.0 + math.exp(-x))
            elif c == SIN:
                data[i] = math.sin(x)
            elif c == COS:
                data[i] = math.cos(x)
            else:
                data[i] = abs(x)

    def backward(self) -> None:
        code, left, right, data = self.code, self.left, self.right, self.data
        grad = self.grad = [0.0] * len(code)
        grad[-1] = 1.0
        for i in range(len(code) - 1, -1, -1):
            c = code[i]
            if c == LEAF:
                continue
            g, a, o = grad[i], left[i], data[i]
            x = data[a]
            if c == ADD:
                grad[a] += g
                grad[right[i]] += g
            elif c == MUL:
                b = right[i]
                grad[a] += g * data[b]
                grad[b] += g * x
            elif c == SUB:
                grad[a] += g
                grad[right[i]] -= g
            elif c == DIV:
                b = right[i]
                grad[a] += g / data[b]
                grad[b] -= g * o / data[b]
            elif c == POW:
                b = right[i]
                y = data[b]
                grad[a] += g * y * math.pow(x, y - 1.0)
                grad[b] += g * o * math.log(x) if x > 0.0 else math.nan
            elif c == NEG:
                grad[a] -= g
            elif c == TANH:
                grad[a] += g * (1.0 - o * o)
            elif c == EXP:
                grad[a] += g * o
            elif c == LOG:
                grad[a] += g / x
            elif c == SQRT:
                grad[a] += g * 0.5 / o
            elif c == RELU:
                grad[a] += g if x > 0.0 else 0.0
            elif c == SIGMOID:
                grad[a] += g * o * (1.0 - o)
            elif c == SIN:
                grad[a] += g * math.cos(x)
            elif c == COS:
                grad[a] -= g * math.sin(x)
            else:
                grad[a] += g * (1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0)
