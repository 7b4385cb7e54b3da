"""The documented JSON schema of ``mlcalc ... --json`` (and of ``summary.json``).

Every command prints one envelope::

    {"schema_version": 1, "command": "inspect", "mlcalc_version": "0.1.0", "seed": 0,
     "elapsed_s": 1.2, "report": "out/index.html" | null, "warnings": [...],
     "result": {...}}

whose ``result`` has the command's own schema below. Schemas are written in a subset of
JSON Schema (draft 2020-12 keywords ``type``, ``properties``, ``required``,
``additionalProperties``, ``items``, ``enum``, ``minItems``, ``anyOf``), so any JSON
Schema validator accepts them; :func:`validate` checks that subset without one.
Numbers that are not finite (NaN, ±inf) are written as ``null``; fields that may hold
them have type ``["number", "null"]``. New fields may be added in later versions
(consumers should ignore unknown keys); a removal or a change of meaning raises
``schema_version``.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["SCHEMA_VERSION", "SCHEMAS", "ENVELOPE", "schema_for", "validate"]

SCHEMA_VERSION = 1

NUM = {"type": ["number", "null"]}
INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
VEC = {"type": "array", "items": NUM}
MAT = {"type": "array", "items": VEC}
STRS = {"type": "array", "items": STR}
BOUNDS = {"type": "array", "items": {"type": "array", "items": NUM, "minItems": 2}}
KIND = {"type": "string", "enum": ["minimum", "maximum", "saddle", "degenerate"]}


def _obj(required: dict, optional: dict | None = None) -> dict:
    props = dict(required)
    props.update(optional or {})
    return {"type": "object", "properties": props, "required": list(required)}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


INSPECT = _obj({
    "expression": STR,
    "sympy": STR,
    "variables": STRS,
    "point": _nullable(_obj({
        "x": VEC,
        "value": NUM,
        "gradient": _obj({"symbolic": STRS, "exact": VEC, "ad": VEC, "max_abs_diff": NUM}),
        "hessian": _obj({"symbolic": {"type": "array", "items": STRS}, "exact": MAT,
                         "ad": MAT, "max_abs_diff": NUM}),
        "eigenvalues": VEC,
        "classification": _obj({"kind": KIND, "index": INT, "is_critical": BOOL,
                                "degenerate": BOOL, "grad_norm": NUM, "message": STR}),
        "taylor": _obj({"order": INT, "polynomial": STR,
                        "check": {"type": "array", "items": _obj(
                            {"h": NUM, "f": NUM, "model": NUM, "error": NUM})}}),
    })),
    "critical_points": _nullable(_obj({
        "bounds": BOUNDS,
        "n_starts": INT,
        "n_converged": INT,
        "counts": _obj({k: INT for k in ("minimum", "maximum", "saddle", "degenerate")}),
        "points": {"type": "array", "items": _obj({
            "x": VEC, "value": NUM, "kind": KIND, "index": INT, "eigenvalues": VEC,
            "grad_norm": NUM, "hits": INT})},
    })),
})

OPTIMIZE = _obj({
    "expression": STR,
    "sympy": STR,
    "variables": STRS,
    "start": VEC,
    "tol": NUM,
    "maxiter": INT,
    "methods": {"type": "array", "minItems": 1, "items": _obj({
        "method": STR,
        "iterations": INT,
        "evaluations": INT,
        "gradient_evaluations": INT,
        "hessian_evaluations": INT,
        "final_f": NUM,
        "f_gap": NUM,
        "grad_norm": NUM,
        "x": VEC,
        "success": BOOL,
        "status": INT,
        "message": STR,
        "rate": _obj({"order": {"type": "string", "enum": [
            "quadratic", "superlinear", "linear", "sublinear", "unknown"]},
            "factor": NUM, "q": NUM, "text": STR}),
    })},
    "minimum": _obj({"x": VEC, "f": NUM, "kind": KIND, "source": STR}),
    "bounds": _nullable(BOUNDS),
})

FIELD = _obj({
    "components": STRS,
    "sympy": STRS,
    "variables": STRS,
    "dim": {"type": "integer", "enum": [2, 3]},
    "divergence": STR,
    "curl": {"anyOf": [STR, STRS]},
    "conservative": BOOL,
    "symbolic_curl_zero": BOOL,
    "test": _obj({"bounds": BOUNDS, "n_samples": INT, "max_asymmetry": NUM,
                  "max_relative": NUM, "worst_point": VEC}),
    "potential": _nullable(_obj({"symbolic": _nullable(STR), "base_point": VEC,
                                 "max_abs_diff": NUM})),
    "at": _nullable(_obj({"x": VEC, "F": VEC, "divergence": NUM, "divergence_exact": NUM,
                          "curl": {"anyOf": [NUM, VEC]},
                          "curl_exact": {"anyOf": [NUM, VEC]}})),
})

INTEGRATE = _obj({
    "expression": STR,
    "sympy": STR,
    "variables": STRS,
    "region": _obj({"kind": {"type": "string", "enum": [
        "box", "disk", "annulus", "ball", "triangle", "simplex"]}, "spec": STR}),
    "value": NUM,
    "error": NUM,
    "method": {"type": "string", "enum": ["gauss", "adaptive", "mc", "qmc"]},
    "nfev": INT,
    "success": BOOL,
    "message": STR,
    "rtol": NUM,
    "atol": NUM,
})

LANDSCAPE = _obj({
    "problem": _obj({"model": STR, "data": STR, "name": STR, "n_parameters": INT,
                     "n_examples": INT}),
    "training": _obj({"method": STR, "steps": INT, "learning_rate": NUM,
                      "initial_loss": NUM, "final_loss": NUM, "accuracy": NUM,
                      "polish": _nullable(_obj({"method": STR, "steps": INT,
                                                "final_loss": NUM, "message": STR}))}),
    "spectrum": _obj({"top": VEC, "bottom": VEC, "kind": STR,
                      "trace": _nullable(_obj({"estimate": NUM, "stderr": NUM,
                                               "method": STR}))}),
    "density": _nullable(_obj({"n_points": INT, "lambda_min": NUM, "lambda_max": NUM,
                               "negative_mass": NUM})),
    "critical_point": _nullable(_obj({"verdict": KIND, "grad_norm": NUM, "index": INT,
                                      "is_critical": BOOL, "message": STR})),
    "slices": _obj({"slice_1d": _nullable(_obj({"n": INT, "min": NUM, "max": NUM})),
                    "slice_2d": _nullable(_obj({"shape": {"type": "array", "items": INT},
                                                "min": NUM, "max": NUM}))}),
    "interpolation": _nullable(_obj({"barrier": NUM, "loss_init": NUM, "loss_final": NUM,
                                     "n": INT})),
    "missing": STRS,
})

SCHEMAS: dict[str, dict] = {
    "inspect": INSPECT,
    "optimize": OPTIMIZE,
    "field": FIELD,
    "integrate": INTEGRATE,
    "landscape": LANDSCAPE,
}

ENVELOPE = _obj({
    "schema_version": {"type": "integer", "enum": [SCHEMA_VERSION]},
    "command": {"type": "string", "enum": list(SCHEMAS)},
    "mlcalc_version": STR,
    "seed": INT,
    "elapsed_s": NUM,
    "report": _nullable(STR),
    "warnings": STRS,
    "result": {"type": "object"},
})


def schema_for(command: str) -> dict:
    """The full schema of ``mlcalc COMMAND --json``: the envelope with that command's
    ``result`` schema (a fresh copy)."""
    if command not in SCHEMAS:
        raise KeyError(f"no schema for {command!r}; commands: {', '.join(SCHEMAS)}")
    s = copy.deepcopy(ENVELOPE)
    s["properties"]["result"] = copy.deepcopy(SCHEMAS[command])
    s["properties"]["command"] = {"type": "string", "enum": [command]}
    return s


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def validate(instance: Any, schema: dict, path: str = "$") -> list[str]:
    """The list of violations of ``schema`` by ``instance`` (empty when valid), each
    naming the JSON path, for the keywords listed in the module docstring."""
    errors: list[str] = []
    if "anyOf" in schema:
        if all(validate(instance, s, path) for s in schema["anyOf"]):
            errors.append(f"{path}: matches none of the allowed forms")
        return errors
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_TYPES[t](instance) for t in types):
            return [f"{path}: expected {' or '.join(types)}, got {type(instance).__name__}"]
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{path}: {instance!r} is not one of {schema['enum']}")
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            if key not in instance:
                errors.append(f"{path}: missing required key {key!r}")
        props = schema.get("properties", {})
        for key, value in instance.items():
            if key in props:
                errors += validate(value, props[key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected key {key!r}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0):
            errors.append(f"{path}: expected at least {schema['minItems']} items")
        if "items" in schema:
            for i, item in enumerate(instance):
                errors += validate(item, schema["items"], f"{path}[{i}]")
    return errors
