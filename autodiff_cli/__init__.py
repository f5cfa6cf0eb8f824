"""autodiff: see every node's value and gradient of an expression.

    >>> from autodiff_cli import evaluate
    >>> result = evaluate("(a*b+c)*f", a=2, b=-3, c=10, f=-2)
    >>> result.value, result.grad["a"]
    (-8.0, 6.0)

Names are imported lazily, so `autodiff --help` does not pay for the parser.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "evaluate": "parsing", "Program": "program",
    "parse": "parsing",
    "Value": "engine", "topological_order": "engine", "forward": "engine", "backward": "engine",
    "draw_dot": "drawing", "live": "page", "Op": "ops", "register": "rules",
    "AutodiffError": "errors", "SourceError": "errors", "DomainError": "errors",
}
__all__ = sorted(_EXPORTS)


def __dir__() -> list[str]:
    """The API's names too (they load lazily), so a notebook's tab completion finds them."""
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
