# Breaks what the runner needs after the strategy returns (isinstance,
# json.dumps): the job must still fail for good, not look like a sandbox
# failure worth a retry.
import builtins
import json


def strategy(df):
    builtins.isinstance = None
    json.dumps = None
    return [{"ticker": "SYN0001", "date": "2020-01-02"}]
