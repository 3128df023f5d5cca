"""Procedural RGB-D scene generator (vectorised NumPy ray casting), deterministic per seed.

A room (floor, ceiling, four walls) holding boxes, spheres, cylinders and thin structures (bars: legs, poles,
rails; racks: chair backs, railings, blinds of parallel slats with gaps), seen by a pinhole camera. Surfaces get
varied textures (solid, checker, stripes, smooth noise, high-frequency 'posters' on flat walls) so that colour
edges often carry no depth edge and the model must learn not to copy texture into depth; Lambertian lighting
from a point light with ambient; occlusion edges wherever objects overlap.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frame import Intrinsics


@dataclass
class SceneSample:
    rgb: np.ndarray          # (H, W, 3) uint8
    depth: np.ndarray        # (H, W) float32 metres (z in the optical frame), all valid
    intrinsics: Intrinsics


def _rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _hit_box(o: np.ndarray, d: np.ndarray, c: np.ndarray, half: np.ndarray, Rb: np.ndarray, best_t: np.ndarray):
    """Slab test of rays (o, d (N, 3)) against the box centred at c with half-extents ``half`` along the columns of
    ``Rb``. Returns (hit (N,) bool: nearer than best_t, t (N,), world normal (N, 3))."""
    n = d.shape[0]
    ol, dl = (o - c) @ Rb, d @ Rb
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (-half - ol) / dl, (half - ol) / dl
        tmin, tmax = np.nanmax(np.minimum(t1, t2), 1), np.nanmin(np.maximum(t1, t2), 1)
    hit = (tmax >= tmin) & (tmin > 1e-3) & (tmin < best_t)
    axb = np.argmax(np.minimum(t1, t2), 1)
    nl = np.zeros((n, 3))
    nl[np.arange(n), axb] = -np.sign(dl[np.arange(n), axb])
    return hit, tmin, nl @ Rb.T


def _thin_parts(kind: str, c: np.ndarray, extent: float, rng: np.random.Generator, scale: float) -> list[tuple]:
    """Boxes (centre, half-extents, rotation) of a thin structure of half-length ~``extent``. 'bar': one leg / pole /
    rail, 0.8-8 cm thick; 'rack': 3-7 parallel slats with gaps and a cross rail (chair back, railing; lying: blinds,
    shelf)."""
    long_ = extent * rng.uniform(0.8, 2.0)
    thin = min(np.exp(rng.uniform(np.log(0.004), np.log(0.04))) * scale, long_ / 4)
    R = _rot_y(rng.uniform(0, np.pi))
    if rng.random() < 0.3:
        R = R @ _rot_z(np.pi / 2)  # lying: rails, blinds
    if kind == "bar":
        return [(c, np.array([thin, long_, thin * rng.uniform(0.5, 2.0)]), R)]
    k = int(rng.integers(3, 8))
    pitch = thin * 2 * rng.uniform(1.5, 4.0)
    depth = thin * rng.uniform(0.5, 2.0)
    parts = [(c + R @ np.array([(j - (k - 1) / 2) * pitch, 0.0, 0.0]), np.array([thin, long_, depth]), R)
             for j in range(k)]
    rail = np.array([k * pitch / 2 + thin, thin * rng.uniform(1.0, 3.0), depth])
    parts.append((c + R @ np.array([0.0, long_, 0.0]), rail, R))
    return parts


class _Texture:
    """A random 2-D texture evaluated at surface coordinates (u, v) in metres -> (N, 3) albedo in [0, 1]."""

    def __init__(self, rng: np.random.Generator, flat: bool):
        kinds = ["solid", "checker", "stripes", "noise", "poster"] if flat else ["solid", "checker", "stripes", "noise"]
        p = [0.2, 0.2, 0.2, 0.15, 0.25] if flat else [0.35, 0.25, 0.2, 0.2]
        self.kind = rng.choice(kinds, p=p)
        self.c0, self.c1 = rng.random(3) * 0.9 + 0.05, rng.random(3) * 0.9 + 0.05
        self.freq = rng.uniform(1.0, 12.0) if self.kind != "poster" else rng.uniform(8.0, 40.0)
        self.angle = rng.uniform(0, np.pi)
        self.table = rng.random((32, 32)).astype(np.float32)
        if self.kind == "poster":   # a rectangle of busy texture on a plain surface
            self.box = (rng.uniform(-1.5, 1.0), rng.uniform(0.3, 1.5), rng.uniform(0.4, 2.5), rng.uniform(0.3, 1.5))
            self.palette = rng.random((6, 3))

    def _noise(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        x, y = (u * self.freq) % 32, (v * self.freq) % 32
        x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
        fx, fy = x - x0, y - y0
        t = self.table
        x1, y1 = (x0 + 1) % 32, (y0 + 1) % 32
        return ((t[y0, x0] * (1 - fx) + t[y0, x1] * fx) * (1 - fy) + (t[y1, x0] * (1 - fx) + t[y1, x1] * fx) * fy)

    def __call__(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        ca, sa = np.cos(self.angle), np.sin(self.angle)
        ru, rv = ca * u - sa * v, sa * u + ca * v
        if self.kind == "solid":
            w = np.zeros_like(u)
        elif self.kind == "checker":
            w = ((np.floor(ru * self.freq) + np.floor(rv * self.freq)) % 2).astype(np.float32)
        elif self.kind == "stripes":
            w = (np.sin(ru * self.freq * 2 * np.pi) > 0).astype(np.float32)
        elif self.kind == "noise":
            w = self._noise(u, v)
        else:
            u0, v0, bw, bh = self.box
            inside = (u > u0) & (u < u0 + bw) & (v > v0) & (v < v0 + bh)
            idx = (self._noise(u, v) * 5.99).astype(int)
            col = self.palette[idx]
            base = np.broadcast_to(self.c0, col.shape)
            return np.where(inside[:, None], col, base)
        return self.c0 * (1 - w[:, None]) + self.c1 * w[:, None]


def _uv_from_normal(p: np.ndarray, n_axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planar surface coordinates: the two world axes orthogonal to the dominant normal axis."""
    u = np.where(n_axis == 0, p[:, 2], p[:, 0])
    v = np.where(n_axis == 1, p[:, 2], p[:, 1])
    return u, v


class SceneGenerator:
    """``SceneGenerator(height, width)(seed)`` -> SceneSample. Camera fx in [0.7, 4] * width (log-uniform)."""

    def __init__(self, height: int = 128, width: int = 128, max_objects: int = 16):
        self.h, self.w, self.max_objects = height, width, max_objects

    def __call__(self, seed: int) -> SceneSample:
        rng = np.random.default_rng(seed)
        h, w = self.h, self.w
        scale = rng.choice([0.35, 1.0, 1.0, 1.0, 2.0])  # desk-sized, room-sized, hall-sized scenes
        f = np.exp(rng.uniform(np.log(0.7), np.log(4.0))) * w  # wide lenses to crops of a 640 px image
        K = Intrinsics(f, f, (w - 1) / 2 + rng.uniform(-2, 2), (h - 1) / 2 + rng.uniform(-2, 2), w, h)
        X, Y, Z = rng.uniform(1.5, 4.5) * scale, rng.uniform(2.4, 3.5) * scale, rng.uniform(1.5, 4.5) * scale
        cam = np.array([rng.uniform(-0.6, 0.6) * X, rng.uniform(0.3, 0.7) * Y, rng.uniform(-0.6, 0.6) * Z])
        R = _rot_y(rng.uniform(0, 2 * np.pi)) @ _rot_x(rng.uniform(-0.5, 0.4))
        R = R @ np.diag([1.0, -1.0, 1.0])  # optical frame: y down; world: y up
        vv, uu = np.mgrid[0:h, 0:w].astype(np.float64)
        d_cam = np.stack([(uu - K.cx) / K.fx, (vv - K.cy) / K.fy, np.ones_like(uu)], -1).reshape(-1, 3)
        d = d_cam @ R.T  # world directions; t along d equals z in the camera
        o = cam
        n = d.shape[0]
        best_t = np.full(n, np.inf)
        best_id = np.full(n, -1)
        best_nrm = np.zeros((n, 3))
        # room: exit distance of the box [-X, X] x [0, Y] x [-Z, Z]
        lo, hi = np.array([-X, 0.0, -Z]), np.array([X, Y, Z])
        with np.errstate(divide="ignore", invalid="ignore"):
            tb = np.where(d > 0, (hi - o) / d, (lo - o) / d)
        tb[~np.isfinite(tb)] = np.inf
        ax = np.argmin(tb, 1)
        best_t = tb[np.arange(n), ax]
        best_nrm[np.arange(n), ax] = -np.sign(d[np.arange(n), ax])
        wall_id = ax * 2 + (d[np.arange(n), ax] > 0)  # 6 surfaces
        best_id = wall_id.copy()
        objects: dict[int, str] = {}
        for k in range(rng.integers(2, self.max_objects + 1)):
            kind = rng.choice(["box", "sphere", "cylinder", "bar", "rack"], p=[0.4, 0.18, 0.17, 0.13, 0.12])
            size = np.exp(rng.uniform(np.log(0.05), np.log(0.7), 3)) * scale
            if rng.random() < 0.7:  # in front of the camera, anywhere in the view (floating or not)
                zc = rng.uniform(0.3, 4.0) * scale
                size = np.minimum(size, zc * w / K.fx * rng.uniform(0.05, 0.4))
                xy = rng.uniform(-0.5, 0.5, 2) * zc * np.array([w / K.fx, h / K.fy])
                c = cam + R @ np.array([xy[0], xy[1], zc])
            else:  # standing on the floor somewhere in the room
                c = np.array([rng.uniform(-X, X), size[1], rng.uniform(-Z, Z)])
            oid = 6 + k
            if np.all(np.abs(cam - c) < size + 0.05 * scale):
                continue  # never put the camera inside an object
            if kind in ("box", "bar", "rack"):
                parts = [(c, size, _rot_y(rng.uniform(0, np.pi)))] if kind == "box" else \
                    _thin_parts(kind, c, float(size.max()), rng, scale)
                for pc, half, Rb in parts:
                    if np.all(np.abs((cam - pc) @ Rb) < half + 0.02 * scale):
                        continue  # the camera would be inside this part
                    hit, t, nrm = _hit_box(o, d, pc, half, Rb, best_t)
                    best_t = np.where(hit, t, best_t)
                    best_id = np.where(hit, oid, best_id)
                    best_nrm = np.where(hit[:, None], nrm, best_nrm)
                objects[oid] = kind
                continue
            if kind == "sphere":
                r = size[0]
                c[1] = max(c[1], r)
                oc = o - c
                a, b, cc = (d * d).sum(1), 2 * (d @ oc), oc @ oc - r * r
                disc = b * b - 4 * a * cc
                t = (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a)
                hit = (disc > 0) & (t > 1e-3) & (t < best_t)
                nrm = (o + t[:, None] * d - c) / r
            else:
                r, hh = size[0], size[1]
                oc = o - c
                a = d[:, 0] ** 2 + d[:, 2] ** 2
                b = 2 * (d[:, 0] * oc[0] + d[:, 2] * oc[2])
                cc = oc[0] ** 2 + oc[2] ** 2 - r * r
                disc = b * b - 4 * a * cc
                with np.errstate(divide="ignore", invalid="ignore"):
                    t = (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a)
                y = o[1] + t * d[:, 1]
                hit = (disc > 0) & (t > 1e-3) & (t < best_t) & (np.abs(y - c[1]) < hh)
                p = o + t[:, None] * d
                nrm = np.stack([(p[:, 0] - c[0]) / r, np.zeros(n), (p[:, 2] - c[2]) / r], 1)
            best_t = np.where(hit, t, best_t)
            best_id = np.where(hit, oid, best_id)
            best_nrm = np.where(hit[:, None], nrm, best_nrm)
            objects[oid] = kind
        p = o + best_t[:, None] * d
        albedo = np.zeros((n, 3))
        n_axis = np.argmax(np.abs(best_nrm), 1)
        for oid in np.unique(best_id):
            m = best_id == oid
            flat = oid < 6 or objects[int(oid)] == "box"
            u, v = _uv_from_normal(p[m], n_axis[m])
            albedo[m] = _Texture(np.random.default_rng([seed, int(oid)]), flat)(u, v)
        light = np.array([rng.uniform(-X, X) * 0.8, Y * rng.uniform(0.6, 0.95), rng.uniform(-Z, Z) * 0.8])
        L = light - p
        dist = np.linalg.norm(L, axis=1, keepdims=True)
        lam = np.clip((best_nrm * (L / dist)).sum(1, keepdims=True), 0, 1)
        shade = rng.uniform(0.15, 0.4) + rng.uniform(0.6, 1.2) * lam / (1 + 0.02 * (dist / scale) ** 2)
        rgb = albedo * shade * rng.uniform(0.8, 1.2, 3)
        rgb = np.clip(rgb + rng.normal(0, rng.uniform(0, 0.02), rgb.shape), 0, 1) ** (1 / 1.4)
        depth = best_t.reshape(h, w).astype(np.float32)
        return SceneSample((rgb.reshape(h, w, 3) * 255 + 0.5).astype(np.uint8), depth, K)
