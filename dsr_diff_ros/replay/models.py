"""What the replay runs: the DSR-Diff ``Upscaler`` (default) or a classical baseline behind the same interface
(``--model bicubic``: plumbing checks, benchmarks of the replay overhead, machines without the weights)."""
from __future__ import annotations

from typing import Optional

from ..evaluation import baselines


class BaselineUpscaler:
    """An Upscaler-compatible wrapper of ``evaluation.baselines.<name>`` (no diffusion steps; ``ensemble`` is
    accepted and ignored: a baseline runs once)."""

    num_steps = 1
    default_steps = 1
    device = "cpu"

    def __init__(self, name: str = "bicubic"):
        self.method = baselines.get_method(name)
        self.model_id = f"baseline:{name}"

    def upscale(self, depth_lr_m, rgb_u8, steps=None, fill_holes=True, ensemble=None):
        return self.method(depth_lr_m, rgb_u8, fill_holes=fill_holes)

    def warmup(self, *a, **k) -> None:
        pass


def load_model(model: str = "dsr_diff", weights: Optional[str] = None, device: str = "auto", experts: str = "auto"):
    """``dsr_diff`` -> ``Upscaler.from_pretrained(weights, device)`` (experts "sensor": the sensor expert alone);
    a baseline name -> ``BaselineUpscaler``.

    Raises RuntimeError with a clear message when the weights cannot be found."""
    if model in ("dsr_diff", "dsr-diff", "model"):
        try:
            from ..inference import Upscaler
        except ImportError as e:
            raise RuntimeError(f"the DSR-Diff Upscaler is not available ({e}); use --model bicubic to run the "
                               "replay plumbing with a baseline") from None
        try:
            return Upscaler.from_pretrained(weights, device=device, experts=experts == "auto")
        except FileNotFoundError as e:
            raise RuntimeError(f"DSR-Diff weights not found ({e}); pass --weights PATH, or --model bicubic to run "
                               "the replay plumbing with a baseline") from None
    return BaselineUpscaler(model)
