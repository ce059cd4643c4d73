"""The shape of the code: layers, front-ends apart, a headless core, no cycles."""

from pathlib import Path

from import_graph import violations

ROOT = Path(__file__).resolve().parents[1]


def test_the_source_tree_follows_the_import_rules():
    assert violations(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel in ["engines/__init__.py", "scenarios/__init__.py", "console/__init__.py",
                "console/core/__init__.py", "console/cli/__init__.py",
                "console/tui/__init__.py", "console/render/__init__.py", *files]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files.get(rel, ""))
    return tmp_path


def test_a_synthetic_tree_breaking_each_rule_is_caught(tmp_path):
    root = _tree(tmp_path, {
        "console/core/bad.py": "import textual\nfrom paramlab.console.cli import main\n"
                               "print('hi')\n",
        "console/cli/x.py": "from paramlab.console.tui import app\n",
        "console/tui/y.py": "from ..cli import x\n",
        "engines/e.py": "from paramlab.scenarios import base\n",
        "scenarios/a.py": "from . import b\n",
        "scenarios/b.py": "def f():\n    from .a import g\n",
    })
    found = "\n".join(violations(root))
    assert "console/core/bad.py:1: paramlab.console.core may not import textual" in found
    assert "bad.py:2: paramlab.console.core may not import paramlab.console.cli" in found
    assert "bad.py:3: the core does not print" in found
    assert "x.py:1: paramlab.console.cli may not import paramlab.console.tui" in found
    assert "y.py:1: paramlab.console.tui may not import paramlab.console.cli" in found
    assert "e.py:1: paramlab.engines may not import paramlab.scenarios" in found
    assert "import cycle: paramlab.scenarios.a -> paramlab.scenarios.b" in found


def test_a_clean_synthetic_tree_passes(tmp_path):
    root = _tree(tmp_path, {"console/cli/ok.py": "from paramlab.console.core import x\n",
                            "console/core/x.py": "import json\n"})
    assert violations(root) == []
