"""redis_lib.py — what the benchmarks that talk to Redis directly share,
and the tests too (tests/integration/harness.py imports it): tickq's
function library, loaded as the binary loads it. It imports nothing of the
tests (the harness sets up test scratch folders on import)."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = "src/lua"


def library_text(rev=None, lua_dir=None):
    """tickq's function library as scripts/embed-lua builds it (common.lua
    first, each file after it headed by a comment line with its name): from
    src/lua, from another folder (lua_dir), or from git revision rev."""
    if rev is not None:
        git = lambda *a: subprocess.run(["git", "-C", ROOT, *a], check=True, capture_output=True, text=True).stdout
        names = git("ls-tree", "--name-only", f"{rev}:{LUA}").split()
        read = lambda n: git("show", f"{rev}:{LUA}/{n}")
    else:
        folder = lua_dir or os.path.join(ROOT, LUA)
        names = os.listdir(folder)

        def read(n):
            with open(os.path.join(folder, n)) as f:
                return f.read()
    rest = sorted(n for n in names if n.endswith(".lua") and n != "common.lua")
    return read("common.lua") + "".join(f"-- {n}\n" + read(n) for n in rest)


def load_library(r):
    """Loads tickq's function library (src/lua) into the Redis of client r,
    replacing the one there."""
    r.function_load(library_text(), replace=True)
