"""The demo's CSV writer: the text pandas' ``to_csv`` writes, faster for plain columns."""
from __future__ import annotations

import gzip

import pandas as pd

from microseg.demo import _plain_text, generate, write_csv


def test_demo_files_have_the_text_to_csv_writes(tmp_path):
    frames = generate(500, 3)
    for name, suffix in (("customers", ".csv"), ("transactions", ".csv.gz"), ("events", ".csv.gz")):
        assert _plain_text(frames[name]) is not None                  # the fast path is the one taken
        ours, theirs = tmp_path / f"ours-{name}{suffix}", tmp_path / f"theirs-{name}{suffix}"
        write_csv(frames[name], ours)
        frames[name].to_csv(theirs, index=False)
        read = gzip.open if suffix.endswith(".gz") else open
        with read(ours, "rb") as a, read(theirs, "rb") as b:
            assert a.read() == b.read()


def test_values_needing_quotes_or_missing_go_through_pandas(tmp_path):
    frame = pd.DataFrame({"note": pd.array(['say "hi", then', "ok", None], dtype="string"), "x": [1.5, None, 2.0]})
    assert _plain_text(frame) is None
    write_csv(frame, tmp_path / "a.csv")
    frame.to_csv(tmp_path / "b.csv", index=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert pd.read_csv(tmp_path / "a.csv")["note"].iloc[0] == 'say "hi", then'


def test_values_needing_quotes_without_missing_values_go_through_pandas(tmp_path):
    """No value is missing, so the columns are joined first; the comma, quote or line break inside a
    value is then found in the joined text and pandas writes (and quotes) the table."""
    for text in ("a,b", 'say "hi"', "two\nlines", "cr\rhere"):
        frame = pd.DataFrame({"note": pd.array([text, "ok"], dtype="string"), "n": [1, 2], "x": [0.5, 1e16],
                              "flag": [True, False]})
        assert _plain_text(frame) is not None
        write_csv(frame, tmp_path / "a.csv")
        frame.to_csv(tmp_path / "b.csv", index=False)
        assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
        assert text == "cr\rhere" or pd.read_csv(tmp_path / "a.csv")["note"].iloc[0] == text


def test_plain_columns_are_written_without_pandas(tmp_path, monkeypatch):
    frame = pd.DataFrame({"id": pd.array(["C1", "C2"], dtype="string"), "n": [-3, 12], "x": [0.1, 1e-05],
                          "flag": [True, False]})
    expected = frame.to_csv(index=False).encode()
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda *a, **k: (_ for _ in ()).throw(AssertionError("pandas")))
    write_csv(frame, tmp_path / "a.csv.gz")
    with gzip.open(tmp_path / "a.csv.gz", "rb") as fh:
        assert fh.read() == expected


def test_integers_with_missing_values_go_through_pandas(tmp_path):
    frame = pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64"), "s": pd.array(["a", "b", "c"], dtype="string")})
    assert _plain_text(frame) is None
    write_csv(frame, tmp_path / "a.csv")
    frame.to_csv(tmp_path / "b.csv", index=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
