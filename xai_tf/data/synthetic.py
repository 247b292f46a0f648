"""Synthetic FRI / FRII radio galaxies with ground-truth masks of the class-defining emission.

Why: the papers' radio data (MiraBest, paper 000) cannot ship with the package, and none of the
real data sets says *where* the evidence is per pixel. This generator draws sources from the
Fanaroff-Riley picture paper 000 uses to read its saliency maps:

- FRI (label 0): a bright compact core and two jets whose surface brightness fades with distance
  from the core while they widen (brightest emission within the inner half of the source);
- FRII (label 1): a faint core and two edge-brightened lobes, each ending in a compact hotspot at
  the outer end.

Each source gets a random orientation, size, arm-length and brightness asymmetry between the two
sides, a small bend of each arm, a random core-to-extended flux ratio and a position jitter. Every
component is an elliptical Gaussian, so convolving with the Gaussian restoring beam (the PSF) is
exact and cheap: the variances add (plus 1/12 px^2 for the pixel's own extent). The peak surface
brightness is drawn from the same range for both classes, so neither the brightest pixel nor the
total flux tells the classes apart: a model has to look at where the bright emission sits. Thermal
noise is white Gaussian noise correlated by the beam, as in a restored interferometric image.
Optional unrelated point sources (beam-shaped) are distractors; the masks exclude them.

Geometry defaults follow MiraBest (150 x 150 pixels of 1.8 arcsec, FIRST beam 5.4 arcsec = 3 px
FWHM); at other ``image_size`` the same field of view is sampled more coarsely or finely.
Rendering is vectorised per image (all components of one image at once) in NumPy.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from xai_tf._checks import check_positive
from xai_tf.data.labelled import LabelledImages

CLASS_NAMES = ("FRI", "FRII")
_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
_JET_BLOBS = 10  # Gaussians per FRI jet: enough overlap at the widest spacing to look continuous


def synthetic_radio_galaxies(n: int, image_size: int = 150, seed: int = 0, noise: float = 0.03,
                             class_balance: float = 0.5, distractors: float = 0.5,
                             beam_fwhm: float = 3.0, mask_threshold: float = 0.1) -> LabelledImages:
    """Draw ``n`` synthetic FRI/FRII radio galaxies with masks and boxes of the class-defining emission.

    FRI (label 0): a bright compact core and two jets fading and widening with distance; FRII
    (label 1): a faint core and two edge-brightened lobes ending in compact hotspots (the
    Fanaroff-Riley picture paper 000 uses to read its saliency maps). The peak brightness is drawn
    from the same range for both classes, so a model has to look at where the bright emission sits.
    Geometry defaults follow MiraBest (150 x 150 pixels of 1.8 arcsec, FIRST beam 5.4 arcsec = 3 px
    FWHM); at other ``image_size`` the same field of view is sampled more coarsely or finely. The
    module docstring of ``xai_tf.data.synthetic`` describes the model in full.

    Parameters
    ----------
    n : int
        Number of images (>= 1).
    image_size : int, optional
        Side in pixels (default 150, MiraBest's cut-outs; >= 16).
    seed : int, optional
        Random seed (default 0): same seed and arguments, same images, labels and masks; with the
        same seed, ``noise`` and ``distractors`` change only the noise and point sources, never the
        galaxies.
    noise : float, optional
        rms of the thermal noise in image units (default 0.03; peaks are drawn in [0.35, 0.9], so
        peak signal-to-noise runs from about 12 to 30); white Gaussian noise correlated by the beam.
        0 gives noiseless images.
    class_balance : float, optional
        Fraction of FRII images (label 1), in [0, 1] (default 0.5); the counts are exact
        (``round(n * class_balance)`` FRII) and the order is shuffled.
    distractors : float, optional
        Mean number (Poisson) of unrelated, beam-shaped point sources per image, placed clear of the
        galaxy (default 0.5); 0 disables them. They are not in the masks.
    beam_fwhm : float, optional
        Restoring beam FWHM in pixels at 150 px (default 3.0: FIRST's 5.4" beam on 1.8" pixels);
        scaled with ``image_size``.
    mask_threshold : float, optional
        Fraction in (0, 1) (default 0.1): a pixel is in the mask where the noiseless class-defining
        emission (FRI: core + jets; FRII: lobes + hotspots, not the faint core) reaches this
        fraction of its own peak.

    Returns
    -------
    LabelledImages
        ``images`` ``(n, S, S, 1)`` float32 in [0, 1] (negative noise set to 0, as in images stored
        as 8-bit), ``class_names=("FRI", "FRII")``, ``masks`` ``(n, S, S)`` bool, ``boxes`` (FRI:
        one box around core and jets; FRII: one box per lobe) and ``info`` holding the arguments and
        per-image ``core_yx`` ``(n, 2)``, ``hotspots_yx`` ``(n, 2, 2)`` (NaN for FRI),
        ``orientation`` (radians), ``half_length`` (px), ``peak`` and ``distractors_yx`` (list of
        ``(k, 2)`` arrays); ``values`` ``(n,)``: the regression target, each source's half length as a
        fraction of the image size (``xai_tf.Regression``).

    Raises
    ------
    TypeError
        If ``n`` or ``image_size`` is not an integer, or ``noise``, ``distractors`` or
        ``beam_fwhm`` is not a number.
    ValueError
        If ``n`` is not >= 1, ``image_size`` < 16, ``noise`` or ``distractors`` is negative,
        ``beam_fwhm`` is not > 0, ``class_balance`` is not in [0, 1] or ``mask_threshold`` is not
        in (0, 1).
    """
    check_positive(n, "n", integer=True)
    check_positive(image_size, "image_size", integer=True)
    if image_size < 16:
        raise ValueError(f"image_size must be >= 16 pixels to resolve a source; got {image_size}")
    check_positive(noise, "noise", allow_zero=True)
    check_positive(distractors, "distractors", allow_zero=True)
    check_positive(beam_fwhm, "beam_fwhm")
    if isinstance(class_balance, bool) or not isinstance(class_balance, (int, float)) \
            or not 0.0 <= class_balance <= 1.0:
        raise ValueError(f"class_balance must be a fraction of FRII images in [0, 1]; got {class_balance!r}")
    if isinstance(mask_threshold, bool) or not isinstance(mask_threshold, (int, float)) \
            or not 0.0 < mask_threshold < 1.0:
        raise ValueError(f"mask_threshold must be a fraction in (0, 1); got {mask_threshold!r}")

    size = int(image_size)
    n_frii = round(n * class_balance)
    # One independent stream per image for the source and one for its noise: changing ``noise`` or
    # ``distractors`` leaves every galaxy as it was, so noisy and noiseless sets can be compared.
    streams = np.random.SeedSequence(seed).spawn(n + 1)
    order_rng = np.random.default_rng(streams[0])
    labels = order_rng.permutation(np.r_[np.zeros(n - n_frii, np.int64), np.ones(n_frii, np.int64)])

    beam_sigma = beam_fwhm * _FWHM_TO_SIGMA * size / 150.0
    # Variance added to every component: the beam, plus the pixel's own footprint (box of 1 px).
    blur_var = beam_sigma ** 2 + 1.0 / 12.0
    noise_kernel_norm = _correlated_noise_norm(beam_sigma)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)

    images = np.empty((n, size, size, 1), np.float32)
    masks = np.empty((n, size, size), bool)
    boxes: list[list[tuple[int, int, int, int]]] = []
    core_yx = np.empty((n, 2))
    hotspots_yx = np.full((n, 2, 2), np.nan)
    orientation = np.empty(n)
    half_length = np.empty(n)
    peaks = np.empty(n)
    distractor_positions = []

    for i in range(n):
        rng, noise_rng = (np.random.default_rng(stream) for stream in streams[i + 1].spawn(2))
        source = _draw_source(rng, int(labels[i]), size)
        flux_maps = _render(source["components"], yy, xx, blur_var)
        model = flux_maps.sum(axis=0)
        peak = rng.uniform(0.35, 0.9)
        scale = peak / model.max()
        defining = flux_maps[source["defining"]].sum(axis=0) * scale
        level = mask_threshold * defining.max()
        masks[i] = defining >= level
        if labels[i] == 1:  # one box per lobe: the two sides' lobe + hotspot
            boxes.append([_bounding_box(flux_maps[side].sum(axis=0) * scale >= level) for side in source["sides"]])
        else:
            boxes.append([_bounding_box(masks[i])])
        sky = model * scale

        positions = _place_distractors(noise_rng, sky, peak, source, size, distractors)
        for y, x in positions:  # unresolved: beam-shaped, peak drawn up to the galaxy's own peak
            sky = sky + noise_rng.uniform(0.2, 1.0) * peak * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * blur_var))
        distractor_positions.append(np.asarray(positions, float).reshape(-1, 2))

        if noise > 0:
            thermal = gaussian_filter(noise_rng.standard_normal((size, size)), beam_sigma) / noise_kernel_norm
            sky = sky + noise * thermal
        images[i, :, :, 0] = np.clip(sky, 0.0, 1.0)
        core_yx[i] = source["core"]
        if labels[i] == 1:
            hotspots_yx[i] = source["hotspots"]
        orientation[i] = source["theta"]
        half_length[i] = source["half_length"]
        peaks[i] = peak

    info = {
        "generator": "synthetic_radio_galaxies",
        "arguments": {"n": n, "image_size": size, "seed": seed, "noise": noise, "class_balance": class_balance,
                      "distractors": distractors, "beam_fwhm": beam_fwhm, "mask_threshold": mask_threshold},
        "core_yx": core_yx, "hotspots_yx": hotspots_yx, "orientation": orientation,
        "half_length": half_length, "peak": peaks, "distractors_yx": distractor_positions,
    }
    # The regression target with known ground truth: each source's half length as a fraction of the image.
    return LabelledImages(images=images, labels=labels, class_names=CLASS_NAMES, masks=masks, boxes=boxes,
                          info=info, values=half_length / size)


def _draw_source(rng: np.random.Generator, label: int, size: int) -> dict:
    """Components ``(K, 6)`` = (height, y, x, sigma_along, sigma_across, angle) of one source.

    Returns the components plus the indices of the class-defining ones, per-side index lists (the
    two lobes of an FRII), the core position, hotspot positions and the geometry drawn.
    """
    theta = rng.uniform(0.0, np.pi)
    # FRIs drawn somewhat larger on the sky so that their fading jets cover as much area as FRII lobes
    half_length = (rng.uniform(0.16, 0.36) if label == 0 else rng.uniform(0.12, 0.30)) * size
    centre = size / 2.0 - 0.5 + rng.uniform(-0.06, 0.06, size=2) * size
    asymmetry = rng.uniform(0.0, 0.2)
    arm_lengths = half_length * np.array([1.0 + asymmetry, 1.0 - asymmetry])
    side_brightness = np.array([1.0, rng.uniform(0.6, 1.0)])[rng.permutation(2)]
    bends = rng.normal(0.0, 0.12, size=2)
    directions = np.array([theta, theta + np.pi])

    components = []
    if label == 0:  # FRI: bright core, fading and widening jets
        decay = rng.uniform(0.3, 0.6)  # e-folding length of jet brightness, in arm lengths
        jet_start = rng.uniform(0.3, 0.7)  # jet brightness next to the core, relative to the core
        opening = rng.uniform(0.08, 0.22)
        components.append((1.0, *centre, rng.uniform(0.0, 0.008) * size, rng.uniform(0.0, 0.008) * size, theta))
        t = (np.arange(_JET_BLOBS) + 0.5) / _JET_BLOBS
        for side in range(2):
            length = arm_lengths[side]
            angle = directions[side] + bends[side] * t
            distance = t * length
            ys = centre[0] + distance * np.sin(angle)
            xs = centre[1] + distance * np.cos(angle)
            # overlapping blobs (spacing 1.4 sigma) sum to about 1.8x one blob's height
            heights = jet_start * side_brightness[side] * np.exp(-t / decay) / 1.8
            along = np.full_like(t, 0.7 * length / _JET_BLOBS)
            across = 0.012 * size + opening * distance
            components.extend(zip(heights, ys, xs, along, across, angle))
        defining = list(range(len(components)))
        sides = [defining]
        hotspots = None
    else:  # FRII: faint core, lobes brightening outwards, compact hotspots at the ends
        components.append((rng.uniform(0.0, 0.3), *centre, 0.0, 0.0, theta))
        sides, hotspots = [], []
        for side in range(2):
            length = arm_lengths[side]
            angle = directions[side] + bends[side]
            unit = np.array([np.sin(angle), np.cos(angle)])
            lobe_centre = centre + 0.7 * length * unit
            hotspot = centre + 0.93 * length * unit
            first = len(components)
            components.append((rng.uniform(0.3, 0.6) * side_brightness[side], *lobe_centre,
                               rng.uniform(0.13, 0.22) * length, rng.uniform(0.08, 0.18) * length, angle))
            components.append((side_brightness[side], *hotspot, rng.uniform(0.0, 0.008) * size,
                               rng.uniform(0.0, 0.012) * size, angle))
            sides.append([first, first + 1])
            hotspots.append(hotspot)
        defining = sides[0] + sides[1]
        hotspots = np.array(hotspots)
    return {"components": np.array(components, dtype=np.float64), "defining": defining, "sides": sides,
            "core": centre, "hotspots": hotspots, "theta": theta, "half_length": half_length,
            "extent": arm_lengths.max()}


def _render(components: np.ndarray, yy: np.ndarray, xx: np.ndarray, blur_var: float) -> np.ndarray:
    """Beam-convolved surface brightness ``(K, H, W)`` of each component.

    A component's first parameter is its peak surface brightness *after* convolution with the beam
    (what an observer reads off the restored image), so the beam widens it without dimming it.
    """
    height, cy, cx, along, across, angle = (components[:, j, None, None] for j in range(6))
    inv_along = 1.0 / (along ** 2 + blur_var)
    inv_across = 1.0 / (across ** 2 + blur_var)
    cos, sin = np.cos(angle), np.sin(angle)
    # exponent -0.5 (u^2/var_along + v^2/var_across) with u, v the rotated offsets, expanded into a
    # quadratic form in dx, dy so the per-pixel work is a few float32 multiply-adds and one exp
    a = (-0.5 * (cos ** 2 * inv_along + sin ** 2 * inv_across)).astype(np.float32)
    b = (-(cos * sin) * (inv_along - inv_across)).astype(np.float32)
    c = (-0.5 * (sin ** 2 * inv_along + cos ** 2 * inv_across)).astype(np.float32)
    dy = yy[None] - cy.astype(np.float32)
    dx = xx[None] - cx.astype(np.float32)
    return height.astype(np.float32) * np.exp(a * dx * dx + b * dx * dy + c * dy * dy)


def _place_distractors(rng, sky, peak, source, size, mean_count) -> list[tuple[float, float]]:
    """Positions of unrelated point sources, away from the galaxy (where its emission < 1% of peak)."""
    count = rng.poisson(mean_count) if mean_count > 0 else 0
    positions = []
    margin = 0.04 * size
    for _ in range(count):
        candidates = rng.uniform(margin, size - 1 - margin, size=(20, 2))
        clear = sky[np.round(candidates[:, 0]).astype(int), np.round(candidates[:, 1]).astype(int)] < 0.01 * peak
        far = np.hypot(*(candidates - source["core"]).T) > source["extent"] + 0.05 * size
        good = np.flatnonzero(clear & far)
        if good.size:  # else: no clear spot in this field; the image simply has one fewer
            positions.append(tuple(candidates[good[0]]))
    return positions


def _bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _correlated_noise_norm(sigma: float) -> float:
    """Std of white unit noise after ``gaussian_filter(sigma)``, to rescale it back to unit rms."""
    delta = np.zeros((33, 33))
    delta[16, 16] = 1.0
    return float(np.sqrt((gaussian_filter(delta, sigma) ** 2).sum()))
