
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
  local id, jtype, payload, queue, priority = args[10], args[11], args[12], args[13], args[14]
  local max_retries, timeout_ms = tonumber(args[15]), tonumber(args[16])
  local delay_ms, max_payload, now_us = tonumber(args[17]) or 0, tonumber(args[18]), args[19]

  local function invalid(msg) return redis.error_reply('TICKQ_INVALID ' .. msg) end
  if not id or id == '' or #id > 128 or string.find(id, '[%c ]') then
    return invalid('job id must be 1-128 characters without spaces')
  end
  if not jtype or #jtype > 64 or not string.match(jtype, '^[%w_.-]+$') then
    return invalid('task type must be 1-64 characters from A-Z a-z 0-9 _ - .')
  end
  if #payload > max_payload then
    return invalid('args are ' .. #payload .. ' bytes, over the payload limit of ' .. max_payload .. ' bytes')
  end
  if not string.match(payload, '^%s*{') then return invalid('args must be a JSON object') end
  if not pcall(cjson.decode, payload) then return invalid('args are not valid JSON') end
  if not queue or #queue > 100 or not string.match(queue, '^[%w_.-]+$') or string.match(queue, '_high$')
    or string.match(queue, '_normal$') or string.match(queue, '_low$') then
    return invalid('invalid queue name: ' .. tostring(queue))
  end
  if priority ~= 'high' and priority ~= 'normal' and priority ~= 'low' then
    return invalid('priority must be high, normal or low')
  end
  if not max_retries or max_retries < 0 or max_retries > 100 or max_retries % 1 ~= 0 then
    return invalid('max_retries must be an integer from 0 to 100')
  end
  if not timeout_ms or timeout_ms <= 0 then return invalid('timeout must be more than 0') end
  if delay_ms < 0 then return invalid('delay must not be negative') end

  local jk = job_key(c, id)
  local h = redis.call('HMGET', jk, 'state', 'stream', 'entry')
  if h[1] then
    local state = h[1]
    if state == 'queued' and is_pending(c, h[2], h[3]) then state = 'running' end
    return { 0, id, state }
  end
  local physical = queue .. '_' .. priority
  local stream = c.queue_prefix .. physical
  local entry, scheduled = '', ''
  if delay_ms > 0 then
    redis.call('ZADD', pkey(c, 'delayed', physical), c.now + delay_ms, id)
    scheduled = iso(c.now + delay_ms)
  else
    entry = redis.call('XADD', stream, '*', 'job', id, 'type', jtype, 'args', payload,
      'attempts', '0', 'max_retries', args[15], 'timeout_ms', args[16], 'enqueued_us', now_us)
  end
  redis.call('HSET', jk, 'id', id, 'type', jtype, 'args', payload, 'queue', queue,
    'priority', priority, 'max_retries', args[15], 'timeout_ms', args[16],
    'attempts', '0', 'created_at', c.now_iso, 'enqueued_us', now_us, 'stream', stream,
    'state', 'queued', 'entry', entry, 'scheduled_for', scheduled)
  redis.call('SADD', pkey(c, 'queues'), physical)
  count(c, queue, 'submitted')
  flush_counters(c)
  return { 1, id, 'queued' }
end
redis.register_function('tickq_p1_enqueue', enqueue)
