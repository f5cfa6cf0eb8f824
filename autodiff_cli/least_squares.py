"""Least squares as scientists fit: a formula's parameters to measurements, with the exact Jacobian,
and each parameter's standard error.

The program's output is one row's residual r (`b1*(1 - exp(-b2*x)) - y`); the parameters (its
inputs that are not columns of the data) minimise the sum of r², or of (r/σ)² with weights.  The
solver is MINPACK's Levenberg–Marquardt (SciPy's `least_squares`, method "lm"; with bounds, its
trust-region reflective method), given the residuals' exact Jacobian from the array engine.

The rows are never held whole: a pass over the data computes, chunk by chunk, the QR factors of
the weighted Jacobian (R, and z = Qᵀr) and the residual sum of squares, combining chunks in their
order (a QR of the stacked R's: exact in any grouping, so a cluster gives the same numbers).  The
solver is handed the compressed problem, f = [z, sqrt(RSS − |z|²)] with Jacobian [R; 0]: it has
the same sum of squares, gradient, Jacobian column norms and Gauss–Newton and LM steps as the full
one, so MINPACK takes exactly the steps it would take on every row, whatever their number.

At the solution: the covariance s²(RᵀR)⁻¹ with s² = RSS/(rows − parameters) (as NIST certifies
and `curve_fit` gives by default), each parameter's standard error, the correlation matrix,
RSS, degrees of freedom and the reduced χ².
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, TextIO

from .arrays import ArrayProgram
from .data import Data
from .errors import AutodiffError, clip
from .points import numpy
from .program import Program
from .reports import Report, Style

TOLERANCE = 2.3e-16         # ftol, xtol, gtol: just above machine epsilon, the tightest MINPACK takes
MAX_EVALUATIONS = 10_000    # passes over the data, unless raised
SINGULAR = 1e-13            # a Jacobian whose smallest singular value is below this part of its largest


class LeastSquaresError(AutodiffError):
    """Least squares cannot go on: a row outside the domain, a singular Jacobian, no convergence."""


@dataclass
class LeastSquaresResult:
    """The fitted parameters and what scientists read beside them."""

    names: list[str]
    start: dict[str, float]
    value: dict[str, float]
    standard_error: dict[str, float | None]      # None with no degrees of freedom (as many rows as parameters)
    correlation: list[list[float]]
    residual_sum_of_squares: float
    rows: int
    evaluations: int                    # passes over the data (residuals and Jacobian together)
    iterations: int                     # Jacobians: accepted steps
    converged: bool
    why: str                            # why the solver stopped, in its words
    method: str = "lm"
    weighted: bool = False
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def degrees_of_freedom(self) -> int:
        return self.rows - len(self.names)

    @property
    def reduced_chi_square(self) -> float | None:
        dof = self.degrees_of_freedom
        return self.residual_sum_of_squares / dof if dof > 0 else None


class Factors:
    """The QR factors of the weighted Jacobian of some rows: R (parameters × parameters), z = Qᵀr,
    the residual sum of squares and the number of rows.  `combine` joins two sets exactly."""

    def __init__(self, R, z, rss: float, rows: int):
        self.R, self.z, self.rss, self.rows = R, z, rss, rows

    @classmethod
    def of(cls, J, r) -> Factors:
        np = numpy()
        p = J.shape[1]
        Q, R = np.linalg.qr(J)
        R, z = _square(R, p), _square((Q.T @ r)[:, None], p)[:, 0]
        with np.errstate(over="ignore"):                # a trial step's overflow: its sum of squares is inf
            return cls(R, z, float(np.sum(r * r)), len(r))      # NumPy's pairwise sum, not BLAS's dot: the
                                                                # same float however many threads BLAS has

    def combine(self, other: Factors) -> Factors:
        np = numpy()
        p = self.R.shape[1]
        Q, R = np.linalg.qr(np.vstack([self.R, other.R]))
        z = Q.T @ np.concatenate([self.z, other.z])
        return Factors(_square(R, p), _square(z[:, None], p)[:, 0], self.rss + other.rss, self.rows + other.rows)


def _square(matrix, p: int):
    """A p-row matrix: rows of zeros added below (QR of fewer rows than parameters gives fewer)."""
    np = numpy()
    if matrix.shape[0] >= p:
        return matrix[:p]
    return np.vstack([matrix, np.zeros((p - matrix.shape[0], matrix.shape[1]))])


def chunk_factors(compiled: ArrayProgram, columns: Mapping[str, object], lines, params: list[str],
                  sigma: str | float | None, source: str) -> Factors:
    """One chunk's factors; a row outside the program's domain (or whose residual or gradient is
    too large) is an error naming its line: least squares needs every row."""
    np = numpy()
    n = len(lines)
    inputs = {name: values for name, values in columns.items() if name != sigma}
    rows = compiled.rows(inputs, n, params)
    if rows.errors:
        i = min(rows.errors)
        raise LeastSquaresError(f"{source} line {int(lines[i])}: {rows.errors[i].one_line()}")
    r = np.array(rows.value, dtype=float)
    J = np.column_stack([rows.grad[name] for name in params]) if params else np.zeros((n, 0))
    if sigma is not None:
        weights = columns[sigma] if isinstance(sigma, str) else np.full(n, float(sigma))
        if not (weights > 0).all():
            i = int(np.flatnonzero(~(weights > 0))[0])
            raise LeastSquaresError(f"{source} line {int(lines[i])}: the uncertainty σ must be above 0, "
                                    f"not {float(weights[i])!r}")
        r, J = r / weights, J / weights[:, None]
    return Factors.of(J, r)


def factors(compiled: ArrayProgram, data: Data, params: list[str], sigma: str | float | None) -> Factors:
    """Every row's factors, chunk by chunk, chunks combined in their order."""
    total = None
    for _, lines, columns in data.chunks(compiled.chunk):
        found = chunk_factors(compiled, columns, lines, params, sigma, data.source)
        total = found if total is None else total.combine(found)
    return total


def fit_least_squares(program: Program, data: Data, *, sigma: str | float | None = None,
                      bounds: Mapping[str, tuple[float, float]] | None = None, compiled: ArrayProgram | None = None,
                      max_evaluations: int = MAX_EVALUATIONS,
                      passes: Callable[[list[str]], Factors] | None = None) -> LeastSquaresResult:
    """Fit the program's parameters (its inputs that are not columns of `data`, from their values)
    so that the sum of its output squared over the rows (divided by σ, a column or a number, where
    given) is least.  `bounds` maps parameters to (low, high).  `passes`, if given, computes every
    row's `Factors` at the program's current parameters (a cluster's; by default, this machine's).
    Raises `LeastSquaresError` for a row outside the domain (at the start), a singular Jacobian at
    the solution, bounds that exclude the start, or no convergence within `max_evaluations`."""
    np = numpy()
    from .training import parameters_of

    compiled = compiled or ArrayProgram(program)
    params = parameters_of(program, data, (), ignore=(sigma,) if isinstance(sigma, str) else ())
    if isinstance(sigma, str) and sigma not in data.names:
        raise AutodiffError(f"σ: {clip(sigma)} is not a column of {data.source}; its columns are: "
                            f"{', '.join(data.names)}")
    nodes = [program.inputs[name] for name in params]
    start = np.array([node.data for node in nodes], dtype=float)
    low, high = _bounds(params, start, bounds or {})
    every = passes or (lambda names: factors(compiled, data, names, sigma))
    if len(data) < len(params):
        raise AutodiffError(f"{len(params)} parameters cannot be fitted to {len(data)} rows: least squares needs at "
                            "least as many rows as parameters")
    cache: dict = {}
    evaluations = [0]

    def at(theta):
        key = theta.tobytes()
        if key not in cache:
            cache.clear()
            for node, value in zip(nodes, theta.tolist()):
                node.data = value
            evaluations[0] += 1
            try:
                cache[key] = every(params)
            except LeastSquaresError:
                if evaluations[0] == 1:
                    raise
                cache[key] = None               # a trial step outside the domain: rejected as huge
        return cache[key]

    def residuals(theta):
        found = at(theta)
        if found is None or not math.isfinite(found.rss):
            return np.full(len(params) + 1, 1e150)
        tail = math.sqrt(max(found.rss - float(found.z @ found.z), 0.0))
        return np.concatenate([found.z, [tail]])

    def jacobian(theta):
        found = at(theta)
        if found is None:
            return np.zeros((len(params) + 1, len(params)))
        return np.vstack([found.R, np.zeros((1, len(params)))])

    first = at(start)
    if not math.isfinite(first.rss) or not np.isfinite(first.R).all():
        raise LeastSquaresError("the residuals or their Jacobian at the start are too large for a float")
    solution, result = _solve(residuals, jacobian, start, low, high, max_evaluations)
    final = at(solution)
    if final is None or not math.isfinite(final.rss):
        raise LeastSquaresError("the fit diverged: the residuals at its last point are not finite")
    if not result.success:
        raise LeastSquaresError(f"no convergence after {evaluations[0]:,} passes over the data: {result.message}")
    standard, correlation = _uncertainties(final, params)
    return LeastSquaresResult(params, dict(zip(params, start.tolist())), dict(zip(params, solution.tolist())),
                              dict(zip(params, standard)), correlation, final.rss, final.rows, evaluations[0],
                              int(result.njev or 0), bool(result.success), str(result.message),
                              "lm" if not bounds else "trf", sigma is not None, dict(bounds or {}))


def _bounds(params: list[str], start, bounds: Mapping[str, tuple[float, float]]):
    np = numpy()
    unknown = [name for name in bounds if name not in params]
    if unknown:
        raise AutodiffError(f"bounds for {clip(unknown[0])}, which is not a parameter; the parameters are: "
                            f"{', '.join(params)}")
    low = np.array([bounds.get(name, (-math.inf, math.inf))[0] for name in params])
    high = np.array([bounds.get(name, (-math.inf, math.inf))[1] for name in params])
    for name, value, lo, hi in zip(params, start.tolist(), low.tolist(), high.tolist()):
        if not lo < hi:
            raise AutodiffError(f"the bounds of {name} leave no room: {lo!r} to {hi!r}")
        if not lo <= value <= hi:
            raise AutodiffError(f"{name} starts at {value!r}, outside its bounds {lo!r} to {hi!r}")
    return low, high


def _solve(residuals, jacobian, start, low, high, max_evaluations: int):
    """MINPACK's LM from `start` (TRF within bounds), restarted from where it stopped while a
    restart still improves the sum of squares: an LM run can stop on its step tolerance short of
    the minimum on a badly scaled problem; a restart rebuilds its trust region."""
    np = numpy()
    try:
        from scipy.optimize import least_squares
    except ImportError:
        raise AutodiffError("least squares needs SciPy, which is not installed",
                            hint="pip install 'autodiff-cli[fit]'") from None
    bounded = np.isfinite(low).any() or np.isfinite(high).any()
    settings = dict(jac=jacobian, ftol=TOLERANCE, xtol=TOLERANCE, gtol=TOLERANCE, x_scale="jac",
                    max_nfev=max_evaluations)
    x, best = start, None
    for _ in range(RESTARTS):
        if bounded:
            found = least_squares(residuals, x, bounds=(low, high), method="trf", **settings)
        else:
            found = least_squares(residuals, x, method="lm", **settings)
        if best is not None and not found.cost < best.cost * (1 - 1e-15):
            break
        best, x = found, found.x
    return best.x, best


RESTARTS = 4


def _uncertainties(final: Factors, params: list[str]) -> tuple[list[float | None], list[list[float]]]:
    """Standard errors and correlations from s²(RᵀR)⁻¹; a singular R (parameters the data cannot
    tell apart) is an error naming them."""
    np = numpy()
    R = final.R
    if not params:
        return [], []
    u, s, vt = np.linalg.svd(R)
    if s[-1] <= SINGULAR * s[0]:
        null = vt[-1]
        involved = [name for name, weight in zip(params, null.tolist()) if abs(weight) > 0.1]
        raise LeastSquaresError(
            f"the Jacobian is singular at the solution: the data cannot tell {', '.join(involved)} apart "
            "(a combination of them leaves every residual as it is)",
            hint="make one of them a number in the program, or reparametrise the model")
    dof = final.rows - len(params)
    s2 = final.rss / dof if dof > 0 else math.nan
    R_inv = np.linalg.inv(R)
    unscaled = R_inv @ R_inv.T
    covariance = unscaled * s2
    scale = np.sqrt(np.diag(unscaled))
    correlation = unscaled / np.outer(scale, scale)
    np.fill_diagonal(correlation, 1.0)
    standard = [float(v) if dof > 0 else None for v in np.sqrt(np.diag(covariance)).tolist()]
    return standard, [[float(v) for v in row] for row in correlation]


class LeastSquaresReport(Report):
    """The fit as gnuplot reports one: each parameter with its standard error, the correlation
    matrix, the residual sum of squares, the degrees of freedom and the reduced χ²; or JSON."""

    def __init__(self, program: Program, result: LeastSquaresResult, precision: int = 6):
        self.program = program
        self.result = result
        self.precision = precision

    def document(self) -> dict:
        r = self.result
        parameters = {name: {"start": r.start[name], "value": r.value[name], "standard_error": r.standard_error[name]}
                      for name in r.names}
        return {"output": self.program.output_label, "method": r.method, "rows": r.rows, "parameters": parameters,
                "residual_sum_of_squares": r.residual_sum_of_squares, "degrees_of_freedom": r.degrees_of_freedom,
                "reduced_chi_square": r.reduced_chi_square, "correlation": r.correlation,
                "iterations": r.iterations, "evaluations": r.evaluations, "converged": r.converged, "why": r.why,
                "weighted": r.weighted,
                "bounds": {name: [end if math.isfinite(end) else None for end in bound]       # None: no bound
                           for name, bound in r.bounds.items()} or None}

    def write_text(self, out: TextIO, style: Style) -> None:
        from .tables import write_grid

        r, digits = self.result, self.precision
        rows = []
        for name in r.names:
            value, error = r.value[name], r.standard_error[name]
            relative = "" if error is None or value == 0 else f"({abs(error / value):.2%})"
            rows.append((name, f"{value:.{digits}g}", "-" if error is None else f"± {error:.{min(digits, 4)}g}",
                         relative))
        write_grid(out, ("parameter", "value", "standard error", ""), rows, numeric={"value", "standard error"},
                   rich=style.rich, title="the fitted parameters (standard errors from the Jacobian at the solution, "
                                          "scaled by the residual variance)")
        if len(r.names) > 1:
            cells = [(a, *(f"{r.correlation[i][j]:.3f}" if j <= i else "" for j in range(len(r.names))))
                     for i, a in enumerate(r.names)]
            write_grid(out, ("correlation", *r.names), cells, numeric=set(r.names), rich=style.rich,
                       title="the correlation matrix of the parameters")
        chi = r.reduced_chi_square
        out.write(f"residual sum of squares: {r.residual_sum_of_squares:.{digits}g}"
                  + (" (weighted by 1/σ²)" if r.weighted else "") + "\n")
        out.write(f"degrees of freedom: {r.degrees_of_freedom} ({r.rows:,} rows, {len(r.names)} parameters)\n")
        if chi is not None:
            out.write(f"reduced χ² (residual variance): {chi:.{digits}g}; rms of the residuals: {math.sqrt(chi):.{digits}g}\n")
        state = "converged" if r.converged else "did NOT converge"
        out.write(f"{state} after {r.iterations} iterations ({r.evaluations} passes over the rows; "
                  f"{'Levenberg–Marquardt' if r.method == 'lm' else 'trust-region reflective, within the bounds'}): "
                  f"{r.why}\n")
