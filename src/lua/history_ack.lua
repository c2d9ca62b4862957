
-- tickq_p1_history_ack: a history process has written the rows of these
-- entries of a history stream (keys[1]) to its database: acknowledge and
-- delete the entries, and take their rows off the backlog (`waiting` of
-- <stream>:state, flush_history). Only an entry this call deletes counts:
-- one acknowledged before (by a history process that took it over while
-- this one was slow) or deleted by hand is only acknowledged.
-- args[10]: the history processes' consumer group; args[11..]: per entry,
-- its id and its number of rows (fields / 2, as flush_history counted them).
-- Returns the number of rows taken off the backlog.
local function history_ack(keys, args)
  local stream, group = keys[1], args[10]
  local rows, ids = 0, {}
  for i = 11, #args - 1, 2 do
    ids[#ids + 1] = args[i]
    if redis.call('XDEL', stream, args[i]) == 1 then rows = rows + tonumber(args[i + 1]) end
  end
  if #ids == 0 then return 0 end
  redis.call('XACK', stream, group, unpack(ids))
  if rows > 0 then redis.call('HINCRBY', stream .. ':state', 'waiting', -rows) end
  return rows
end
redis.register_function('tickq_p1_history_ack', history_ack)
