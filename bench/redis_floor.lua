#!lua name=bench_floor
-- redis_floor.lua — the floor bench_redis_floor.py measures protocol 1
-- against: the least a Redis queue must write per job, as Redis Functions,
-- and that least plus one of protocol 1's per-job writes at a time, to
-- price each. Not tickq's protocol (no validation, priorities, delays,
-- retries, dependencies, limits or history): a yardstick for what a
-- leaner protocol could save, loaded under its own library name and keys
-- (floor:*), into the private Redis the benchmark flushes.

local RUNNING = '{"status":"running","data":{"attempt":1,"worker_id":"bench"},"updated_at":"2026-01-01T00:00:00.000Z"}'
local TTL = 86400

-- floor_enqueue: args id, type, args, queue, now_us, record ('short': six
-- fields; 'full': the fifteen protocol 1's enqueue writes, docs/protocol.md). A stream entry
-- with the job and its record, unless the id exists; one counter.
local function enqueue(_, args)
  local id, jtype, payload, queue, now = args[1], args[2], args[3], args[4], args[5]
  local jk = 'floor:job:' .. id
  if redis.call('EXISTS', jk) == 1 then return { 0, id } end
  local stream = 'floor:queue:' .. queue
  local entry = redis.call('XADD', stream, '*', 'j', id, 't', jtype, 'a', payload)
  if args[6] == 'full' then
    redis.call('HSET', jk, 'state', 'queued', 'entry', entry, 'id', id, 'type', jtype, 'args', payload,
      'queue', queue, 'priority', 'normal', 'max_retries', '3', 'timeout_ms', '0', 'attempts', '0',
      'created_at', '2026-01-01T00:00:00.000Z', 'enqueued_us', now, 'stream', stream, 'scheduled_for', '', 'run', 1)
  else
    redis.call('HSET', jk, 's', 'queued', 'e', entry, 't', jtype, 'a', payload, 'q', queue, 'c', now)
  end
  redis.call('HINCRBY', 'floor:stats:' .. queue, 'submitted', 1)
  return { 1, id }
end

-- floor_claim: keys[1] the stream; args consumer, count, running ('1': a
-- running result per job, as protocol 1 writes; else none: a job is
-- running while its entry is pending). The entries as XREADGROUP gives them.
local function claim(keys, args)
  local r = redis.call('XREADGROUP', 'GROUP', 'floor', args[1], 'COUNT', args[2], 'STREAMS', keys[1], '>')
  if not r then return {} end
  if args[3] == '1' then
    for _, e in ipairs(r[1][2]) do redis.call('SET', 'floor:result:' .. e[2][2], RUNNING, 'EX', TTL) end
  end
  return r[1][2]
end

-- floor_finish: keys[1] the stream; args consumer, now_us, outcomes packed
-- in one string as entry NUL id NUL result NUL ..., result_key ('1': the
-- result in a key of its own, as protocol 1's task_result; else in the
-- record). Each job's record gets its state and end time (one write, with
-- its expiry); the entries are acked and deleted at once; one counter.
local function finish(keys, args)
  local stream, packed, own_key, done, n, pos = keys[1], args[3], args[4] == '1', {}, 0, 1
  while pos <= #packed do
    local a = string.find(packed, '\0', pos, true)
    local b = string.find(packed, '\0', a + 1, true)
    local c = string.find(packed, '\0', b + 1, true)
    local id, result = string.sub(packed, a + 1, b - 1), string.sub(packed, b + 1, c - 1)
    local jk = 'floor:job:' .. id
    if own_key then
      redis.call('HSET', jk, 's', 'completed', 'f', args[2])
      redis.call('SET', 'floor:result:' .. id, result, 'EX', TTL)
    else
      redis.call('HSET', jk, 's', 'completed', 'f', args[2], 'r', result)
    end
    redis.call('EXPIRE', jk, TTL)
    n = n + 1
    done[n] = string.sub(packed, pos, a - 1)
    pos = c + 1
  end
  if n > 0 then
    redis.call('XACK', stream, 'floor', unpack(done))
    redis.call('XDEL', stream, unpack(done))
    redis.call('HINCRBY', 'floor:stats:' .. string.sub(stream, #'floor:queue:' + 1), 'completed', n)
  end
  return n
end

redis.register_function('floor_enqueue', enqueue)
redis.register_function('floor_claim', claim)
redis.register_function('floor_finish', finish)
