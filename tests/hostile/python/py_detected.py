# A Python strategy sent without "language": detected from the code (it
# defines a Python function).
import pandas as pd


def strategy(df):
    return df[df["close"] > df["open"]].head(2)[["ticker", "date"]].to_dict("records")
