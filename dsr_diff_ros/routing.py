"""The expert routing a weights JSON declares: which networks serve which frames, and the thresholds.

The main weights (the sensor expert) name the others in their JSON; ``parse_routing`` checks those entries and
returns them as dataclasses, ``Upscaler.from_pretrained`` loads the networks they name. Entries (all optional):

- ``"clean_expert": {"weights": NAME, "max_sigma": S, "min_valid": V, "name": LABEL, "bands": [{"weights": NAME,
  "max_ratio": R > 1, "name": LABEL, "max_sigma": S}, ...]}``: hole-free frames with measured noise <= S;
- ``"holes_expert": {"weights": NAME, "max_valid": V, "name": LABEL, "max_ratio": R > 1}``: frames with holes;
- ``"hole_fill": {"max_valid": V in [0, 1], "hedge_max_valid": H in [0, 1]}``: nearest-fill and hedge rules;
- ``"sparse_expert": {"weights": NAME, "max_valid": V in [0, 1], "min_ratio": R, "name": LABEL}``.

What each rule does at run time: ``Upscaler``'s docstring.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model.checkpoint import WeightsError

_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


@dataclass(frozen=True)
class CleanBand:
    """A clean expert for calls whose ratio is at most ``max_ratio`` (with its own noise limit when given)."""
    weights: str
    max_ratio: float
    name: str
    max_sigma: float | None = None


@dataclass(frozen=True)
class CleanRoute:
    weights: str
    max_sigma: float
    min_valid: float = 0.999
    name: str = "clean"
    bands: tuple[CleanBand, ...] = ()


@dataclass(frozen=True)
class HolesRoute:
    weights: str
    max_valid: float
    name: str = "sensor_holes"
    max_ratio: float = float("inf")


@dataclass(frozen=True)
class HoleFill:
    max_valid: float = 0.0
    hedge_max_valid: float = 0.0


@dataclass(frozen=True)
class SparseRoute:
    weights: str
    max_valid: float
    min_ratio: float = 1.0
    name: str = "sparse"


@dataclass(frozen=True)
class Routing:
    """Everything a weights JSON says about experts; the defaults route every frame to the main weights."""
    clean: CleanRoute | None = None
    holes: HolesRoute | None = None
    fill: HoleFill | None = None
    sparse: SparseRoute | None = None


def _clean(spec) -> CleanRoute:
    bands = tuple(CleanBand(str(b["weights"]), float(b["max_ratio"]), str(b.get("name", b["weights"])),
                            float(b["max_sigma"]) if "max_sigma" in b else None) for b in spec.get("bands", []))
    if any(not b.max_ratio > 1 for b in bands):
        raise ValueError("max_ratio <= 1")
    return CleanRoute(str(spec["weights"]), float(spec["max_sigma"]), float(spec.get("min_valid", 0.999)),
                      str(spec.get("name", "clean")), bands)


def _holes(spec) -> HolesRoute:
    r = HolesRoute(str(spec["weights"]), float(spec["max_valid"]), str(spec.get("name", "sensor_holes")),
                   float(spec.get("max_ratio", float("inf"))))
    if not r.max_ratio > 1:
        raise ValueError("max_ratio <= 1")
    return r


def _fill(spec) -> HoleFill:
    f = HoleFill(float(spec["max_valid"]), float(spec.get("hedge_max_valid", 0.0)))
    if not (0.0 <= f.max_valid <= 1.0 and 0.0 <= f.hedge_max_valid <= 1.0):
        raise ValueError("max_valid outside [0, 1]")
    return f


def _sparse(spec) -> SparseRoute:
    r = SparseRoute(str(spec["weights"]), float(spec["max_valid"]), float(spec.get("min_ratio", 1.0)),
                    str(spec.get("name", "sparse")))
    if not 0.0 <= r.max_valid <= 1.0:
        raise ValueError("max_valid outside [0, 1]")
    return r


_ENTRIES = {   # JSON key: (parser, the schema named in the error)
    "clean_expert": (_clean, '{"weights": NAME, "max_sigma": S, "min_valid": V, "bands": [{"weights": NAME, '
                             '"max_ratio": R > 1, "max_sigma": S}, ...]}'),
    "holes_expert": (_holes, '{"weights": NAME, "max_valid": V, "name": LABEL, "max_ratio": R > 1}'),
    "hole_fill": (_fill, '{"max_valid": V in [0, 1], "hedge_max_valid": H in [0, 1] (optional)}'),
    "sparse_expert": (_sparse, '{"weights": NAME, "max_valid": V in [0, 1], "min_ratio": R, "name": LABEL}'),
}


def parse_routing(cfg: dict, where: str) -> Routing:
    """The routing entries of a weights JSON (``cfg``) as a ``Routing``; an entry that is absent, null or empty
    keeps its default. ``WeightsError`` naming ``where`` (the JSON file) and the expected schema otherwise."""
    parsed = {}
    for key, (parse, schema) in _ENTRIES.items():
        spec = cfg.get(key)
        if not spec:
            continue
        try:
            parsed[key] = parse(spec)
        except _ERRORS:
            raise WeightsError(f"{where}: {key} must be {schema}, got {spec!r}") from None
    return Routing(parsed.get("clean_expert"), parsed.get("holes_expert"), parsed.get("hole_fill"),
                   parsed.get("sparse_expert"))
