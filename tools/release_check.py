"""``make release-check``: build every distribution, write a CycloneDX SBOM per wheel, check.

Builds the core (``.``) and, when present, the testing kit (``testing/``) into ``dist/``;
installs each wheel alone into a fresh virtual environment, as a council would, and
describes that environment with ``cyclonedx-py`` (``dist/<wheel>.cdx.json``: the wheel and
every dependency it pulled in, validated against the CycloneDX schema); then runs
``twine check --strict`` and lints the release workflow with zizmor.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BIN = Path(sys.executable).parent
#: Each distribution's source folder, by the wheel-file prefix of its name.
SOURCES = {"scotaccount_django_testing": ROOT / "testing", "scotaccount_django": ROOT}


def run(*command: str | Path) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], check=True, cwd=ROOT)  # noqa: S603 - our own tools


def source_of(wheel: Path) -> Path:
    return next(path for prefix, path in SOURCES.items() if wheel.name.startswith(prefix + "-"))


def sbom(wheel: Path, wheels: list[Path]) -> Path:
    """The CycloneDX SBOM of an environment holding ``wheel`` and what it depends on."""
    core = [other for other in wheels if source_of(other) == ROOT and other != wheel]
    output = DIST / (wheel.name.removesuffix(".whl") + ".cdx.json")
    with tempfile.TemporaryDirectory() as env:
        python = Path(env) / "bin" / "python"
        run(sys.executable, "-m", "venv", "--without-pip", env)
        # The kit depends on the core: install the core wheel just built, not one from PyPI.
        run(sys.executable, "-m", "pip", "--python", python, "install", "-q", wheel, *core)
        run(
            BIN / "cyclonedx-py", "environment", python,
            "--pyproject", source_of(wheel) / "pyproject.toml",
            "--mc-type", "library", "--output-reproducible", "-o", output,
        )  # fmt: skip
    names = {item["name"] for item in json.loads(output.read_text())["components"]}
    assert "Django" in names or "django" in names, f"{output.name} lists no Django: {names}"
    return output


def main() -> None:
    shutil.rmtree(DIST, ignore_errors=True)
    for source in SOURCES.values():
        if (source / "pyproject.toml").is_file():
            run(sys.executable, "-m", "build", "-q", "--outdir", DIST, source)
    wheels = sorted(DIST.glob("*.whl"))
    boms = [sbom(wheel, wheels) for wheel in wheels]
    run(BIN / "twine", "check", "--strict", *sorted(DIST.glob("*.whl")), *DIST.glob("*.tar.gz"))
    run(BIN / "zizmor", "--offline", "--quiet", ROOT / ".github" / "workflows")
    print(f"release-check: {len(wheels)} wheels, {len(boms)} SBOMs in dist/: all checks passed")


if __name__ == "__main__":
    main()
