"""Seal images (SVG for the record, PNG for the desk) drawn from each office's seal spec."""

from __future__ import annotations

from pathlib import Path

from api.services.authority.paths import AuthorityPaths
from api.services.offices import Office
from api.storage.files import write_atomic
from signer.seal_image import SealFont, seal_png, seal_svg


class SealImages:
    def __init__(self, paths: AuthorityPaths) -> None:
        self.paths = paths

    def paths_of(self, office_id: str) -> tuple[Path, Path]:
        """(SVG, PNG) of the office's seal."""
        return self.paths.seal_images(office_id)

    def exist(self, office_id: str) -> bool:
        return all(p.exists() for p in self.paths_of(office_id))

    def draw(self, office: Office, font: SealFont) -> tuple[Path, Path]:
        svg_path, png_path = self.paths_of(office.id)
        write_atomic(svg_path, seal_svg(office.seal_spec, font).encode())
        write_atomic(png_path, seal_png(office.seal_spec, font))
        return svg_path, png_path
