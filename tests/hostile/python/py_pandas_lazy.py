# Uses pandas and numpy features that import more of themselves on first
# use (rolling windows, ewm, groupby, to_csv, numpy's fft and polynomial):
# they must work.
import numpy as np
import pandas as pd


def strategy(df):
    close = df["close"].to_numpy()
    fit = np.polynomial.polynomial.polyfit(np.arange(len(close)), close, 2)
    spectrum = np.fft.rfft(close)
    rolled = df.groupby("ticker")["close"].rolling(5).mean().reset_index(drop=True)
    smooth = df["close"].ewm(span=5).mean()
    text = df.head(3).to_csv()
    stamp = pd.Timestamp(df["date"][0])
    return [{"ticker": "SYN0001", "date": str(stamp.date()), "n": len(fit) + len(spectrum) + len(rolled) + len(smooth),
             "csv": text.count("\n")}]
