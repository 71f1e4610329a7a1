"""Extract the shipped real series from statsmodels' datasets into data/*.csv (run once).

    pip install statsmodels && python scripts/extract_series.py

statsmodels is needed by this script only (never by cells/ or app/, not in requirements.txt);
the CSVs it writes are committed, with their sources in data/README.md:

* data/sunspots.csv: yearly sunspot numbers, 1700-2008 (``statsmodels.datasets.sunspots``:
  NOAA National Geophysical Data Center, public domain), columns ``year,sunspots``;
* data/co2.csv: atmospheric CO2 at Mauna Loa in ppm (``statsmodels.datasets.co2``: Keeling &
  Whorf, Scripps flask samples via CDIAC, public domain), weekly values averaged by calendar
  month, March 1958 - December 2001; a month without any weekly value is the mean of its two
  neighbours' (linear interpolation), columns ``month,co2`` (the month as text, ``1958-03``).

Both are written by ``cells.io.series_csv.write_csv``, read back by ``cells.io.series_csv.read_csv``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cells.io.series_csv import read_csv, write_csv  # noqa: E402

DATA = ROOT / "data"


def main() -> None:
    import statsmodels.api as sm

    DATA.mkdir(exist_ok=True)
    sun = sm.datasets.sunspots.load_pandas().data
    write_csv(DATA / "sunspots.csv",
              {"year": sun["YEAR"].to_numpy(), "sunspots": sun["SUNACTIVITY"].to_numpy()})

    weekly = sm.datasets.co2.load_pandas().data["co2"]
    monthly = weekly.resample("MS").mean()
    missing = int(monthly.isna().sum())
    monthly = monthly.interpolate("linear")
    months = [f"{d.year}-{d.month:02d}" for d in monthly.index]
    write_csv(DATA / "co2.csv", {"month": months, "co2": np.round(monthly.to_numpy(), 2)})

    for name in ("sunspots", "co2"):
        table = read_csv(DATA / f"{name}.csv", max_rows=10**6)
        size = (DATA / f"{name}.csv").stat().st_size
        print(f"data/{name}.csv: {table.read_rows} rows, {size:,} bytes")
    print(f"co2: {missing} months without a weekly value, interpolated")


if __name__ == "__main__":
    main()
