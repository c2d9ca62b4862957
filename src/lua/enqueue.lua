
-- tickq_p1_enqueue: enqueue one job atomically. An id that already exists
-- returns the existing job and enqueues nothing.
-- args[10..]: id, type, args, queue, priority, max_retries, timeout_ms,
--             delay_ms, max_payload, now_us
-- Returns {1, id, 'queued'} for a new job, {0, id, state} for an existing
-- one, or an error reply "TICKQ_INVALID <message>".
local function enqueue(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local reply, why = add_job(c, {
    id = args[10], type = args[11], args = args[12], queue = args[13], priority = args[14],
    max_retries = args[15], timeout_ms = args[16], delay_ms = args[17], max_payload = args[18],
    now_us = args[19] })
  if not reply then return redis.error_reply('TICKQ_INVALID ' .. why) end
  flush_counters(c)
  return reply
end
redis.register_function('tickq_p1_enqueue', enqueue)
