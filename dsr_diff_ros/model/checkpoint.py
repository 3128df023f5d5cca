"""Weights files: ``<name>.safetensors`` (tensors) + ``<name>.json`` (config and provenance). Never pickle."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .config import ModelConfig
from .dsr_diff import DSRDiff

FORMAT = "dsr_diff_ros/weights-v1"


class WeightsError(ValueError):
    """A weights file that is missing, truncated, corrupt, or not a DSR-Diff checkpoint."""


def paths_for(path: str | os.PathLike) -> tuple[Path, Path]:
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".safetensors", ".json") else p
    return stem.with_suffix(".safetensors"), stem.with_suffix(".json")


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_weights(model: DSRDiff, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write the model's tensors and a JSON with its architecture config, ``meta`` (provenance) and the
    SHA-256 of the safetensors file (``safetensors_sha256``, checked by ``load_weights``)."""
    st, js = paths_for(path)
    st.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(tensors, str(st), metadata={"format": FORMAT})
    meta = {k: v for k, v in (meta or {}).items() if k != "safetensors_sha256"}
    js.write_text(json.dumps({"format": FORMAT, "model": model.cfg.to_dict(), **meta,
                              "safetensors_sha256": sha256_file(st)}, indent=2))
    return st


def verify_hash(st: Path, js: Path, cfg: dict) -> None:
    """Raise WeightsError when ``st`` does not have the SHA-256 recorded in ``cfg`` (older JSONs without
    ``safetensors_sha256`` are not checked)."""
    want = cfg.get("safetensors_sha256")
    if want is None:
        return
    got = sha256_file(st)
    if got != str(want).lower():
        raise WeightsError(f"{st}: damaged weights file: SHA-256 {got[:16]}... differs from the "
                           f"{str(want)[:16]}... recorded in {js.name} (re-download or re-export it)")


def read_config(path: str | os.PathLike) -> dict:
    st, js = paths_for(path)
    try:
        cfg = json.loads(js.read_text())
    except FileNotFoundError:
        raise WeightsError(f"{js}: config JSON not found (a checkpoint is <name>.safetensors + <name>.json)") from None
    except json.JSONDecodeError as e:
        raise WeightsError(f"{js}: not valid JSON ({e})") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT or "model" not in cfg:
        raise WeightsError(f"{js}: not a dsr_diff_ros weights config (format {FORMAT!r} expected)")
    return cfg


def load_weights(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> tuple[DSRDiff, dict]:
    """Build the model from the JSON config and load the tensors, validating names and shapes."""
    st, js = paths_for(path)
    cfg = read_config(path)
    try:
        model = DSRDiff(ModelConfig.from_dict(cfg["model"]))
    except (TypeError, ValueError) as e:
        raise WeightsError(f"{js}: invalid model config ({e})") from None
    if not st.exists():
        raise WeightsError(f"{st}: weights file not found")
    verify_hash(st, js, cfg)
    try:
        tensors = load_file(str(st), device=str(map_location))
    except (SafetensorError, OSError, RuntimeError) as e:
        raise WeightsError(f"{st}: corrupt or truncated safetensors file ({e})") from None
    expected = model.state_dict()
    missing, unexpected = set(expected) - set(tensors), set(tensors) - set(expected)
    if missing or unexpected:
        raise WeightsError(f"{st}: tensors do not match the architecture in {js.name} "
                           f"(missing {sorted(missing)[:3]}..., unexpected {sorted(unexpected)[:3]}...)")
    bad = [k for k in expected if expected[k].shape != tensors[k].shape]
    if bad:
        raise WeightsError(f"{st}: shape mismatch for {bad[:3]}")
    model.load_state_dict(tensors)
    return model, cfg
