"""The data layer: real files without preprocessing, and clear errors that name file/column/row."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_file
from microseg.config import parse_config
from microseg.errors import InputError
from microseg.loading import fingerprint_inputs, load_data, normalise_ids


def _cfg(folder, body: str):
    return parse_config(body, base_dir=folder)


TX = """
[sources.transactions]
path = "tx.csv"
customer_id = "id"
timestamp = "ts"
amount = "amount"
"""


def test_online_retail_loads_without_preprocessing(tmp_path):
    src = shared_file("online_retail.csv.gz")
    # a small real slice: the first 20,000 lines
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        lines = [next(fh) for _ in range(20_001)]
    (tmp_path / "retail.csv").write_text("".join(lines), encoding="utf-8")
    cfg = _cfg(tmp_path, """
as_of = "2011-01-01"
[sources.transactions]
path = "retail.csv"
customer_id = "CustomerID"
timestamp = "InvoiceDate"
quantity = "Quantity"
unit_price = "UnitPrice"
invoice = "InvoiceNo"
attributes = ["Country"]
""")
    data, stats = load_data(cfg)
    raw = pd.read_csv(tmp_path / "retail.csv")
    with_id = raw.dropna(subset=["CustomerID"])
    assert stats["transactions"]["rows"] == len(raw)
    assert stats["transactions"]["rows_without_customer"] == int(raw["CustomerID"].isna().sum())
    assert data.transactions["customer_id"].dtype == np.int64          # 17850.0 -> 17850
    assert set(data.ids) == set(with_id["CustomerID"].astype(int))
    assert np.isclose(data.transactions["amount"].sum(), (with_id["Quantity"] * with_id["UnitPrice"]).sum())
    assert (data.transactions["amount"] < 0).sum() == stats["transactions"]["negative_lines"] > 0
    frame = data.features()
    for col in ("recency_days", "frequency", "monetary", "tenure_days", "Country"):
        assert col in frame.columns
    # net spend includes cancellations
    before = with_id[pd.to_datetime(with_id["InvoiceDate"]) < "2011-01-01"]
    one = int(before["CustomerID"].iloc[0])
    sub = before[before["CustomerID"] == one]
    assert np.isclose(frame.loc[one, "monetary"], (sub["Quantity"] * sub["UnitPrice"]).sum())
    assert frame.loc[one, "frequency"] == sub[sub["Quantity"] * sub["UnitPrice"] > 0]["InvoiceNo"].nunique()


def test_features_ignore_data_at_or_after_as_of(tmp_path):
    (tmp_path / "tx.csv").write_text("id,ts,amount\n1,2024-01-01,10\n1,2024-02-01,5\n1,2024-03-01,100\n2,2024-03-02,7\n")
    data, _ = load_data(_cfg(tmp_path, 'as_of = "2024-03-01"\n' + TX))
    f = data.features()
    assert f.loc[1, "monetary"] == 15 and f.loc[1, "frequency"] == 2
    assert f.loc[2, "frequency"] == 0 and np.isnan(f.loc[2, "recency_days"])
    assert f.loc[1, "recency_days"] == 29


@pytest.mark.parametrize("content, match", [
    ("id,ts,amount\n", "no data rows"),
    ("id,when,amount\n1,2024-01-01,3\n", "missing column 'ts'"),
    ("id,ts,amount\n1,2024-01-01,3\n2,not-a-date,4\n", "row 2"),
    ("id,ts,amount\n1,2024-01-01,3\n2,2024-01-02,abc\n", "column 'amount', row 2"),
])
def test_bad_input_names_file_column_row(tmp_path, content, match):
    (tmp_path / "tx.csv").write_text(content)
    with pytest.raises(InputError, match=match) as exc:
        load_data(_cfg(tmp_path, TX))
    assert "tx.csv" in str(exc.value) and exc.value.exit_code == 2


def test_duplicate_customer_ids_name_the_row_not_the_id(tmp_path):
    (tmp_path / "c.csv").write_text("cid,age\nSECRET-1,30\nSECRET-2,40\nSECRET-1,50\n")
    with pytest.raises(InputError, match="row 3: duplicate customer id") as exc:
        load_data(_cfg(tmp_path, '[sources.customers]\npath = "c.csv"\ncustomer_id = "cid"\n'))
    assert "SECRET" not in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_data(_cfg(tmp_path, TX))


def test_parquet_and_sql_sources(tmp_path):
    df = pd.DataFrame({"id": [1, 2, 2], "ts": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05"]),
                       "amount": [1.0, 2.0, 3.0]})
    df.to_parquet(tmp_path / "tx.parquet")
    data, _ = load_data(_cfg(tmp_path, TX.replace("tx.csv", "tx.parquet")))
    assert data.features().loc[2, "monetary"] == 5.0
    import sqlalchemy as sa
    url = f"sqlite:///{tmp_path / 'src.db'}"
    df.to_sql("tx", sa.create_engine(url), index=False)
    body = TX.replace('path = "tx.csv"', f'url = "{url}"\ntable = "tx"')
    data, _ = load_data(_cfg(tmp_path, body))
    assert data.features().loc[1, "monetary"] == 1.0
    body = TX.replace('path = "tx.csv"', f'url = "{url}"\nquery = "SELECT * FROM tx WHERE id = 2"')
    data, _ = load_data(_cfg(tmp_path, body))
    assert list(data.ids) == [2]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_folder_of_files_is_one_source(tmp_path, fmt):
    """A partitioned data set (a folder, as the Dask engine reads it) loads as the single file
    would; marker files (``_SUCCESS``, ``.crc``) are not data; an error's row counts every
    earlier file."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": rng.integers(0, 50, 600), "ts": pd.Timestamp("2024-01-01")
                       + pd.to_timedelta(rng.integers(0, 300, 600), unit="D"), "amount": rng.random(600).round(2)})
    (tmp_path / "tx").mkdir()
    for i in range(3):
        part = df.iloc[200 * i:200 * (i + 1)]
        if fmt == "parquet":
            part.to_parquet(tmp_path / "tx" / f"part-{i}.parquet", index=False)
        else:
            part.to_csv(tmp_path / "tx" / f"part-{i}.csv", index=False)
    (tmp_path / "tx" / "_SUCCESS").write_text("")
    (tmp_path / "tx" / ".part-0.crc").write_text("x")
    df.to_parquet(tmp_path / "whole.parquet", index=False)
    whole, _ = load_data(_cfg(tmp_path, TX.replace("tx.csv", "whole.parquet")))
    folder, stats = load_data(_cfg(tmp_path, TX.replace("tx.csv", "tx")))
    assert stats["transactions"]["rows"] == 600
    pd.testing.assert_frame_equal(whole.features(), folder.features())
    pattern, _ = load_data(_cfg(tmp_path, TX.replace("tx.csv", f"tx/part-[01].{fmt}")))
    assert len(pattern.transactions) == 400
    prints = [fingerprint_inputs(_cfg(tmp_path, TX.replace("tx.csv", p)))["transactions"]
              for p in ("tx", f"tx/part-*.{fmt}", "s3://bucket/tx/")]
    assert prints[0].startswith("tx/:3 files") and prints[1].startswith(f"part-*.{fmt}/:3 files")
    assert prints[2].startswith("url:")
    if fmt == "csv":
        bad = df.iloc[400:600].astype({"ts": str}).reset_index(drop=True)
        bad.loc[41, "ts"] = "not-a-date"
        bad.to_csv(tmp_path / "tx" / "part-2.csv", index=False)
        with pytest.raises(InputError, match="row 442") as exc:
            load_data(_cfg(tmp_path, TX.replace("tx.csv", "tx")))
        assert "not-a-date" not in str(exc.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no data file"):
        load_data(_cfg(tmp_path, TX.replace("tx.csv", "empty")))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=50))
def test_integral_float_ids_become_ints(values):
    s = pd.Series([float(v) for v in values])
    assert normalise_ids(s, "f", "c").tolist() == values
    text = pd.Series([f"{v}.0" for v in values])
    assert normalise_ids(text, "f", "c").tolist() == values


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="abcXYZ-_ 0123", min_size=1, max_size=8), min_size=1, max_size=30))
def test_text_ids_are_stripped_strings(values):
    out = normalise_ids(pd.Series(values), "f", "c")
    if out.dtype != np.int64:
        assert out.tolist() == [v.strip() for v in values]
