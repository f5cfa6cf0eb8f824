"""Hatch build hook: generate the Lark parser from grammar/autodiff.lark at build time.

The generated module is not kept in git.  Wheels get it force-included; an
editable install writes it into the source tree, where the editable import
path finds it.  See scripts/generate_parser.py for what is generated and why.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ROOT = Path(__file__).resolve().parent
GENERATED = "autodiff_cli/_generated_parser.py"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_parser", ROOT / "scripts" / "generate_parser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ParserBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        target = ROOT / GENERATED
        target.write_text(_generator().generate(), encoding="utf-8")
        if version != "editable":
            build_data["force_include"][str(target)] = GENERATED
