"""Vendor the compiled NHS.UK frontend into app/web/static/nhsuk-frontend/.

Usage: python scripts/vendor_nhsuk_frontend.py [VERSION]   (needs npm; default: the version
in app/web/static/VERSION_NHSUK_FRONTEND). Only the compiled CSS, JS and image assets are kept.
Two edits make the CSS fit our Content-Security-Policy (see app/web/static/VENDORED.md):
asset URLs point under /static/, and the @font-face rules that load fonts from assets.nhs.uk are
removed (the stack falls back to Arial).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "app" / "web" / "static"
TARGET = STATIC / "nhsuk-frontend"
VERSION_FILE = STATIC / "VERSION_NHSUK_FRONTEND"
FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
SOURCE_MAP = re.compile(r"/\*# sourceMappingURL=[^*]*\*/|//# sourceMappingURL=\S+")


def main() -> None:
    version = sys.argv[1] if len(sys.argv) > 1 else VERSION_FILE.read_text().strip()
    with tempfile.TemporaryDirectory() as tmp:
        command = ["npm", "pack", f"nhsuk-frontend@{version}", "--pack-destination", tmp]
        subprocess.run(  # noqa: S603 - fixed arguments, run by a maintainer
            command,
            check=True,
            capture_output=True,
        )
        (tarball,) = Path(tmp).glob("nhsuk-frontend-*.tgz")
        with tarfile.open(tarball) as archive:
            archive.extractall(tmp, filter="data")
        dist = Path(tmp) / "package" / "dist" / "nhsuk"
        if TARGET.exists():
            shutil.rmtree(TARGET)
        TARGET.mkdir(parents=True)
        css = (dist / "nhsuk-frontend.min.css").read_text()
        css = css.replace("url(/assets/", "url(/static/nhsuk-frontend/assets/")
        css = SOURCE_MAP.sub("", FONT_FACE.sub("", css))
        (TARGET / "nhsuk-frontend.min.css").write_text(css)
        js = SOURCE_MAP.sub("", (dist / "nhsuk-frontend.min.js").read_text())
        (TARGET / "nhsuk-frontend.min.js").write_text(js)
        shutil.copytree(dist / "assets", TARGET / "assets")
    VERSION_FILE.write_text(version + "\n")
    print(f"nhsuk-frontend {version} vendored into {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
