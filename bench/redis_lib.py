"""redis_lib.py — what the benchmarks that talk to Redis directly share:
tickq's function library, loaded as the binary loads it.

tests/integration/harness.py has its own load_library: the benchmarks do
not import the test harness (it sets up test scratch folders on import)."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_library(r):
    """Loads tickq's function library (src/lua/*.lua, common.lua first) into
    the Redis of client r, replacing the one there."""
    lua = os.path.join(ROOT, "src", "lua")
    files = ["common.lua"] + sorted(f for f in os.listdir(lua) if f.endswith(".lua") and f != "common.lua")
    code = ""
    for name in files:
        with open(os.path.join(lua, name)) as f:
            code += f.read()
    r.function_load(code, replace=True)
