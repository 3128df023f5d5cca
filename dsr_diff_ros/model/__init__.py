"""DSR-Diff networks: GGN (guidance generation), DSRN (DFE + CFE + FFM), GRN (guidance recovery diffusion)."""
from .config import ModelConfig
from .dsr_diff import DSRDiff
from .dsrn import CFE, DFE, DSRN, FFM
from .ggn import GGN
from .grn import GRN

__all__ = ["ModelConfig", "DSRDiff", "GGN", "DSRN", "DFE", "CFE", "FFM", "GRN"]
