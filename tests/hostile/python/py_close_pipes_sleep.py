# Closes its output and result pipes (descriptors 1, 2 and 3), then sleeps:
# the host stops reading when both pipes close and, with no result, waited
# for the child without its time limit; a sleep uses no CPU time, so no
# rlimit ended it either. The worker gave up on the host 10 s past the
# limit: "Strategy interrupted", the job retried.
import os
import time


def strategy(df):
    os.close(1)
    os.close(2)
    os.close(3)
    time.sleep(3600)
    return []
