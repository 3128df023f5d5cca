"""Shapes of every network part (integer and non-integer ratios), gradients, sampler determinism."""
import pytest
import torch

from dsr_diff_ros.model import CFE, DFE, DSRN, FFM, GGN, GRN, DSRDiff, ModelConfig
from dsr_diff_ros.model.diffusion import LatentDiffusion
from dsr_diff_ros.model.preprocess import fill_holes, prepare

CFG = ModelConfig(dim=16, heads=2, dfe_blocks=1, cfe_blocks=1, fuse_blocks=1, z_ch=4, z_embed=8, ggn_channels=8,
                  grn_channels=8)


@pytest.mark.parametrize("lr_hw, rgb_hw", [((24, 32), (96, 128)),    # x4
                                            ((36, 48), (96, 128)),    # x2.67 (ToF under a bigger RGB)
                                            ((6, 8), (96, 128)),      # x16
                                            ((25, 31), (99, 125))])   # odd sizes, not multiples of 4
def test_end_to_end_shapes(lr_hw, rgb_hw):
    torch.manual_seed(0)
    m = DSRDiff(CFG).eval()
    d = torch.rand(2, 1, *lr_hw) * 3 + 0.5
    rgb = torch.rand(2, 3, *rgb_hw)
    with torch.no_grad():
        for steps in range(1, CFG.timesteps + 1):
            assert m(d, rgb, steps=steps).shape == (2, 1, *rgb_hw)
        assert m(d, rgb, depth_hr=torch.rand(2, 1, *rgb_hw) + 1).shape == (2, 1, *rgb_hw)


def test_module_shapes():
    B, H, W, h, w = 2, 64, 96, 12, 20
    u, zd = CFG.unshuffle, CFG.unshuffle * CFG.z_down
    z = torch.rand(B, CFG.z_ch, H // zd, W // zd) * 2 - 1
    e = torch.randn(B, CFG.z_embed, 5, 7)  # any grid: groups resize the prior embedding
    lr = torch.rand(B, 2, h, w)
    rgb = torch.rand(B, 3, H, W)
    grid = torch.rand(B, 2, H // u, W // u)
    assert DFE(CFG)(lr, e).shape == (B, CFG.dim, h, w)
    assert CFE(CFG)(rgb, e).shape == (B, CFG.dim, H // u, W // u)
    assert FFM(CFG.dim)(torch.rand(B, CFG.dim, h, w), torch.rand(B, CFG.dim, H // u, W // u)).shape == \
        (B, CFG.dim, H // u, W // u)
    assert FFM(CFG.dim, "concat")(torch.rand(B, CFG.dim, h, w), torch.rand(B, CFG.dim, 16, 24)).shape == \
        (B, CFG.dim, 16, 24)
    res, feat = DSRN(CFG)(lr, rgb, grid[:, :1], z)
    assert res.shape == (B, 1, H, W) and feat.shape == (B, CFG.dim, H // CFG.unshuffle, W // CFG.unshuffle)
    zg = GGN(CFG)(torch.rand(B, 1, H, W), rgb, grid)
    assert zg.shape == (B, CFG.z_ch, H // zd, W // zd) and zg.abs().max() < 1
    assert GRN(CFG)(rgb, grid, steps=2).shape == (B, CFG.z_ch, H // zd, W // zd)
    with pytest.raises(ValueError):
        FFM(8, "add")


def test_gradients_reach_every_part():
    torch.manual_seed(0)
    m = DSRDiff(CFG)
    torch.nn.init.normal_(m.dsrn.head.weight, std=0.05)  # the zero-initialised head would block the check
    d = torch.rand(2, 1, 16, 16) + 0.5
    rgb = torch.rand(2, 3, 64, 64)
    hr = torch.rand(2, 1, 64, 64) + 0.5
    m(d, rgb, depth_hr=hr).mean().backward()      # stage 1 path: GGN + DSRN
    m(d, rgb, steps=CFG.timesteps).mean().backward()  # stage 2 path: GRN + DSRN
    no_grad = [n for n, p in m.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert no_grad == []


def test_prior_gets_gradient_from_the_first_step():
    """The first implementation zero-initialised the modulations, so z had no gradient at the start and its prior
    collapsed to a constant. Now a freshly built model (only the residual head is zero) passes gradient to z."""
    torch.manual_seed(0)
    m = DSRDiff(CFG)
    torch.nn.init.normal_(m.dsrn.head.weight, std=0.05)
    p = m.prepare(torch.rand(1, 1, 16, 16) + 0.5, torch.rand(1, 3, 64, 64))
    z = (torch.rand(1, CFG.z_ch, 8, 8) * 2 - 1).requires_grad_()
    m.run(None, None, z=z, prepared=p).norm.square().mean().backward()
    assert z.grad is not None and z.grad.abs().mean() > 1e-6


def test_sampler_deterministic_and_steps():
    diff = LatentDiffusion(4, 0.1, 0.99)
    assert [round(float(b), 3) for b in 1 - diff.alphas_cumprod[:1]] == [0.1]
    assert diff.timesteps_for(4) == [3, 2, 1, 0]
    assert diff.timesteps_for(2) == [3, 0]
    assert diff.timesteps_for(1) == [3]
    with pytest.raises(ValueError):
        diff.timesteps_for(5)
    m = GRN(CFG).eval()
    rgb, grid = torch.rand(1, 3, 32, 32), torch.rand(1, 2, 8, 8)
    with torch.no_grad():
        outs = {s: m(rgb, grid, s) for s in (1, 2, 3, 4)}
        assert torch.equal(outs[2], m(rgb, grid, 2))  # deterministic
        assert torch.equal(outs[2], m(rgb, grid, 2, seed=0)) and not torch.equal(outs[2], m(rgb, grid, 2, seed=1))
    assert not torch.allclose(outs[1], outs[4])


def test_fill_holes_and_normalisation():
    d = torch.full((1, 1, 8, 8), 2.0)
    m = torch.ones_like(d)
    m[..., 2:5, 2:5] = 0
    f = fill_holes(d * m, m)
    assert torch.allclose(f, d)
    p = prepare(torch.where(m > 0, d, torch.full_like(d, float("nan"))), torch.rand(1, 3, 30, 30), 4)
    assert float(p.scale) == 2.0 and p.rgb.shape[-2:] == (32, 32) and p.hw == (30, 30)
    assert torch.isfinite(p.lr).all() and p.lr[0, 1].sum() == 64 - 9


def test_output_stays_within_the_measured_range():
    """However far the network overshoots, the metric output lies in [0, farthest valid input depth]."""
    torch.manual_seed(0)
    m = DSRDiff(CFG).eval()
    lr = 1 + 2 * torch.rand(1, 1, 12, 16)
    lr[..., :3, :3] = 0                                          # a hole
    rgb = torch.rand(1, 3, 48, 64)
    for bias in (5.0, -5.0):
        torch.nn.init.constant_(m.dsrn.head.bias, bias)
        with torch.no_grad():
            out = m(lr, rgb, steps=1)
        assert out.min() >= 0 and out.max() <= lr.max() * (1 + 1e-6)
        assert torch.allclose(out, torch.full_like(out, float(lr.max())) if bias > 0 else torch.zeros_like(out))


@pytest.mark.parametrize("hw", [(381, 432), (99, 125), (96, 128)])
def test_lr_depth_stays_aligned_with_an_image_that_is_not_a_multiple_of_u(hw):
    """The colour is padded to multiples of u; the LR depth spans the image, not the padded canvas. The shipped
    model once stretched the LR over the canvas (up to u-1 px at the far border), which made it worse than bicubic
    on Middlebury-sized frames (e.g. 381x432). A smooth ramp must come back where it was."""
    H, W = hw

    def plane(h, w):  # metres, a plane over the image extent sampled at the centres of an h x w grid
        y, x = torch.meshgrid((torch.arange(h) + 0.5) / h, (torch.arange(w) + 0.5) / w, indexing="ij")
        return (1 + x + 0.5 * y)[None, None]

    hr, lr = plane(H, W), plane(round(H / 4), round(W / 4))
    p = prepare(lr, torch.rand(1, 3, H, W), 4)
    base = p.base[..., :H, :W] * p.scale
    inner = (slice(None), slice(None), slice(8, H - 8), slice(8, W - 8))
    bicubic = torch.nn.functional.interpolate(lr, size=(H, W), mode="bicubic", align_corners=False)
    assert torch.allclose(base, bicubic, atol=1e-5)
    assert (base - hr)[inner].abs().max() < 3e-3                      # the stretched version: 2.9e-2 at 99x125
    # the working-grid copy of the LR depth sits at the same place as the image's own cells
    u = 4
    cells = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(hr, (0, p.rgb.shape[-1] - W, 0,
                                                                       p.rgb.shape[-2] - H), mode="replicate"), u)
    gh, gw = H // u - 2, W // u - 2
    assert (p.lr_grid[:, :1] * p.scale - cells)[..., 2:gh, 2:gw].abs().max() < 3e-3


def test_resample_matches_interpolate_when_extents_agree():
    from dsr_diff_ros.model.preprocess import resample

    x = torch.rand(2, 3, 7, 9)
    assert torch.equal(resample(x, (14, 18)), torch.nn.functional.interpolate(x, size=(14, 18), mode="bilinear",
                                                                              align_corners=False))
    # a grid covering half the canvas: its samples on the full canvas repeat its border beyond it
    y = resample(x, (14, 18), extent_in=(0.5, 0.5))
    assert torch.allclose(y[..., 10:, 12:], x[..., -1:, -1:].expand(-1, -1, 4, 6), atol=1e-6)


def test_refinement_starts_as_the_identity_and_learns():
    from dsr_diff_ros.model.refine import HRRefine

    torch.manual_seed(0)
    base = DSRDiff(CFG).eval()
    grown = DSRDiff(ModelConfig(**{**CFG.to_dict(), "refine_ch": 4})).eval()
    grown.load_state_dict(base.state_dict(), strict=False)
    d, rgb = torch.rand(1, 1, 12, 16) + 1, torch.rand(1, 3, 48, 64)
    with torch.no_grad():
        assert torch.equal(base(d, rgb, steps=2), grown(d, rgb, steps=2))
    r = HRRefine(4)
    r(torch.rand(1, 1, 8, 8), torch.rand(1, 3, 8, 8)).sum().backward()
    assert r.body[-1].weight.grad.abs().sum() > 0
    # DSRN's features into the refinement: the identity at first, then a learned input
    rf = HRRefine(4, feat_ch=2, dim=8, u=4)
    with torch.no_grad():
        rf.body[-1].weight.normal_()
    x, c, f = torch.rand(1, 1, 8, 8), torch.rand(1, 3, 8, 8), torch.rand(1, 8, 2, 2)
    with torch.no_grad():
        assert torch.equal(rf(x, c, f), rf(x, c, torch.zeros_like(f)))
    rf(x, c, f).sum().backward()
    assert rf.feat_in.weight.grad.abs().sum() > 0
