"""tickq.json_rules — the JSON tickq reads, checked on the Python side.

tickq reads JSON with Jansson (src/handlers/handler_wire.c reads a
handler's messages, src/core/job.c a job's args), which refuses some of
what Python's json module writes:

  (1) an integer beyond signed 64 bits (below -2**63 or above 2**63-1);
  (2) a NUL character ("\\u0000") in a string or a key;
  (3) a key given twice in one object: json.dumps writes the keys 1 and
      "1" of one dict both as "1" (and True as "true", None as "null");
  (4) values nested deeper than its parser goes (2048 levels, the
      enclosing message's own included).

`problem(value, place, depth_max)` finds the first of these in a value
that json.dumps has already encoded, and names where it is in the words
of tickq's errors: "result key 'n': an integer beyond 64 bits
(18446744073709551616)". The handler runtime checks a task's result with
it before replying (tickq.runtime), the client a job's args before
enqueueing (tickq.client). Given the text json.dumps wrote, it first
looks for a NUL escape there and at the value a level at a time with C
code (map, set, min, max): a value with nothing to report, the common
case, costs less than its encoding. Only a value that may hold a problem
is walked item by item, to name the place. Nothing recurses, so a deep
value is checked too.

`numpy_default` is the `default` of tickq's JSON encoders: a numpy scalar
of a bool, integer or float type (what a pandas reduction returns:
`df.volume.sum()` is a numpy.int64) is written as the Python number it
equals, digit for digit, as a numpy.float64 (a float) always was.
"""
import sys

from itertools import chain

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
PARSER_DEPTH = 2048          # Jansson's JSON_PARSER_MAX_DEPTH: values nested in one line, scalars included
# A result's nesting (depth()) that tickq reads both in the handler's reply
# {"data": ...} and in task_result's {"data": {"result": ...}}, each level
# of either and a scalar at the bottom counted.
RESULT_DEPTH_MAX = PARSER_DEPTH - 3

_CONTAINERS = (dict, list, tuple)
_STR = frozenset((str,))


def numpy_default(o):
    """json's `default` hook: a numpy bool_, integer or floating scalar as
    the Python bool, int or float of the same value; anything else (a
    Decimal, a datetime, an array, numpy's long double, which a float does
    not hold exactly) raises TypeError, as json does. An integer beyond
    64 bits raises ValueError naming it (json_rules checks only Python
    ints for that). numpy is never imported here: a value can only be one
    of its scalars once the task has imported it."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(o, np.generic):
        if isinstance(o, np.bool_):
            return bool(o)
        if isinstance(o, np.integer):
            n = int(o)
            if not INT64_MIN <= n <= INT64_MAX:
                raise ValueError(f"a numpy.{type(o).__name__} beyond 64 bits ({n}): tickq takes integers from "
                                 "-2**63 to 2**63-1")
            return n
        if isinstance(o, np.floating) and np.finfo(o.dtype).bits <= 64:
            return float(o)   # float16/32/64 are exact as a double; NaN and inf are refused as for a float
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def unencodable(value, place, encode):
    """Where in `value` the first thing `encode` (a json encoder's encode,
    which refused value) cannot write is, as "PLACE key 'k' item 3: a
    float nan, which JSON does not have" or "...: a Decimal (TypeError:
    ...)"; None when no single item is to blame (a container that holds
    itself). Walked without recursion, only once encoding has failed."""
    seen = set()
    stack = [_Node(value, 1, None, None)]
    while stack:
        node = stack.pop()
        v = node.value
        if isinstance(v, _CONTAINERS):
            if id(v) in seen:
                continue
            seen.add(id(v))
            if isinstance(v, dict):
                for k in v:
                    if not isinstance(k, (str, int, float, bool)) and k is not None:
                        return (f"{node.place(place)}: a {type(k).__name__} key, {_quote(k)}: JSON keys "
                                "are strings")
                steps = [(f"key {_quote(k)}", x) for k, x in v.items()]
            else:
                steps = [(f"item {i}", x) for i, x in enumerate(v)]
            stack.extend(_Node(x, node.level + 1, node, step) for step, x in reversed(steps))
            continue
        try:
            encode(v)
        except (TypeError, ValueError) as e:
            where = node.place(place) if node.parent is None else node.parent.place(place, node.step)
            if isinstance(v, float):
                return f"{where}: a float {v!r}, which JSON does not have"
            return f"{where}: a {type(v).__name__} ({type(e).__name__}: {e})"
    return None


def depth(value):
    """How deep value's dicts and lists nest (a scalar: 0, {} or []: 1), as
    tickq counts args (src/core/job.c, json_depth); without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = v.values()
        elif not isinstance(v, (list, tuple)):
            continue
        if d > deepest:
            deepest = d
        stack.extend((x, d + 1) for x in v if isinstance(x, _CONTAINERS))
    return deepest


def _quote(text, limit=40):
    text = repr(text)
    return text if len(text) <= limit + 2 else text[:limit] + "\u2026" + text[-1]


def _number(n):
    digits = str(n)
    return digits if len(digits) <= 40 else f"{digits[:20]}\u2026 ({len(digits.lstrip('-'))} digits)"


def _json_key(k):
    """The key json.dumps writes for dict key k (its C encoder's rules)."""
    if isinstance(k, str):
        return k
    if isinstance(k, float):
        return float.__repr__(k)
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    return int.__repr__(k)


class _Node:
    """A container on the walk, with where it sits (for the message only)."""
    __slots__ = ("value", "level", "parent", "step")

    def __init__(self, value, level, parent, step):
        self.value, self.level, self.parent, self.step = value, level, parent, step

    def place(self, root, step=None):
        """root and the steps from it to this node (and `step` in it); the
        middle of a long path left out."""
        steps = [] if step is None else [step]
        node = self
        while node.parent is not None:
            steps.append(node.step)
            node = node.parent
        steps.reverse()
        if len(steps) > 12:
            steps = steps[:4] + [f"\u2026 {len(steps) - 10} more \u2026"] + steps[-6:]
        return " ".join([root] + steps)


def _scalar_problem(v):
    """What tickq refuses in one scalar, or None."""
    if isinstance(v, str):
        return "a string with a NUL character (\\u0000): tickq takes text without NUL" if "\0" in v else None
    if isinstance(v, int) and not isinstance(v, bool) and not INT64_MIN <= v <= INT64_MAX:
        return f"an integer beyond 64 bits ({_number(int(v))}): tickq takes integers from -2**63 to 2**63-1"
    return None


def _items_problem(items, keyed):
    """The first scalar problem among items (pairs (key, value) when keyed),
    as (step, why), or None. A run of floats, booleans and containers is
    passed over, and one of only strings or only integers checked, by C
    code; a mixed one item by item."""
    values = [v for _, v in items] if keyed else items
    kinds = set(map(type, values))
    if not any(issubclass(t, (str, int)) and t is not bool for t in kinds):
        return None
    if kinds == {str} and "\0" not in "".join(values):
        return None
    if kinds <= {int, bool} and INT64_MIN <= min(values) and max(values) <= INT64_MAX:
        return None
    for i, v in enumerate(values):
        why = _scalar_problem(v)
        if why is not None:
            return (f"key {_quote(items[i][0])}" if keyed else f"item {i}"), why
    return None


def _children(level):
    """The values of the dicts and lists in `level`, as one iterator."""
    return chain.from_iterable(dict.values(v) if isinstance(v, dict) else v for v in level)


def _ints_fit(values, kinds):
    """Whether the integers among values (whose types are kinds) are within
    64 bits; a float beyond them may say no (the caller then looks closer)."""
    if not any(issubclass(t, int) and t is not bool for t in kinds):
        return True
    if not all(issubclass(t, (int, float)) for t in kinds):
        values = [x for x in values if isinstance(x, int)]
    return INT64_MIN <= min(values) and max(values) <= INT64_MAX


def _may_hold_problem(value, depth_max):
    """False when value surely holds no integer beyond 64 bits, no key that
    is not a str (json.dumps makes it one, and two may become the same),
    and no nesting deeper than depth_max; True when it may (problem() then
    walks it to say where). Walked a level at a time, each level's keys and
    values looked at by C code (map, set, min, max) rather than one by one."""
    if not isinstance(value, _CONTAINERS):
        return not _ints_fit([value], {type(value)})
    level, level_depth = [value], 0
    while level:
        level_depth += 1
        if level_depth > depth_max:
            return True
        keys = chain.from_iterable(v for v in level if isinstance(v, dict))
        if not set(map(type, keys)) <= _STR:
            return True
        values = list(_children(level))
        kinds = set(map(type, values))
        if not _ints_fit(values, kinds):
            return True
        level = [x for x in values if isinstance(x, _CONTAINERS)] if any(
            issubclass(t, _CONTAINERS) for t in kinds) else []
    return False


def problem(value, place, depth_max=RESULT_DEPTH_MAX, text=None):
    """None when tickq reads `value` (already known to encode with
    json.dumps) as it is; else "PLACE: what is wrong", PLACE being `place`
    ("result", "args") followed by the keys and items that lead to it
    ("result key 'rows' item 3 key 'n'"). depth_max: the nesting allowed,
    as depth() counts it. `text`, value as json.dumps wrote it, makes the
    common case cheap: when it holds no NUL escape and _may_hold_problem
    says no, nothing is looked at one by one."""
    if text is not None and "\\u0000" not in text and not _may_hold_problem(value, depth_max):
        return None
    if not isinstance(value, _CONTAINERS):
        why = _scalar_problem(value)
        return None if why is None else f"{place}: {why}"
    stack = [_Node(value, 1, None, None)]
    while stack:
        node = stack.pop()
        if node.level > depth_max:
            return f"{place} is nested {depth(value)} levels deep, more than the {depth_max} tickq reads"
        v = node.value
        if isinstance(v, dict):
            items = list(v.items())
            if not all(type(k) is str for k, _ in items):
                seen = {}
                for k, _ in items:
                    j = _json_key(k)
                    if j in seen:
                        return (f"{node.place(place)}: the keys {_quote(seen[j])} and {_quote(k)} both become "
                                f"the key {_quote(j)} in JSON: tickq refuses a key given twice")
                    seen[j] = k
            for k, _ in items:
                j = _json_key(k)
                if "\0" in j:
                    return f"{node.place(place, f'key {_quote(j)}')}: a key with a NUL character (\\u0000): " \
                           "tickq takes text without NUL"
            found = _items_problem(items, True)
            children = ((f"key {_quote(k)}", x) for k, x in items if isinstance(x, _CONTAINERS))
        else:
            found = _items_problem(v, False)
            children = ((f"item {i}", x) for i, x in enumerate(v) if isinstance(x, _CONTAINERS))
        if found is not None:
            return f"{node.place(place, found[0])}: {found[1]}"
        stack.extend(_Node(x, node.level + 1, node, step) for step, x in children)
    return None
