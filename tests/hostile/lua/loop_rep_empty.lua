-- string.rep of the empty string 10^18 times: a C loop that allocates nothing.
function f(df)
  local s = string.rep("", 1e18)
  return {}
end
