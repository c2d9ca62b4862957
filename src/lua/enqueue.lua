
-- tickq_p1_enqueue: enqueue one job atomically. An id that already exists
-- returns the existing job and enqueues nothing, unless `replace` is 1 and
-- the job has finished: then it runs again, as its next run (add_job).
-- args[10..]: id, type, args, queue, priority, max_retries, timeout_ms
--             (0: not set, the worker's default), delay_ms, max_payload,
--             now_us, [replace: 0 or 1]
-- Returns {1, id, 'queued'} for a new job (or a new run), {0, id, state}
-- for an existing one, or an error reply "TICKQ_INVALID <message>". A
-- caller that passes `replace` (0 or 1) gets two more elements: the run
-- number and the state the run before ended in ('' unless replaced).
-- Callers from before runs existed pass no `replace` and get the three
-- elements they know. args[21] (optional, after `replace`): expires_ms,
-- the job's expiry from now ('' or '0': none; add_job, expiry_of).
-- args[22] (optional): depends_on, comma-separated job ids ('' none);
-- args[23] (optional): after_any, 0 or 1 (add_job, deps_check). A job
-- with a dependency still to end is created `deferred`. args[24]
-- (optional): flow, 0 or 1: the job is a flow's parent (cancel.lua).
local function enqueue(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local replace = args[20]
  if replace ~= nil and replace ~= '0' and replace ~= '1' then
    return redis.error_reply('TICKQ_INVALID replace must be 0 or 1, not ' .. replace)
  end
  local reply, why = add_job(c, {
    id = args[10], type = args[11], args = args[12], queue = args[13], priority = args[14],
    max_retries = args[15], timeout_ms = args[16], delay_ms = args[17], max_payload = args[18],
    now_us = args[19], replace = replace == '1', expires_ms = args[21], depends_on = args[22],
    after_any = args[23] == '1', flow = args[24] == '1' })
  if not reply then return redis.error_reply('TICKQ_INVALID ' .. why) end
  flush_counters(c)
  if replace == nil then return { reply[1], reply[2], reply[3] } end
  return reply
end
redis.register_function('tickq_p1_enqueue', enqueue)
