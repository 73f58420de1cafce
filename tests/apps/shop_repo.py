"""A throwaway git repository of the shop API: ``main`` as it is, ``feature`` with one change.

Used by the default-gate end-to-end tests and by studies/default_family.py,
so both measure the same repository.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

APPS = Path(__file__).resolve().parent

PERFGATE_YML = """\
service:
  start: [{python}, shop_api.py, "{{{{ port }}}}", "{{{{ workdir }}}}/shop.sqlite"]
  ready: {{url: /health, timeout: 30}}
suites:
  - {{name: load, script: shop-load.yml}}
"""

#: One constant per regression, as a real change would touch it.
CHANGES: dict[str, tuple[str, str] | None] = {
    "aa": None,
    "cheap15": ("PRODUCT_EXTRA_QUERIES = 0", "PRODUCT_EXTRA_QUERIES = 1"),
    "rare30": ("COUPON_FAIL_RATE = 0.0", "COUPON_FAIL_RATE = 0.3"),
    # the blind classes (issue 22): a tail, a leak, a throughput cap
    "tail4": ("PRODUCT_TAIL_FRACTION = 0.0", "PRODUCT_TAIL_FRACTION = 0.04"),
    "leak16": ("LEAK_KB = 0", "LEAK_KB = 16"),
    "lock": ("GLOBAL_LOCK_MS = 0.0", "GLOBAL_LOCK_MS = 7.0"),
}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return out.stdout.strip()


def make_shop_repo(work: Path, change: tuple[str, str] | None, yml_extra: str = "") -> Path:
    """``work/repo``: main is the shop; feature applies ``change`` (old, new) to shop_api.py."""
    repo = work / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "shop@example.com")
    git(repo, "config", "user.name", "shop")
    shutil.copy(APPS / "shop_api.py", repo / "shop_api.py")
    shutil.copy(APPS / "shop-load.yml", repo / "shop-load.yml")
    (repo / "perfgate.yml").write_text(PERFGATE_YML.format(python=sys.executable) + yml_extra)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "shop")
    git(repo, "checkout", "-q", "-b", "feature")
    if change is not None:
        source = (repo / "shop_api.py").read_text()
        if change[0] not in source:
            raise ValueError(f"shop_api.py has no {change[0]!r}")
        (repo / "shop_api.py").write_text(source.replace(*change))
        git(repo, "commit", "-q", "-am", "the change under test")
    return repo
