
-- tickq_p1_claim: claim up to COUNT jobs for one consumer in strict priority
-- order. Due retries and delayed jobs are promoted first; then the streams
-- (keys, in the worker's order) are read one at a time and the batch comes
-- from the first non-empty one. Each claimed job's task_result says running.
-- args[10..]: consumer, count
-- Returns {stream_index, then per job: entry, id, type, args, attempt,
--          max_retries, timeout_ms, enqueued_us}, or when nothing is ready
-- {0, next_due_ms (-1: none), retries_waiting, last_delivered_id per stream}
-- so the caller can block on XREAD from there.
local function promote(c, stream)
  local physical = physical_of(c, stream)
  for _, zkey in ipairs({ pkey(c, 'retry', physical), pkey(c, 'delayed', physical) }) do
    local due = redis.call('ZRANGEBYSCORE', zkey, '-inf', c.now, 'LIMIT', 0, 200)
    for _, id in ipairs(due) do
      local state = redis.call('HGET', job_key(c, id), 'state')
      if state == 'retrying' or state == 'queued' then add_entry_from_record(c, stream, id) end
      redis.call('ZREM', zkey, id)
    end
  end
end

local function read_group(c, stream, consumer, want)
  local r = redis.pcall('XREADGROUP', 'GROUP', c.group, consumer, 'COUNT', want, 'STREAMS', stream, '>')
  if type(r) == 'table' and r.err then
    if not string.find(r.err, 'NOGROUP', 1, true) then error(r.err) end
    redis.call('XGROUP', 'CREATE', stream, c.group, '0', 'MKSTREAM')
    r = redis.call('XREADGROUP', 'GROUP', c.group, consumer, 'COUNT', want, 'STREAMS', stream, '>')
  end
  if not r then return nil end
  return r[1][2]
end

local function claim(keys, args)
  local c = context(args)
  local perr = protocol_error(c)
  if perr then return perr end
  local consumer, want = args[10], tonumber(args[11])
  for _, stream in ipairs(keys) do promote(c, stream) end

  local running_head = '{"status":"running","data":{"attempt":'
  local running_tail = ',"worker_id":' .. cjson.encode(consumer) .. '},"updated_at":"' .. c.now_iso .. '"}'
  for index, stream in ipairs(keys) do
    local entries = read_group(c, stream, consumer, want)
    if entries then
      local out, n = { index }, 1
      for _, e in ipairs(entries) do
        local f = e[2]
        -- Entries are written by add_entry only, so fields sit at fixed places.
        local id, attempt = f[2], tostring(tonumber(f[8]) + 1)
        redis.call('SET', result_key(id), running_head .. attempt .. running_tail, 'EX', c.ttl)
        out[n + 1] = e[1]
        out[n + 2] = id
        out[n + 3] = f[4]
        out[n + 4] = f[6]
        out[n + 5] = attempt
        out[n + 6] = f[10]
        out[n + 7] = f[12]
        out[n + 8] = f[14]
        n = n + 8
      end
      return out
    end
  end

  local next_due, retrying = -1, 0
  local out = { 0, 0, 0 }
  for _, stream in ipairs(keys) do
    local physical = physical_of(c, stream)
    for _, zkey in ipairs({ pkey(c, 'retry', physical), pkey(c, 'delayed', physical) }) do
      local first = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
      if first[2] then
        local due = tonumber(first[2])
        if next_due < 0 or due < next_due then next_due = due end
      end
    end
    retrying = retrying + redis.call('ZCARD', pkey(c, 'retry', physical))
    local last = '0-0'
    local groups = redis.pcall('XINFO', 'GROUPS', stream)
    if type(groups) == 'table' and not groups.err then
      for _, g in ipairs(groups) do
        if field_of(g, 'name') == c.group then last = field_of(g, 'last-delivered-id') or last end
      end
    end
    out[#out + 1] = last
  end
  out[2] = next_due
  out[3] = retrying
  return out
end
redis.register_function('tickq_p1_claim', claim)
