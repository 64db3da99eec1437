"""The test suite's own scheduling under pytest-xdist (tests/conftest.py): whole files per worker,
the files sharing the session's quick report in one group."""

from __future__ import annotations

from tests import conftest


def test_files_sharing_the_quick_report_form_one_group_and_others_stay_whole(tmp_path):
    scope = conftest.suite_scope
    root = conftest.REPO
    assert scope(root, "tests/test_report.py::test_report_writes_charts_tables_html_and_manifest") == "quick_report"
    assert scope(root, "tests/test_browser.py::test_report_renders_in_chromium") == "quick_report"
    assert scope(root, "tests/test_layers.py::test_imports_run_one_way") == "tests/test_layers.py"
    # parametrized ids stay with their file (a "::" or "@" inside the id does not split it)
    assert scope(root, "tests/test_godt.py::test_bad_header[a::b@c]") == "tests/test_godt.py"
    # decided by what the file's functions take, not by its name or a mention in a docstring
    fixture = "quick_report"
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text(f"def test_x(tmp_path, {fixture}):\n    pass\n")
    (tmp_path / "tests" / "test_b.py").write_text(f'"""uses no {fixture}"""\ndef test_y(tmp_path):\n    pass\n')
    assert scope(tmp_path, "tests/test_a.py::test_x") == "quick_report"
    assert scope(tmp_path, "tests/test_b.py::test_y") == "tests/test_b.py"
    # this file only talks about the fixture: it is a unit of its own
    assert scope(root, "tests/test_suite_groups.py::x") == "tests/test_suite_groups.py"


class _Item:
    def __init__(self, path, slow=False):
        self.path, self.slow = path, slow

    def get_closest_marker(self, name):
        return object() if (name == "slow" and self.slow) else None


def test_workers_run_the_quick_report_files_first_then_slow_files_keeping_file_order(monkeypatch):
    tests = conftest.REPO / "tests"
    layers, recovery, report = tests / "test_layers.py", tests / "test_recovery.py", tests / "test_report.py"
    items = [_Item(layers), _Item(layers), _Item(recovery, slow=True), _Item(report), _Item(report, slow=True)]
    original = list(items)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # (set when this test runs in a worker)
    conftest.pytest_collection_modifyitems(None, items)  # not a worker: order untouched
    assert items == original
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    conftest.pytest_collection_modifyitems(None, items)
    assert items == [original[3], original[4], original[2], original[0], original[1]]
