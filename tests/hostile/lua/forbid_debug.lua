-- debug.getregistry, to reach the sandbox's own state.
function f(df) local reg = debug.getregistry() return {} end
