"""GPU probe that decided the self-ensemble's batching (twelfth session, one H200): 8 copies run in turn (the code
then) vs the copies of each orientation stacked into one batch of 4, done here at the API level. Writes
$OUT/ens_probe.json (or /tmp); the result is bench/results/ensemble_cuda_probe.json. The Upscaler now stacks the
copies on CUDA itself (``ensemble_batch``); ``bench_model.py --device cuda`` times the shipped code both ways.
Its "max_abs_diff_m" predates GRN's per-frame noise (each batch position then drew its own noise)."""
import json, sys, time
import numpy as np, torch
sys.path.insert(0, ".")
from dsr_diff_ros.inference import Upscaler
from dsr_diff_ros.model.ensemble import TRANSFORMS
sys.path.insert(0, "bench")
from bench_model import latency_input, clean_latency_input

up = Upscaler.from_pretrained(device="cuda")
up.ensemble_batch = 1   # ensemble=8 below: one copy per pass (the code the probe compared against)
def t(fn, n=15):
    for _ in range(3): fn()
    torch.cuda.synchronize(); xs = []
    for _ in range(n):
        s = time.perf_counter(); fn(); torch.cuda.synchronize(); xs.append((time.perf_counter() - s) * 1e3)
    return round(float(np.median(xs)), 2)
res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
for kind, (d, r) in (("noisy", latency_input()), ("clean", clean_latency_input())):
    dt = torch.from_numpy(d)[None, None].cuda(); rt = torch.from_numpy(r).permute(2, 0, 1)[None].cuda()
    def batched():
        out = 0
        for grp in (TRANSFORMS[:4], TRANSFORMS[4:]):
            y = up.upscale(torch.cat([f(dt) for f, _ in grp]), torch.cat([f(rt) for f, _ in grp]), ensemble=1)
            out = out + sum(inv(y[i:i + 1]) for i, (_, inv) in enumerate(grp))
        return out / 8
    seq = lambda: up.upscale(dt, rt, ensemble=8)
    a, b = seq(), batched()
    res[kind] = {"expert": up.experts(d, r)[0], "ms_ens1": t(lambda: up.upscale(dt, rt, ensemble=1)),
                 "ms_ens8_sequential": t(seq), "ms_ens8_batched_2x4": t(batched),
                 "max_abs_diff_m": float((a - b).abs().nan_to_num().max())}
    print(kind, res[kind], flush=True)
print(json.dumps(res, indent=1))
import os; json.dump(res, open(os.path.join(os.environ.get("OUT", "/tmp"), "ens_probe.json"), "w"), indent=1)
