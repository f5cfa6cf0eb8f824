"""NIST's Statistical Reference Datasets for nonlinear regression (tests/data/nist, as NIST publishes
them): each set's data, its two starting points, the certified parameters, their standard
deviations and the residual sum of squares, and its model as a residual in the language."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent / "data" / "nist"

GAUSS = "b1*exp(-b2*x) + b3*exp(-(x - b4)**2/b5**2) + b6*exp(-(x - b7)**2/b8**2)"
RATIONAL3 = "(b1 + b2*x + b3*x**2 + b4*x**3)/(1 + b5*x + b6*x**2 + b7*x**3)"
LANCZOS = "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)"
MODELS = {                  # each set's model, as NIST states it in its file
    "Bennett5": "b1*(b2 + x)**(-1/b3)", "BoxBOD": "b1*(1 - exp(-b2*x))", "Chwirut1": "exp(-b1*x)/(b2 + b3*x)",
    "Chwirut2": "exp(-b1*x)/(b2 + b3*x)", "DanWood": "b1*x**b2",
    "ENSO": "b1 + b2*cos(2*pi*x/12) + b3*sin(2*pi*x/12) + b5*cos(2*pi*x/b4) + b6*sin(2*pi*x/b4)"
            " + b8*cos(2*pi*x/b7) + b9*sin(2*pi*x/b7)",
    "Eckerle4": "(b1/b2)*exp(-0.5*((x - b3)/b2)**2)", "Gauss1": GAUSS, "Gauss2": GAUSS, "Gauss3": GAUSS,
    "Hahn1": RATIONAL3, "Kirby2": "(b1 + b2*x + b3*x**2)/(1 + b4*x + b5*x**2)", "Lanczos1": LANCZOS,
    "Lanczos2": LANCZOS, "Lanczos3": LANCZOS, "MGH09": "b1*(x**2 + x*b2)/(x**2 + x*b3 + b4)",
    "MGH10": "b1*exp(b2/(x + b3))", "MGH17": "b1 + b2*exp(-x*b4) + b3*exp(-x*b5)",
    "Misra1a": "b1*(1 - exp(-b2*x))", "Misra1b": "b1*(1 - (1 + b2*x/2)**(-2))",
    "Misra1c": "b1*(1 - (1 + 2*b2*x)**(-0.5))", "Misra1d": "b1*b2*x*((1 + b2*x)**(-1))",
    "Nelson": "b1 - b2*x1*exp(-b3*x2)", "Rat42": "b1/(1 + exp(b2 - b3*x))",
    "Rat43": "b1/((1 + exp(b2 - b3*x))**(1/b4))", "Roszman1": "b1 - b2*x - atan(b3/(x - b4))/pi",
    "Thurber": RATIONAL3,
}
RESPONSE = {"Nelson": "log(y)"}         # Nelson's model is for log(y)
LOWER_DIFFICULTY = ["Chwirut1", "Chwirut2", "DanWood", "Gauss1", "Gauss2", "Lanczos3", "Misra1a", "Misra1b"]
NUMBER = r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?"


@dataclass
class ReferenceSet:
    name: str
    parameters: list[str]
    starts: list[list[float]]           # NIST's two starting points
    certified: list[float]
    certified_sd: list[float]
    rss: float
    columns: list[str]                  # y first, as in the file
    rows: list[list[float]]
    difficulty: str

    def program(self, start: int) -> str:
        """The residual of one row, with the parameters declared at the starting point."""
        declared = "; ".join(f"{name} = {value!r}" for name, value in zip(self.parameters, self.starts[start]))
        return f"{declared}\nr = {MODELS[self.name]} - {RESPONSE.get(self.name, 'y')}"

    def csv(self) -> str:
        return ",".join(self.columns) + "\n" + "".join(",".join(repr(v) for v in row) + "\n" for row in self.rows)


def load(name: str) -> ReferenceSet:
    lines = (DIRECTORY / f"{name}.dat").read_text().splitlines()
    params, starts, certified, sd = [], [[], []], [], []
    for line in lines:
        found = re.match(rf"\s*(b\d+)\s*=\s*({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})", line)
        if found:
            params.append(found[1])
            starts[0].append(float(found[2]))
            starts[1].append(float(found[3]))
            certified.append(float(found[4]))
            sd.append(float(found[5]))
    rss = float(re.search(rf"Residual Sum of Squares:\s+({NUMBER})", "\n".join(lines))[1])
    difficulty = re.search(r"(Lower|Average|Higher) Level of Difficulty", "\n".join(lines))[1]
    header = next(i for i, line in enumerate(lines) if re.match(r"Data:\s+y\s", line))
    columns = lines[header].split()[1:]
    rows = [[float(v) for v in line.split()] for line in lines[header + 1:] if line.strip()]
    return ReferenceSet(name, params, starts, certified, sd, rss, columns, rows, difficulty)


def significant_digits(got: float, certified: float) -> float:
    """How many significant digits agree (NIST's log relative error), 15 where they all do."""
    import math

    if got == certified:
        return 15.0
    if certified == 0:
        return -math.log10(abs(got)) if got else 15.0
    return -math.log10(abs(got - certified) / abs(certified))
