"""The lecture's own code, as written in "building micrograd": Value, Neuron, Layer, MLP and the training
loop, with the lecture's four rows: the reference the tests hold `net` and `fit` to."""
import math
import random


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only supporting int/float powers for now"
        out = Value(self.data ** other, (self,), f"**{other}")

        def _backward():
            self.grad += other * (self.data ** (other - 1)) * out.grad
        out._backward = _backward
        return out

    def __rmul__(self, other):
        return self * other

    def __radd__(self, other):
        return self + other

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def tanh(self):
        x = self.data
        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)
        build_topo(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))
        self.nonlin = nonlin            # the lecture's neurons are all tanh; False for --linear-out's last layer

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP:
    def __init__(self, nin, nouts, linear_out=False):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1], not (linear_out and i == len(nouts) - 1)) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]


YS = [1.0, -1.0, -1.0, 1.0]


ROWS = "x0,x1,x2,y\n" + "".join(f"{x[0]},{x[1]},{x[2]},{y}\n" for x, y in zip(XS, YS))


def lecture_mlp(seed=1, sizes=(3, 4, 4, 1), linear_out=False):
    random.seed(seed)
    return MLP(sizes[0], list(sizes[1:]), linear_out)


def lecture_training(steps, lr=0.05, seed=1, zero_grad=True):
    """The lecture's loop: the loss it prints at each step, and the parameters at the end; with
    `zero_grad` False, the loop that forgets `p.grad = 0.0` (the lecture's famous bug)."""
    n = lecture_mlp(seed)
    losses = []
    for _ in range(steps):
        ypred = [n(x) for x in XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
        if zero_grad:
            for p in n.parameters():
                p.grad = 0.0
        loss.backward()
        for p in n.parameters():
            p.data += -lr * p.grad
        losses.append(loss.data)
    return losses, [p.data for p in n.parameters()]


def parameter_names(sizes):
    """The names of micrograd's `parameters()`, in its order: layer, neuron, weights then bias."""
    return [name for layer, (nin, nout) in enumerate(zip(sizes, sizes[1:])) for neuron in range(nout)
            for name in [*(f"W{layer}[{neuron}][{i}]" for i in range(nin)), f"b{layer}[{neuron}]"]]
