"""Draw the app's PNG icons (a capsule on the brand colour) with the standard library only.

    python3 scripts/make_icons.py        # writes pwa_static/icons/*.png

"any" icons have rounded corners on a transparent ground; the maskable icon fills its square and
keeps the capsule inside the central safe zone (a circle of 80% of the width); the Apple touch
icon is square and opaque (iOS rounds it).
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

BRAND = (11, 94, 107)
WHITE = (255, 255, 255)
LIGHT = (159, 211, 218)
OUT = Path(__file__).resolve().parent.parent / "pwa_static" / "icons"
SAMPLES = 3  # supersampling per axis, for smooth edges


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    """An RGBA PNG: signature, IHDR, one IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def inside_rounded_square(x: float, y: float, radius: float) -> bool:
    """Is (x, y) in the unit square with corners rounded by `radius`?"""
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def capsule_part(x: float, y: float, scale: float) -> tuple[int, int, int] | None:
    """The capsule, tilted 45 degrees around the centre: which half covers (x, y), if any."""
    half_length = 0.26 * scale
    radius = 0.13 * scale
    outline = 0.025 * scale
    angle = math.radians(-45)
    dx, dy = x - 0.5, y - 0.5
    u = dx * math.cos(angle) - dy * math.sin(angle)  # along the capsule
    v = dx * math.sin(angle) + dy * math.cos(angle)
    along = min(max(u, -half_length), half_length)
    distance = math.hypot(u - along, v)
    if distance > radius:
        return None
    if distance > radius - outline or abs(u) < outline / 2:
        return BRAND if distance <= radius - outline else WHITE
    return WHITE if u < 0 else LIGHT


def draw(size: int, *, rounded: bool, scale: float) -> bytes:
    rows = []
    step = 1 / (size * SAMPLES)
    for py in range(size):
        row = bytearray()
        for px in range(size):
            red = green = blue = alpha = 0.0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px * SAMPLES + sx + 0.5) * step
                    y = (py * SAMPLES + sy + 0.5) * step
                    if rounded and not inside_rounded_square(x, y, 0.18):
                        continue
                    colour = capsule_part(x, y, scale) or BRAND
                    red += colour[0]
                    green += colour[1]
                    blue += colour[2]
                    alpha += 255
            count = SAMPLES * SAMPLES
            covered = alpha / 255 or 1
            row += bytes(
                (
                    round(red / covered),
                    round(green / covered),
                    round(blue / covered),
                    round(alpha / count),
                )
            )
        rows.append(bytes(row))
    return png(size, size, rows)


ICONS = {
    "icon-192.png": (192, True, 1.0),
    "icon-512.png": (512, True, 1.0),
    "maskable-512.png": (512, False, 0.78),
    "apple-touch-icon.png": (180, False, 0.9),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (size, rounded, scale) in ICONS.items():
        (OUT / name).write_bytes(draw(size, rounded=rounded, scale=scale))
        print(f"wrote {OUT / name} ({size}x{size})")


if __name__ == "__main__":
    main()
