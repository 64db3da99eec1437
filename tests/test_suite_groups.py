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
    # decided by what the file uses, not by its name
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_x(quick_report):\n    pass\n")
    (tmp_path / "tests" / "test_b.py").write_text("def test_y(tmp_path):\n    pass\n")
    assert scope(tmp_path, "tests/test_a.py::test_x") == "quick_report"
    assert scope(tmp_path, "tests/test_b.py::test_y") == "tests/test_b.py"
