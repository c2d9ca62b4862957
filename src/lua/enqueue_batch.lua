
-- tickq_p1_enqueue_batch: enqueue many jobs in one call (`tickq enqueue
-- --file`, POST /api/tasks with a list, the Python client's enqueue_many),
-- each as tickq_p1_enqueue would with replace given (add_job), without
-- dependencies. All or nothing: every job is checked before any is written
-- (its fields, its expiry, and a replace of a finished job that waiting
-- jobs still need), and one refusal refuses the call: nothing is written.
-- An id that exists is not a refusal: that job is answered as it stands
-- (created 0), as enqueue answers it, and the others go in. Jobs are added
-- in their order, so an id given twice is created once (the second sees
-- the first).
-- args[10]: max_payload, args[11]: now_us, args[12]: fields per job (10),
-- then per job: id, type, args, queue, priority, max_retries, timeout_ms,
-- delay_ms, replace (0 or 1), expires_ms ('0': none). At most 1000 jobs.
-- Returns per job, flat: created (1 or 0), state, run, previous (as
-- enqueue's reply without the id), or "TICKQ_INVALID job <n> (<id>): why"
-- (n from 1).
local BATCH_FIELDS = 10
local BATCH_MAX = 1000

local function enqueue_batch(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local max_payload, now_us, fields = args[10], args[11], tonumber(args[12])
  if fields ~= BATCH_FIELDS then
    return redis.error_reply('TICKQ_INVALID this library takes ' .. BATCH_FIELDS .. ' fields per job, not ' ..
      tostring(args[12]))
  end
  local n = (#args - 12) / BATCH_FIELDS
  if n % 1 ~= 0 or n > BATCH_MAX then
    return redis.error_reply('TICKQ_INVALID a batch is 0 to ' .. BATCH_MAX .. ' jobs of ' .. BATCH_FIELDS ..
      ' fields; ' .. (#args - 12) .. ' arguments given')
  end
  local jobs = {}
  c.passed = passed_memo()
  for i = 1, n do
    local at = 12 + (i - 1) * BATCH_FIELDS
    local replace = args[at + 9]
    local j = { id = args[at + 1], type = args[at + 2], args = args[at + 3], queue = args[at + 4],
      priority = args[at + 5], max_retries = args[at + 6], timeout_ms = args[at + 7], delay_ms = args[at + 8],
      max_payload = max_payload, now_us = now_us, replace = replace == '1', expires_ms = args[at + 10],
      checked = true }
    local why = (replace ~= '0' and replace ~= '1') and ('replace must be 0 or 1, not ' .. tostring(replace))
      or job_invalid(c, j)
    if not why then
      j.expires, why = expiry_of(c, j.expires_ms, delay_of(j))
    end
    if not why and j.replace then
      local h = redis.call('HMGET', job_key(c, j.id), 'state', 'needed_by')
      if h[2] and FINAL[h[1]] then
        why = 'job ' .. j.id .. ' cannot run again yet: ' .. h[2] .. ' waiting job(s) depend on its result'
      end
    end
    if why then
      return redis.error_reply('TICKQ_INVALID job ' .. i .. ' (' .. tostring(j.id) .. '): ' .. why)
    end
    jobs[i] = j
  end
  local out = {}
  for i = 1, n do
    local reply, why = add_job(c, jobs[i])
    -- add_job refuses nothing the loop above passed; were it to, the jobs
    -- before were written: a bug, said as one (not as a refusal, which
    -- callers read as "nothing written").
    if not reply then
      error('tickq_p1_enqueue_batch: job ' .. i .. ' refused after the checks (' .. why .. '); ' .. (i - 1) ..
        ' jobs before it were written')
    end
    out[#out + 1], out[#out + 2], out[#out + 3], out[#out + 4] = reply[1], reply[3], reply[4], reply[5]
  end
  flush_counters(c)
  return out
end
redis.register_function('tickq_p1_enqueue_batch', enqueue_batch)
