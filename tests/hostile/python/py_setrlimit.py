# Lifts its own address-space limit (possible for a root worker that keeps
# CAP_SYS_RESOURCE), then allocates 600 MB.
import resource


def strategy(df):
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    block = b' ' * (600 << 20)
    return [{"ticker": "SYN0001", "date": "2020-01-02", "n": len(block)}]
