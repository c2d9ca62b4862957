# Looks for secrets in its environment: the Python host starts with an
# empty one (a few fixed variables, and a sanitizer build's options), so
# there is nothing to find.
import os

FIXED = {"LANG", "TZ", "PATH", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
         "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}


def strategy(df):
    others = sorted(set(os.environ) - FIXED)
    if others:
        raise RuntimeError(f"unexpected environment variables: {others}")
    return [{"ticker": "SYN0001", "date": "2020-01-02", "env": sorted(os.environ)}]
