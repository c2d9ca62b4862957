
-- tickq_p1_history_ack: a history process has written the rows of these
-- entries of a history stream (keys[1]) to its database: acknowledge and
-- delete the entries, and take their rows off the backlog (`waiting` of
-- <stream>:state, flush_history). An entry that is gone (deleted by hand)
-- is only acknowledged.
-- args[10]: the history processes' consumer group; args[11..]: entry ids.
-- Returns the number of rows taken off the backlog.
local function history_ack(keys, args)
  local stream, group = keys[1], args[10]
  if #args < 11 then return 0 end
  local rows, seen = 0, {}
  for i = 11, #args do
    local e = not seen[args[i]] and redis.call('XRANGE', stream, args[i], args[i]) or {}
    seen[args[i]] = true
    if #e > 0 then rows = rows + #e[1][2] / 2 end
  end
  redis.call('XACK', stream, group, unpack(args, 11))
  redis.call('XDEL', stream, unpack(args, 11))
  if rows > 0 then redis.call('HINCRBY', stream .. ':state', 'waiting', -rows) end
  return rows
end
redis.register_function('tickq_p1_history_ack', history_ack)
