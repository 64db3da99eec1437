"""GODT reader: both export formats (tiny in-test files and the shared exports), bad formats."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from analysis.data.godt import GODT_COLUMNS, MEASURES, long_format, read_godt, read_godt_many

GODT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "godt"
OLD = GODT_DIR / "godt_2000_2017.csv"
NEW = GODT_DIR / "godt_2020_2024_with_hdi.csv"

OLD_HEADER = ("REGION,COUNTRY,REPORTYEAR,POPULATION,TOTAL Actual DD,Actual DBD,Actual DCD,"
              "Total Utilized DD,Utilized DBD,Utilized DCD,DD Kidney Tx,LD Kidney Tx,TOTAL Kidney Tx,"
              "DD Liver Tx,DOMINO Liver Tx,LD Liver Tx,TOTAL Liver TX,Total Heart,DD Lung Tx,"
              "LD Lung Tx,TOTAL Lung Tx,Pancreas Tx,Kidney Pancreas Tx,Small Bowel Tx")
NEW_MEASURE_HEADER = ("TOTAL Actual DD;Actual DBD;Actual DCD;Total Utilized DD;Utilized DBD;"
                      "Utilized DCD;DD Kidney Tx;LD Kidney Tx;TOTAL Kidney Tx;DD Liver Tx;"
                      "DOMINO Liver Tx;LD Liver Tx;TOTAL Liver TX;Total Heart TX;DD Lung Tx;LD Lung Tx;"
                      "TOTAL Lung Tx;Pancreas Tx;Kidney Pancreas Tx;Small Bowel Tx")
NEW_HEADER = ("region;country;year;population;" + NEW_MEASURE_HEADER
              + ";TOTAL tx;development;idh;pmp_TOTAL tx;pmp_TOTAL Actual DD;idx_region")

# measures in file order (without total_tx) for building rows
FILE_MEASURES = MEASURES[:-1]


def old_row(region, country, year, pop, **vals) -> str:
    cells = [str(vals.get(m, "NA")) for m in FILE_MEASURES]
    return ",".join([region, country, str(year), str(pop), *cells])


def new_row(region, country, year, pop, total_tx, **vals) -> str:
    def dec(v):
        return str(float(v)).replace(".", ",")

    cells = [dec(vals.get(m, 0)) for m in FILE_MEASURES]
    extras = [dec(total_tx), "Very high human development", "0,9", "1,5", "0,5", "1"]
    return ";".join([region, country, str(year), dec(pop), *cells, *extras])


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    mojibake = "Côte d’Ivoire".encode().decode("cp1252")  # as in the shared export
    return write(tmp_path / "old.csv", [
        OLD_HEADER,
        old_row("Western Pacific", "China", 2004, 1313.3, dd_kidney_tx=9700, ld_kidney_tx=500,
                total_kidney_tx=10200, dd_liver_tx=2750, total_heart_tx=110),
        old_row("Europe", "Spain", 2015, 46.4, actual_dd=1851, actual_dbd=1474, actual_dcd=377),
        old_row("Africa", mojibake, 2001, 16.3),
    ])


@pytest.fixture
def new_file(tmp_path: Path) -> Path:
    return write(tmp_path / "new.csv", [
        NEW_HEADER,
        new_row("Western Pacific", "China", 2020, 1447.4, 18037, actual_dd=5222, dd_kidney_tx=9399),
        new_row("Europe", "Türkiye ", 2021, 84.8, 12.5, actual_dd=1.5),
    ])


def test_old_format_values_and_types(old_file: Path) -> None:
    df = read_godt(old_file)
    assert list(df.columns) == GODT_COLUMNS
    assert len(df) == 3
    assert df["year"].dtype == np.int64
    assert all(df[m].dtype == np.float64 for m in MEASURES)
    china = df[df["country"] == "China"].iloc[0]
    assert china["year"] == 2004 and china["population_millions"] == 1313.3
    assert china["dd_kidney_tx"] == 9700 and china["total_heart_tx"] == 110
    assert np.isnan(china["actual_dd"])
    assert df["total_tx"].isna().all()  # never computed
    spain = df[df["country"] == "Spain"].iloc[0]
    assert (spain["actual_dd"], spain["actual_dbd"], spain["actual_dcd"]) == (1851, 1474, 377)
    assert "Côte d’Ivoire" in set(df["country"])  # mis-decoded UTF-8 repaired
    assert set(df["source_file"]) == {"old.csv"}
    assert set(df["source_sha256"]) == {hashlib.sha256(old_file.read_bytes()).hexdigest()}


def test_new_format_decimal_comma_and_extras(new_file: Path) -> None:
    df = read_godt(new_file)
    assert list(df.columns) == GODT_COLUMNS
    china = df[df["country"] == "China"].iloc[0]
    assert china["actual_dd"] == 5222 and china["total_tx"] == 18037
    assert china["population_millions"] == pytest.approx(1447.4)
    assert china["dd_kidney_tx"] == 9399 and china["ld_lung_tx"] == 0
    turkey = df[df["country"] == "Türkiye"].iloc[0]  # trailing blank stripped
    assert turkey["actual_dd"] == 1.5 and turkey["total_tx"] == 12.5


def test_header_matching_ignores_case_and_blanks(tmp_path: Path) -> None:
    header = OLD_HEADER.replace("REPORTYEAR", " reportyear ").replace("Total Heart", "TOTAL  HEART")
    path = write(tmp_path / "x.csv", [header, old_row("Europe", "Spain", 2015, 46.4, actual_dd=3)])
    assert read_godt(path)["actual_dd"].tolist() == [3.0]


def test_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + OLD_HEADER + "\r\n" + old_row("Europe", "Spain", 2015, 46.4,
                                                               actual_dd=7) + "\r\n").encode())
    df = read_godt(path)
    assert df["region"].tolist() == ["Europe"] and df["actual_dd"].tolist() == [7.0]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (OLD_HEADER.replace(",Actual DCD", ""), "missing columns: Actual DCD"),
        (OLD_HEADER + ",Foo", "unknown columns: Foo"),
        ("a,b,c", "missing columns: REGION, COUNTRY, REPORTYEAR"),
        (NEW_HEADER.replace(";TOTAL tx", ";TOTAL txx"), "unknown columns: TOTAL txx"),
        (OLD_HEADER.replace(",", ";"), "found delimiter ';'"),
    ],
)
def test_bad_header_raises_naming_file_and_columns(tmp_path: Path, header: str, message: str) -> None:
    path = write(tmp_path / "bad.csv", [header, "x"])
    with pytest.raises(ValueError, match="^bad.csv: not a recognised GODT export") as err:
        read_godt(path)
    assert message in str(err.value)


def test_bad_cells_raise(tmp_path: Path) -> None:
    path = write(tmp_path / "cell.csv", [OLD_HEADER, old_row("Europe", "Spain", 2015, 46.4,
                                                              actual_dd="many")])
    with pytest.raises(ValueError, match=r"cell.csv: line 2, column 'actual_dd': 'many' is not a number"):
        read_godt(path)
    path = write(tmp_path / "year.csv", [OLD_HEADER, old_row("Europe", "Spain", "2015.5", 46.4)])
    with pytest.raises(ValueError, match=r"year.csv: line 2: year '2015.5' is not an integer"):
        read_godt(path)
    row = old_row("Europe", "Spain", 2015, 46.4)
    path = write(tmp_path / "dup.csv", [OLD_HEADER, row, row])
    with pytest.raises(ValueError, match="dup.csv: country-year listed more than once: Spain 2015"):
        read_godt(path)
    path = write(tmp_path / "empty.csv", [""])
    with pytest.raises(ValueError, match="empty.csv: empty file"):
        read_godt(path)
    path = write(tmp_path / "rep.csv", [OLD_HEADER + ",REGION", row + ",x"])
    with pytest.raises(ValueError, match="rep.csv: not a GODT export: repeated columns: REGION"):
        read_godt(path)


def test_read_many_later_file_wins_and_is_tracked(tmp_path: Path, old_file: Path) -> None:
    later = write(tmp_path / "later.csv", [
        OLD_HEADER,
        old_row("Europe", "Spain", 2015, 46.4, actual_dd=2000),
        old_row("Europe", "Spain", 2016, 46.5, actual_dd=2018),
    ])
    df = read_godt_many([old_file, later])
    assert list(df.columns) == [*GODT_COLUMNS, "superseded"]
    assert len(df) == 4
    spain = df[df["country"] == "Spain"].set_index("year")
    assert spain.loc[2015, "actual_dd"] == 2000 and spain.loc[2015, "source_file"] == "later.csv"
    assert spain.loc[2015, "superseded"] == "old.csv"
    assert spain.loc[2016, "superseded"] == ""
    assert (df.loc[df["country"] == "China", "superseded"] == "").all()
    # order matters: the other way round, the old file wins
    back = read_godt_many([later, old_file]).set_index(["country", "year"])
    assert back.loc[("Spain", 2015), "actual_dd"] == 1851
    assert back.loc[("Spain", 2015), "superseded"] == "later.csv"
    assert read_godt_many([]).empty


def test_long_format(old_file: Path) -> None:
    long = long_format(read_godt(old_file))
    assert list(long.columns) == ["country", "year", "measure", "value"]
    assert long["value"].notna().all()
    china = long[long["country"] == "China"]
    assert china["measure"].tolist() == ["population_millions", "dd_kidney_tx", "ld_kidney_tx",
                                         "total_kidney_tx", "dd_liver_tx", "total_heart_tx"]
    assert china["value"].tolist() == [1313.3, 9700, 500, 10200, 2750, 110]
    assert len(long) == 6 + 4 + 1


# --- the shared exports (reference data; not in the repository) -----------------------------------

needs_shared = pytest.mark.skipif(
    not (OLD.exists() and NEW.exists()),
    reason=f"GODT reference exports not found in {GODT_DIR} (../shared/data/godt beside the repo)",
)


@needs_shared
def test_shared_2000_2017() -> None:
    df = read_godt(OLD)
    # README says 3,164; the file has 3,165 data rows (194 countries x 2000-2014 + 111 + 80 + 64).
    assert len(df) == 3165
    assert df["year"].min() == 2000 and df["year"].max() == 2017
    assert df["country"].nunique() == 194
    assert df["source_sha256"].iloc[0] == (
        "18c6a5f2629dde3a479bf3449e027e150c95feefb83dbf66918efea90225a61c")
    china = df[df["country"] == "China"].set_index("year")
    assert china.loc[2004, "dd_kidney_tx"] == 9700
    assert china.loc[2015, "actual_dd"] == 2766 and china.loc[2016, "actual_dd"] == 4080
    assert (china.loc[2010:2014, "dd_kidney_tx"] == 4577).all()
    assert 2017 not in china.index
    assert df["total_tx"].isna().all()
    assert "Côte d’Ivoire" in set(df["country"])


@needs_shared
def test_shared_2020_2024() -> None:
    df = read_godt(NEW)
    assert len(df) == 461
    assert sorted(df["year"].unique()) == [2020, 2021, 2022, 2023, 2024]
    assert df["source_sha256"].iloc[0] == (
        "257235f9b0958166734eec10ad3ec82f1d2d9410cbee593160e05edfed4aeea1")
    idx = df.set_index(["country", "year"])
    assert idx.loc[("China", 2020), "actual_dd"] == 5222
    assert idx.loc[("China", 2020), "total_tx"] == 18037
    assert idx.loc[("China", 2024), "actual_dd"] == 6744
    assert idx.loc[("Albania", 2020), "population_millions"] == pytest.approx(2.9)
    assert idx.loc[("Albania", 2020), "ld_kidney_tx"] == 7
    assert df["total_tx"].notna().all()


@needs_shared
def test_shared_many() -> None:
    df = read_godt_many([OLD, NEW])
    assert len(df) == 3165 + 461  # the exports do not overlap in years
    assert (df["superseded"] == "").all()
    china = df[(df["country"] == "China") & df["actual_dd"].notna()]
    assert china["year"].tolist() == [2015, 2016, 2020, 2021, 2022, 2023, 2024]
    long = long_format(df)
    china_2020 = long[(long["country"] == "China") & (long["year"] == 2020)]
    assert len(china_2020) == 1 + len(MEASURES)  # population + every count, total_tx included
    assert china_2020.set_index("measure").loc["total_tx", "value"] == 18037
