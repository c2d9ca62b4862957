-- coroutine.yield outside any coroutine.
function f(df) coroutine.yield(1) end
