"""Delaunay triangulation of pixel coordinates inside an image rectangle: our own, for PIC's fast fill.

``grid_delaunay(points, height, width)`` triangulates integer (row, col) points that include the
four corners of the ``height x width`` image (PIC always keeps them), by Bowyer-Watson insertion
(Bowyer 1981, Watson 1981) compiled with numba, with exact integer predicates: orientation and
in-circle determinants of pixel coordinates fit in int64 for any image side below ~20,000 pixels,
so no floating-point tolerance and no perturbation is needed.

Why our own: Qhull (``scipy.spatial.Delaunay``) spends ~14 us per point on pixel grids, which are
full of co-circular quadruples it has to merge (measured 1.6 CPU s for the 14 PIC fills of a
224x224 image with a random map), and Shewchuk's Triangle (~1 us per point) is free for
non-commercial use only. Here the corners start as two triangles, so every later point lies in or
on the hull, and points are inserted in row-major order, each located by a walk from the last
new triangle (a short walk: the previous point is a neighbour). A point strictly inside a
triangle's circumcircle deletes it (co-circular points keep it), so where four or more points are
co-circular one of the Delaunay triangulations is returned, not necessarily Qhull's; every
triangle has a positive area. Without numba the same Python code runs (slowly); ``blur`` then
uses Qhull instead.
"""
from __future__ import annotations

import numpy as np


def _in_circle(points, a, b, c, row, col):
    """> 0 when (row, col) lies strictly inside the circumcircle of the positively oriented (a, b, c)."""
    ar, ac = points[a, 0] - row, points[a, 1] - col
    br, bc = points[b, 0] - row, points[b, 1] - col
    cr, cc = points[c, 0] - row, points[c, 1] - col
    return ((ar * ar + ac * ac) * (br * cc - bc * cr) - (br * br + bc * bc) * (ar * cc - ac * cr)
            + (cr * cr + cc * cc) * (ar * bc - ac * br))


def _triangulate(points, corners):
    """Bowyer-Watson over ``points`` ``(K, 2)`` int64; ``corners``: indices of (0, 0), (H-1, 0), (0, W-1), (H-1, W-1).

    Returns ``(T, 3)`` int64 vertex indices, each triangle counter-clockwise.
    """
    count = points.shape[0]
    capacity = 2 * count + 8
    vertices = np.full((capacity, 3), -1, np.int64)
    neighbours = np.full((capacity, 3), -1, np.int64)   # neighbour k lies across the edge opposite vertex k
    alive = np.zeros(capacity, np.bool_)
    stamp = np.zeros(capacity, np.int64)                # insertion that put the triangle in the cavity
    free = np.empty(capacity, np.int64)                 # stack of reusable slots
    for i in range(capacity):
        free[i] = capacity - 1 - i
    free_top = capacity
    c00, c10, c01, c11 = corners[0], corners[1], corners[2], corners[3]
    vertices[0, 0], vertices[0, 1], vertices[0, 2] = c00, c10, c01
    vertices[1, 0], vertices[1, 1], vertices[1, 2] = c10, c11, c01
    neighbours[0, 0], neighbours[1, 1] = 1, 0
    alive[0] = alive[1] = True
    free_top -= 2
    is_corner = np.zeros(count, np.bool_)
    for k in range(4):
        is_corner[corners[k]] = True
    stack = np.empty(capacity, np.int64)
    edge_a = np.empty(capacity, np.int64)
    edge_b = np.empty(capacity, np.int64)
    edge_out = np.empty(capacity, np.int64)
    created = np.empty(capacity, np.int64)
    starts = np.full(count, -1, np.int64)               # new triangle (p, a, b) by its a
    ends = np.full(count, -1, np.int64)                 # ... by its b
    current = 0
    for p in range(count):
        if is_corner[p]:
            continue
        row, col = points[p, 0], points[p, 1]
        # Locate: visibility walk (terminates on a Delaunay triangulation).
        t = current
        steps = 0
        while True:
            moved = False
            for k in range(3):
                a, b = vertices[t, (k + 1) % 3], vertices[t, (k + 2) % 3]
                side = ((points[b, 0] - points[a, 0]) * (col - points[a, 1])
                        - (points[b, 1] - points[a, 1]) * (row - points[a, 0]))
                if side < 0 and neighbours[t, k] >= 0:
                    t = neighbours[t, k]
                    moved = True
                    break
            steps += 1
            if not moved or steps > 4 * capacity:
                break
        # Cavity: the triangles whose circumcircle strictly contains p, grown from t.
        edges = 0
        top = 0
        stack[top] = t
        top += 1
        stamp[t] = p + 1
        while top > 0:
            top -= 1
            s = stack[top]
            for k in range(3):
                a, b = vertices[s, (k + 1) % 3], vertices[s, (k + 2) % 3]
                n = neighbours[s, k]
                if n >= 0 and stamp[n] == p + 1:
                    continue
                if n >= 0 and _in_circle(points, vertices[n, 0], vertices[n, 1], vertices[n, 2], row, col) > 0:
                    stamp[n] = p + 1
                    stack[top] = n
                    top += 1
                    continue
                edge_a[edges], edge_b[edges], edge_out[edges] = a, b, n
                edges += 1
            alive[s] = False
            free[free_top] = s
            free_top += 1
        # Star: p joined to every cavity edge it does not lie on (it lies on at most one hull edge).
        made = 0
        for e in range(edges):
            a, b, n = edge_a[e], edge_b[e], edge_out[e]
            if ((points[b, 0] - points[a, 0]) * (col - points[a, 1])
                    - (points[b, 1] - points[a, 1]) * (row - points[a, 0])) == 0:
                continue
            free_top -= 1
            s = free[free_top]
            vertices[s, 0], vertices[s, 1], vertices[s, 2] = p, a, b
            neighbours[s, 0], neighbours[s, 1], neighbours[s, 2] = n, -1, -1
            alive[s] = True
            stamp[s] = 0
            if n >= 0:
                for k in range(3):
                    if vertices[n, k] != a and vertices[n, k] != b:
                        neighbours[n, k] = s
            starts[a] = s
            ends[b] = s
            created[made] = s
            made += 1
        for i in range(made):
            s = created[i]
            a, b = vertices[s, 1], vertices[s, 2]
            neighbours[s, 1] = starts[b]   # across (b, p): the new triangle (p, b, .)
            neighbours[s, 2] = ends[a]     # across (p, a): the new triangle (p, ., a)
        for i in range(made):
            s = created[i]
            starts[vertices[s, 1]] = -1
            ends[vertices[s, 2]] = -1
        current = created[made - 1]
    return vertices[alive]


try:  # compiled and cached on disk, as blur's rasteriser
    import numba

    _in_circle = numba.njit(cache=True, nogil=True, inline="always")(_in_circle)
    _compiled = numba.njit(cache=True, nogil=True)(_triangulate)
except ImportError:  # pragma: no cover - numba is a dependency
    _compiled = None


def grid_delaunay(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """Delaunay triangles of integer pixel ``points`` that include the image's four corners.

    Parameters
    ----------
    points : ndarray
        ``(K, 2)`` int (row, col), distinct, inside ``[0, height) x [0, width)``, the four corners
        ``(0, 0)``, ``(height-1, 0)``, ``(0, width-1)``, ``(height-1, width-1)`` among them.
    height, width : int
        Image size, both at least 2.

    Returns
    -------
    ndarray
        ``(T, 3)`` int64 indices into ``points``, each triangle counter-clockwise in (row, col) with
        a positive area; together they tile the image rectangle.
    """
    points = np.ascontiguousarray(points, dtype=np.int64)
    if height < 2 or width < 2:
        raise ValueError(f"grid_delaunay needs an image of at least 2x2 pixels; got {height}x{width}")
    corners = np.empty(4, np.int64)
    flat = points[:, 0] * width + points[:, 1]
    for k, (r, c) in enumerate(((0, 0), (height - 1, 0), (0, width - 1), (height - 1, width - 1))):
        hits = np.flatnonzero(flat == r * width + c)
        if len(hits) == 0:
            raise ValueError(f"points must include the corner ({r}, {c})")
        corners[k] = hits[0]
    run = _compiled if _compiled is not None else _triangulate
    return run(points, corners)
