#!lua name=tickq_p1
-- tickq's Redis function library, protocol 1 (docs/protocol.md).
--
-- Loaded with FUNCTION LOAD REPLACE by every tickq process that needs it;
-- the protocol version is part of the library and function names, so workers
-- of two protocol versions can share a Redis during a rolling upgrade without
-- replacing each other's code (the <prefix>:protocol key then tells them
-- apart). This file holds the helpers; the files after it (concatenated at
-- build time) each register one function.
--
-- Every function takes the same argument header; its own arguments start at
-- args[10]:
--   1 key prefix   2 now (epoch ms, caller's clock)   3 now as ISO 8601
--   4 consumer group   5 result TTL (s)   6 dead-letter cap
--   7 retry backoff base (ms)   8 retry backoff cap (ms)   9 random seed
-- Keys other than the streams are derived from the prefix, so tickq needs a
-- single Redis instance, not a cluster.
--
-- Stream entries carry everything a worker needs to start a job, so claiming
-- costs no extra lookups: job, type, args, attempts (runs so far),
-- max_retries, timeout_ms (0: not set, the claiming worker's default),
-- enqueued_us. The job hash is the record; a job
-- being run is one whose entry is pending in the consumer group.
--
-- A job id is unique: adding an id that exists enqueues nothing and reports
-- the existing job's state, unless the caller asks to run a finished job
-- (completed, failed, dead, cancelled) again. That re-run is a new run of
-- the id: the record's `run` goes up by one (a record without it is run 1),
-- attempts start at 0, and the previous run's result, retry list and
-- dead-letter entry are removed (the job history database keeps every run).

local PROTOCOL = '1'

-- The states a job ends in; only a job in one of them can run again (the C
-- side's job_state_is_final holds the same list).
local FINAL = { completed = true, failed = true, dead = true, cancelled = true }

-- A record without `run` (written before runs were counted) is run 1.
local function run_of(v) return tonumber(v) or 1 end

local function context(args)
  -- ttl and dlq_cap stay strings: they only go back into commands, and
  -- Lua number-to-string conversion is measurable on the hot path. So do
  -- base, max and seed until a retry's backoff needs them (backoff, rand):
  -- string-to-number conversion is too.
  local c = {
    prefix = args[1], now = tonumber(args[2]), now_iso = args[3], group = args[4],
    ttl = args[5], dlq_cap = args[6], base = args[7], max = args[8], seed = args[9], counters = {},
  }
  c.queue_prefix = c.prefix .. ':queue:'
  return c
end

local function pkey(c, a, b)
  if b then return c.prefix .. ':' .. a .. ':' .. b end
  return c.prefix .. ':' .. a
end
local function job_key(c, id) return c.prefix .. ':job:' .. id end
local function result_key(id) return 'task_result:' .. id end
-- Queue names (src/core/queue_names.h: the same rules): a logical queue
-- has one physical queue per priority, "<queue>_<priority>", each a stream
-- "<prefix>:queue:<physical>". These three are the only places that know.
local function physical_of(c, stream) return string.sub(stream, #c.queue_prefix + 1) end
local function logical_of(physical) return (string.gsub(physical, '_[a-z]+$', '')) end
local function stream_of(c, queue, priority)
  local physical = queue .. '_' .. priority
  return physical, c.queue_prefix .. physical
end

-- A uniform number in [0, 1) for backoff jitter.
local function rand(c)
  c.seed = ((tonumber(c.seed) or 1) * 1103515245 + 12345) % 2147483648
  return c.seed / 2147483648
end

-- Epoch milliseconds as ISO 8601 UTC, "2026-01-15T10:30:00.123Z"
-- (days-to-civil conversion after Howard Hinnant's published algorithm).
-- (Library globals such as math exist only while a function runs, not at load.)
local function iso(ms)
  local floor = math.floor
  ms = floor(ms)
  local s = floor(ms / 1000)
  local days = floor(s / 86400)
  local secs = s - days * 86400
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    floor(secs / 3600), floor(secs % 3600 / 60), secs % 60, ms % 1000)
end

-- Refuses to touch data written by another protocol version; records ours
-- on a fresh Redis. Returns an error reply or nil.
local function protocol_error(c)
  local v = redis.call('GET', pkey(c, 'protocol'))
  if not v then
    redis.call('SET', pkey(c, 'protocol'), PROTOCOL)
  elseif v ~= PROTOCOL then
    return redis.error_reply('TICKQ_PROTOCOL Redis holds tickq protocol ' .. v ..
      ' but this tickq speaks protocol ' .. PROTOCOL .. ': run one tickq version on every worker and client')
  end
  return nil
end

-- Counters (per logical queue; totals are summed by readers) are added up
-- per call and written once at the end.
local function count(c, queue, field, n)
  queue = queue or '?'
  local q = c.counters[queue]
  if not q then q = {}; c.counters[queue] = q end
  q[field] = (q[field] or 0) + (n or 1)
end
local function flush_counters(c)
  for queue, fields in pairs(c.counters) do
    for field, n in pairs(fields) do
      redis.call('HINCRBY', pkey(c, 'stats', queue), field, n)
    end
  end
  c.counters = {}
end

local function field_of(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

-- The fields of a stream entry as a table, or nil when the entry is gone
-- (queue streams: job_fields).
local function entry_fields(stream, entry)
  local r = redis.call('XRANGE', stream, entry, entry)
  if #r == 0 then return nil end
  local f, t = r[1][2], {}
  for i = 1, #f, 2 do t[f[i]] = f[i + 1] end
  return t
end

-- A job's stream entry: these fields in this order, written by
-- stream_append only and read through is_job_entry or job_of
-- (src/core/queue.c, queue_entry_field_names, is the same list;
-- tests/unit/test_lua_caps.c holds the three together). An entry with
-- anything else was XADDed by a foreign client and is not a job: whoever
-- meets it acks and deletes it, nothing more.
local ENTRY_FIELDS = { 'job', 'type', 'args', 'attempts', 'max_retries', 'timeout_ms', 'enqueued_us' }

-- No fields (a shared empty list, never written to).
local NO_FIELDS = {}

-- Whether a raw field list `f` is a job entry's: ENTRY_FIELDS, in order.
-- Its values are then f[2], f[4], ... in that order (job_of's table
-- without the table, for the claim's loop).
local function is_job_entry(f)
  if #f ~= 2 * #ENTRY_FIELDS then return false end
  for i = 1, #ENTRY_FIELDS do
    if f[2 * i - 1] ~= ENTRY_FIELDS[i] then return false end
  end
  return true
end

-- A job entry's raw field list `f` as a table by field name, or nil when
-- the entry is not a job.
local function job_of(f)
  if not is_job_entry(f) then return nil end
  local e = {}
  for i, name in ipairs(ENTRY_FIELDS) do e[name] = f[2 * i] end
  return e
end

-- A job's entry in a queue stream as a table (job_of), or nil when the
-- entry is gone or is not a job.
local function job_fields(stream, entry)
  local r = redis.call('XRANGE', stream, entry, entry)
  if #r == 0 then return nil end
  return job_of(r[1][2])
end

-- Stream ids "ms-seq" as two numbers, for ordering.
local function parse_id(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function id_less(a, b)
  local am, as = parse_id(a)
  local bm, bs = parse_id(b)
  return am < bm or (am == bm and as < bs)
end

-- The first n bytes of s, cut back to a UTF-8 character boundary.
local function utf8_head(s, n)
  if #s <= n then return s end
  local i = n
  while i > 0 do
    local b = string.byte(s, i + 1)
    if b < 0x80 or b >= 0xC0 then break end
    i = i - 1
  end
  return string.sub(s, 1, i)
end

local function now_us(c) return string.format('%.0f', c.now * 1000) end

-- Job history (docs/database.md, "Job history"). Every function that
-- finishes attempts (finish, release, reclaim) collects their rows here and
-- appends them to the caller's history stream at the end of the same call,
-- in one XADD (flush_history): a row exists exactly when Redis recorded
-- what it describes, so no process killed after the call can lose it. The
-- stream is the one of the caller's database, <prefix>:history:<database
-- id>; a caller that gives none (--no-history, or a tickq from before the
-- stream) gets no rows. Rows:
--   job    the end of a run (completed, failed, dead, cancelled): one per run
--   retry  a failed attempt recorded in <prefix>:retries:<id>: one per record
-- An entry's fields are 'job' or 'retry', each value one row, its columns
-- separated by NUL bytes (ids, names, numbers and times hold none; an error
-- is the text before any NUL: split_details), the error last:
--   job    id, run, created_at, attempts, state, type, queue, worker, started_us, finished_us, error
--   retry  id, run, created_at, attempt, kind, worker, at_us, error
-- created_at is the record's (it tells runs of a reused id apart in the
-- database); times are epoch microseconds, '' when unknown.
local HISTORY_ERROR_MAX = 1024
local CANCELLED = 'Job cancelled'

local function history_on(c, stream)
  if stream and stream ~= '' then c.history, c.rows, c.nrows = stream, {}, 0 end
end

-- (One concatenation per row: cheaper in Redis's CPU than a table per row.)
local function history_job(c, id, run, created, attempts, state, jtype, queue, worker, started_us, finished_us, err)
  if not c.history then return end
  local rows, n = c.rows, c.nrows
  rows[n + 1] = 'job'
  rows[n + 2] = id .. '\0' .. run .. '\0' .. (created or '') .. '\0' .. attempts .. '\0' .. state .. '\0' ..
    (jtype or '') .. '\0' .. (queue or '') .. '\0' .. (worker or '') .. '\0' .. (started_us or '') .. '\0' ..
    (finished_us or now_us(c)) .. '\0' .. (err and utf8_head(err, HISTORY_ERROR_MAX) or '')
  c.nrows = n + 2
end

local function history_retry(c, id, run, created, attempt, kind, worker, at_us, err)
  if not c.history then return end
  local rows, n = c.rows, c.nrows
  rows[n + 1] = 'retry'
  rows[n + 2] = id .. '\0' .. run .. '\0' .. (created or '') .. '\0' .. attempt .. '\0' .. kind .. '\0' ..
    (worker or '') .. '\0' .. (at_us or now_us(c)) .. '\0' .. (err and utf8_head(err, HISTORY_ERROR_MAX) or '')
  c.nrows = n + 2
end

-- The backlog: <stream>:state counts in `waiting` the rows appended and not
-- yet acknowledged by a history process (tickq_p1_history_ack). Past `cap`
-- rows (written there by the supervisors: --history-backlog) the oldest rows
-- that no history process has read yet are deleted and counted in
-- `dropped`, whole entries at a time (so a few rows more than the excess
-- may go). (XADD MAXLEN would trim unread entries without a trace; and
-- entries a history process holds, delivered but not yet acknowledged, are
-- being written just now: they are neither dropped nor counted.)
local function history_drop(c, state, excess)
  if redis.call('XLEN', c.history) == 0 then
    redis.call('HSET', state, 'waiting', 0) -- the stream is gone (deleted by hand): nothing waits
    return
  end
  local last
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', c.history)) do
    local id = field_of(g, 'last-delivered-id')
    if last == nil or id_less(id, last) then last = id end
  end
  local from, dropped = last and '(' .. last or '-', 0
  while dropped < excess do
    local es = redis.call('XRANGE', c.history, from, '+', 'COUNT', 100)
    if #es == 0 then break end
    local ids = {}
    for _, e in ipairs(es) do
      if dropped >= excess then break end
      ids[#ids + 1] = e[1]
      dropped = dropped + #e[2] / 2
      from = '(' .. e[1]
    end
    redis.call('XDEL', c.history, unpack(ids))
  end
  if dropped > 0 then
    redis.call('HINCRBY', state, 'dropped', dropped)
    redis.call('HINCRBY', state, 'waiting', -dropped)
  end
end

-- Appends the collected rows (one XADD, unless a call settles more than
-- 1,000 rows: unpack's limit); returns how many.
local function flush_history(c)
  local rows = c.rows
  if not c.history or c.nrows == 0 then return 0 end
  local n = c.nrows / 2
  local state = c.history .. ':state'
  local h = redis.call('HMGET', state, 'waiting', 'cap')
  local waiting, cap = tonumber(h[1]) or 0, tonumber(h[2])
  if cap and waiting + n > cap then history_drop(c, state, waiting + n - cap) end
  for i = 1, #rows, 2000 do
    redis.call('XADD', c.history, '*', unpack(rows, i, math.min(i + 1999, #rows)))
  end
  redis.call('HINCRBY', state, 'waiting', n)
  c.rows, c.nrows = {}, 0
  return n
end

-- Appends a ready entry for a job to `stream`, its fields as arguments
-- rather than a table; returns the entry id. (The fields are named one by
-- one, in ENTRY_FIELDS's order, rather than by a loop over that list: the
-- loop and its tables cost a tenth of an enqueue's Redis time.
-- tests/unit/test_lua_caps.c holds the two together.)
local function stream_append(stream, id, jtype, payload, attempts, max_retries, timeout_ms, enqueued_us)
  return redis.call('XADD', stream, '*', 'job', id, 'type', jtype, 'args', payload, 'attempts', attempts,
    'max_retries', max_retries, 'timeout_ms', timeout_ms, 'enqueued_us', enqueued_us)
end

-- Appends a ready entry for job `id` to `stream` and records it: the job's
-- state is queued, its entry this one.
local function add_entry_of(c, stream, id, jtype, payload, attempts, max_retries, timeout_ms, enqueued_us)
  local entry = stream_append(stream, id, jtype, payload, attempts, max_retries, timeout_ms, enqueued_us)
  redis.call('HSET', job_key(c, id), 'state', 'queued', 'entry', entry)
  return entry
end

-- add_entry_of for job `e`, a table with the ENTRY_FIELDS (as job_of gives).
local function add_entry(c, stream, e)
  return add_entry_of(c, stream, e.job, e.type, e.args, e.attempts, e.max_retries, e.timeout_ms, e.enqueued_us)
end

-- Re-adds a job from its record (a due retry or delayed job, a DLQ retry).
local function add_entry_from_record(c, stream, id)
  local h = redis.call('HMGET', job_key(c, id), 'type', 'args', 'attempts', 'max_retries', 'timeout_ms')
  if not h[1] then return nil end
  return add_entry_of(c, stream, id, h[1], h[2], h[3], h[4], h[5], now_us(c))
end

local function set_result(c, id, status, data)
  redis.call('SET', result_key(id),
    cjson.encode({ status = status, data = data, updated_at = c.now_iso }), 'EX', c.ttl)
end

-- A finished job's records expire together with its result.
local function expire_job(c, id)
  redis.call('EXPIRE', job_key(c, id), c.ttl)
  redis.call('EXPIRE', pkey(c, 'retries', id), c.ttl)
  redis.call('EXPIRE', pkey(c, 'deps', id), c.ttl)
end

-- The state index (docs/protocol.md, "State index"): the jobs that are
-- failed, dead, cancelled or retrying, one sorted set per logical queue and
-- state, <prefix>:index:<queue>:<state>, scored by when they entered the
-- state (epoch ms), so that `tickq jobs` lists them without scanning
-- records. Every function that moves a job into or out of one of these
-- states calls index_move in the same call. Entries of the finished states
-- go with their records: a set is trimmed of entries older than the result
-- TTL when it is written (once per call; the records expire at that age),
-- and readers skip entries whose record is gone. A retrying job's entry goes
-- when it leaves the state (promoted, cancelled, purged, expired).
local INDEXED = { failed = true, dead = true, cancelled = true, retrying = true }
local function index_key(c, queue, state) return c.prefix .. ':index:' .. queue .. ':' .. state end

-- Job `id` of logical queue `queue` (nil: its record is gone, nothing to
-- do) left state `from` and entered state `to` (either may be nil or a
-- state that is not indexed).
local function index_move(c, id, queue, from, to)
  if not queue then return end
  if from and INDEXED[from] then redis.call('ZREM', index_key(c, queue, from), id) end
  if not (to and INDEXED[to]) then return end
  local key = index_key(c, queue, to)
  redis.call('ZADD', key, c.now, id)
  if to == 'retrying' then return end
  c.trimmed = c.trimmed or {}
  if not c.trimmed[key] then
    c.trimmed[key] = true
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. string.format('%.0f', c.now - tonumber(c.ttl) * 1000))
  end
end

-- Queue controls (docs/protocol.md, "Queue controls"): paused logical
-- queues (<prefix>:paused), concurrency limits per task type
-- (<prefix>:limits; the jobs holding a slot in <prefix>:running:<type>,
-- those waiting for one in <prefix>:held:<type>, and the types with waiting
-- jobs in <prefix>:holding) and jobs with an expiry (<prefix>:expiring, by
-- epoch ms). Each key exists only while it has members, so one EXISTS tells
-- a claim that it can skip every check (admit.lua, gates_load).
local EXPIRED = 'Job expired'
local PURGED = 'Job purged'
local function running_key(c, jtype) return c.prefix .. ':running:' .. jtype end
local function held_key(c, jtype) return c.prefix .. ':held:' .. jtype end

-- The limits, type -> number of slots, read once per call.
local function limits_of(c)
  if not c.limits then
    c.limits = {}
    local h = redis.call('HGETALL', pkey(c, 'limits'))
    for i = 1, #h, 2 do c.limits[h[i]] = tonumber(h[i + 1]) end
  end
  return c.limits
end

-- Job `id` of type `jtype` (nil: unknown, every limited type) no longer
-- holds a slot: its attempt ended, or it went back to its queue unstarted.
-- A slot is a member of a set, so freeing one twice is harmless.
local function slot_free(c, id, jtype)
  local limits = limits_of(c)
  if jtype == nil then
    for t in pairs(limits) do redis.call('ZREM', running_key(c, t), id) end
  elseif limits[jtype] then
    redis.call('ZREM', running_key(c, jtype), id)
  end
end

-- Called wherever a job enters a final state, after its record and result
-- are written: settles the jobs that depend on it (below, "Dependencies").
local job_ended

-- Ends a job `cancelled` (error `why`, default CANCELLED: `tickq cancel`;
-- EXPIRED, PURGED), with its result, from state `from` (for the index; nil
-- for a running job). `jtype` (may be nil): free its slot, for a job that
-- may hold one without running (released for a slot, not yet claimed).
-- finish_cancelled settles its dependents too; end_cancelled leaves them
-- to the caller.
local function end_cancelled(c, id, queue, from, why, jtype)
  why = why or CANCELLED
  redis.call('HSET', job_key(c, id), 'state', 'cancelled', 'finished_at', c.now_iso, 'error', why)
  redis.call('HDEL', job_key(c, id), 'next_retry_at') -- set while it was retrying
  set_result(c, id, 'error', { error = why, cancelled = true, completed_at = c.now_iso })
  expire_job(c, id)
  count(c, queue, 'cancelled')
  index_move(c, id, queue, from, 'cancelled')
  redis.call('ZREM', pkey(c, 'expiring'), id)
  if jtype then slot_free(c, id, jtype) end
end
local function finish_cancelled(c, id, queue, from, why, jtype)
  end_cancelled(c, id, queue, from, why, jtype)
  job_ended(c, id, 'cancelled')
end

-- Dependencies (docs/protocol.md, "Dependencies"). A job enqueued with
-- depends_on lists its dependencies in <prefix>:deps:<id> and, while one
-- has not ended, waits in state `deferred`: entry '', a member of
-- <prefix>:deferred:<physical> (scored by enqueue time), `deps_left` on its
-- record counting the dependencies still to end, and its id in
-- <prefix>:dependents:<dependency> of each of them. When a dependency ends
-- (job_ended) each deferred dependent counts it off if it completed, or
-- whatever its end for a job enqueued with after_any; at 0 the job is ready
-- (deps_ready). Any other end fails the dependent at once (deps_fail),
-- which ends it in turn, so a failure runs down the whole chain.
-- A job's record and result outlive the result TTL while jobs that depend on
-- it have not ended: `needed_by` on its record counts them, and the last
-- one to end gives the record and result back their TTL (deps_release).
local MAX_DEPS = 10000
local function deps_key(c, id) return c.prefix .. ':deps:' .. id end
local function dependents_key(c, id) return c.prefix .. ':dependents:' .. id end
local function deferred_key(c, physical) return c.prefix .. ':deferred:' .. physical end
local function keep_result(c, id)
  redis.call('PERSIST', job_key(c, id))
  redis.call('PERSIST', result_key(id))
  redis.call('PERSIST', pkey(c, 'retries', id))
  redis.call('PERSIST', deps_key(c, id))
end

-- Job `id`, which had dependencies, has ended: each of them is needed by
-- one job less (and no longer lists it among its dependents, which matters
-- when it ended first: cancelled, failed by another dependency), and one
-- needed by none that has ended expires as usual.
local function deps_release(c, id)
  local dk = deps_key(c, id)
  for _, dep in ipairs(redis.call('LRANGE', dk, 0, -1)) do
    local djk = job_key(c, dep)
    local h = redis.call('HMGET', djk, 'state', 'needed_by')
    redis.call('SREM', dependents_key(c, dep), id)
    if h[2] then
      if redis.call('HINCRBY', djk, 'needed_by', -1) <= 0 then
        redis.call('HDEL', djk, 'needed_by')
        if FINAL[h[1]] then
          expire_job(c, dep)
          redis.call('EXPIRE', result_key(dep), c.ttl)
        end
      end
    end
  end
  redis.call('EXPIRE', dk, c.ttl)
end

-- The fields of a deferred job's record that settling it reads.
local DEFERRED_FIELDS = { 'state', 'after_any', 'stream', 'queue', 'not_before', 'expires_us', 'type', 'run',
  'created_at' }
local function deferred_of(c, id)
  local v = redis.call('HMGET', job_key(c, id), unpack(DEFERRED_FIELDS))
  local h = {}
  for i, name in ipairs(DEFERRED_FIELDS) do h[name] = v[i] or nil end
  return h
end

-- Deferred job `id` (fields h, deferred_of) has no dependency left: it
-- goes to its queue, or to its delay's zset while its delay (not_before,
-- epoch ms) has not passed; past its expiry it ends cancelled instead.
local function deps_ready(c, id, h)
  local physical = physical_of(c, h.stream)
  redis.call('ZREM', deferred_key(c, physical), id)
  if h.expires_us and tonumber(h.expires_us) <= c.now * 1000 then
    finish_cancelled(c, id, h.queue, 'deferred', EXPIRED)
    return
  end
  local due = tonumber(h.not_before)
  if due and due > c.now then
    redis.call('ZADD', pkey(c, 'delayed', physical), due, id)
    redis.call('HSET', job_key(c, id), 'state', 'queued', 'entry', '')
  else
    add_entry_from_record(c, h.stream, id)
  end
end

-- Job `id` of logical queue `queue` ends `failed` with error `err`: its
-- record, its result (`data` plus error and completed_at, which win), the
-- TTL, the counter, the state index, its expiry gone. (Its history row and
-- its dependents are the caller's.)
local function end_failed(c, id, queue, err, data)
  data.error, data.completed_at = err, c.now_iso
  redis.call('HSET', job_key(c, id), 'state', 'failed', 'error', err, 'finished_at', c.now_iso)
  set_result(c, id, 'error', data)
  expire_job(c, id)
  count(c, queue, 'failed')
  index_move(c, id, queue, nil, 'failed')
  redis.call('ZREM', pkey(c, 'expiring'), id)
end

-- Deferred job `id` (fields h) fails: its dependency `dep` ended `state`.
-- (Its own end is settled by the caller: job_ended's loop.)
local DEPENDENCY_ERROR_MAX = 500 -- bytes of a dependency's error a dependent's result carries
local function deps_fail(c, id, h, dep, state)
  local err = 'dependency ' .. dep .. ' ended ' .. state
  redis.call('ZREM', deferred_key(c, physical_of(c, h.stream)), id)
  -- Why the dependency ended so, in the data: an optimize's parent whose
  -- chunk failed says what failed without a look at the chunk.
  local why = redis.call('HGET', job_key(c, dep), 'error')
  end_failed(c, id, h.queue, err, { dependency = dep, dependency_state = state,
    dependency_error = why and utf8_head(why, DEPENDENCY_ERROR_MAX) or nil })
  history_job(c, id, run_of(h.run), h.created_at, '0', 'failed', h.type, h.queue, '', nil, nil, err)
end

-- Job `id` has ended in `state` (completed, failed, dead, cancelled).
-- `known` (may be nil: read from the record) holds its record's
-- needed_by and deps, for callers that read them already. The jobs a
-- failure fails in turn are settled in the same loop, not by recursion: a
-- chain of any length fails in one call without growing Lua's stack.
job_ended = function(c, id, state, known)
  local todo, at = { { id, state, known } }, 1
  while todo[at] do
    local item = todo[at]
    todo[at] = false
    at = at + 1
    local jid, jstate, k = item[1], item[2], item[3]
    if not k then
      local h = redis.call('HMGET', job_key(c, jid), 'needed_by', 'deps')
      k = { needed_by = h[1], deps = h[2] }
    end
    if k.deps then deps_release(c, jid) end
    local dk = dependents_key(c, jid)
    if k.needed_by then keep_result(c, jid) end
    local waiting = redis.call('SMEMBERS', dk)
    if #waiting > 0 then redis.call('DEL', dk) end
    for _, w in ipairs(waiting) do
      local h = deferred_of(c, w)
      if h.state == 'deferred' then
        if c.purging == h.queue and jstate ~= 'completed' then
          -- A purge of its queue under way: it is purged with the rest,
          -- not failed by the dependency the purge cancelled.
          redis.call('ZREM', deferred_key(c, physical_of(c, h.stream)), w)
          end_cancelled(c, w, h.queue, 'deferred', PURGED)
          c.purged = (c.purged or 0) + 1
          todo[#todo + 1] = { w, 'cancelled', nil }
        elseif jstate == 'completed' or h.after_any == '1' then
          if redis.call('HINCRBY', job_key(c, w), 'deps_left', -1) <= 0 then deps_ready(c, w, h) end
        else
          deps_fail(c, w, h, jid, jstate)
          todo[#todo + 1] = { w, 'failed', nil }
        end
      end
    end
  end
end

-- Checks job `id`'s dependencies (a comma-separated list of ids, may be
-- nil or ''; after_any: any end counts, not only completion) before it is
-- added. Returns a table {ids, left (how many have not ended)} (nil when
-- there are none), or nil and why they are refused: an unknown or expired
-- id, the job itself, more than MAX_DEPS, or one that has ended other than
-- completed (unless after_any: then nothing could ever run it).
local function deps_check(c, id, list, after_any)
  if list == nil or list == '' then return nil end
  local ids, seen, left = {}, {}, 0
  for dep in string.gmatch(list, '[^,]+') do
    if dep == id then return nil, 'job ' .. id .. ' cannot depend on itself' end
    if not seen[dep] then
      seen[dep] = true
      ids[#ids + 1] = dep
      if #ids > MAX_DEPS then return nil, 'a job may depend on at most ' .. MAX_DEPS .. ' jobs' end
      local state = redis.call('HGET', job_key(c, dep), 'state')
      if not state then
        return nil, 'dependency ' .. dep .. ' is not a job (unknown, or its record expired)'
      end
      if not FINAL[state] then
        left = left + 1
      elseif state ~= 'completed' and not after_any then
        return nil, 'dependency ' .. dep .. ' has already ended ' .. state ..
          ': the job could never run (after_any runs it whatever its dependencies end in)'
      end
    end
  end
  if #ids == 0 then return nil, 'depends_on lists no job id' end
  return { ids = ids, left = left }
end

-- Records job `id`'s checked dependencies `d` (deps_check): its list, and
-- on each dependency one more job that needs its result (kept past the TTL
-- when it has ended already) and, when it has not ended, this job among its
-- dependents. Returns the record fields to add (flow: the job is a flow's
-- parent, its dependencies its children: cancelling it cancels them).
local function deps_link(c, id, d, after_any, flow)
  redis.call('DEL', deps_key(c, id))
  for i = 1, #d.ids, 1000 do -- unpack's limit
    redis.call('RPUSH', deps_key(c, id), unpack(d.ids, i, math.min(i + 999, #d.ids)))
  end
  for _, dep in ipairs(d.ids) do
    local djk = job_key(c, dep)
    redis.call('HINCRBY', djk, 'needed_by', 1)
    if FINAL[redis.call('HGET', djk, 'state')] then
      keep_result(c, dep)
    else
      redis.call('SADD', dependents_key(c, dep), id)
    end
  end
  local fields = { 'deps', #d.ids, 'deps_left', d.left }
  if after_any then fields[#fields + 1], fields[#fields + 2] = 'after_any', '1' end
  if flow then fields[#fields + 1], fields[#fields + 2] = 'flow', '1' end
  return fields
end

-- The queue a job belongs to (for counters), from its record.
local function queue_of(c, id)
  return redis.call('HGET', job_key(c, id), 'queue')
end

-- A claimed job that never started goes back to the tail of its stream,
-- unchanged (its attempt was never counted), unless it was cancelled
-- meanwhile. `f` are its entry's fields; `worker` had claimed it. The
-- running result its claim wrote goes: a first attempt has none again, a
-- retry gets back the result its failed attempt left (fail_attempt, without
-- the due time: it is due now).
-- Returns the job's state and its run number (0 when the record is gone).
local function requeue_unstarted(c, stream, f, worker)
  local id = f.job
  local jk = job_key(c, id)
  slot_free(c, id, f.type)
  local h = redis.call('HMGET', jk, 'cancel_requested', 'queue', 'run', 'created_at', 'error', 'worker')
  if h[2] == false then return 'missing', 0 end
  if h[1] == '1' then
    finish_cancelled(c, id, h[2])
    history_job(c, id, run_of(h[3]), h[4], f.attempts, 'cancelled', f.type, h[2], worker, nil, nil, CANCELLED)
    return 'cancelled', run_of(h[3])
  end
  add_entry(c, stream, f)
  -- A handler's progress belonged to the attempt that did not finish.
  redis.call('HDEL', jk, 'progress', 'progress_message')
  local attempts = tonumber(f.attempts)
  if attempts == 0 then
    redis.call('DEL', result_key(id))
  else
    set_result(c, id, 'running', { attempt = attempts, last_error = h[5] or nil, worker_id = h[6] or nil })
  end
  return 'queued', run_of(h[3])
end

-- A failed attempt's payload from finish: the error text, then optionally a
-- NUL byte and a JSON object of details (a strategy's printed output).
-- Returns the text and the details (a table, or nil when there are none or
-- they do not decode: the error itself is never lost over them).
local function split_details(payload)
  local nul = string.find(payload, '\0', 1, true)
  if not nul then return payload, nil end
  local ok, details = pcall(cjson.decode, string.sub(payload, nul + 1))
  if not ok or type(details) ~= 'table' then details = nil end
  return string.sub(payload, 1, nul - 1), details
end

-- The data of a final error result: `fields`, plus the attempt's details
-- (a key of `fields` wins over a detail of the same name).
local function with_details(fields, details)
  if details then
    for k, v in pairs(details) do
      if fields[k] == nil then fields[k] = v end
    end
  end
  return fields
end

-- A failed attempt of the job in entry fields `f` (attempts counts the runs
-- before this one). Permanent errors end the job in `failed`; transient ones
-- (including timeouts and crashes) are retried after exponential backoff with
-- +-20 % jitter, or go to the dead-letter stream once retries are spent.
-- `details` (a table, may be nil) go into a final error result's data.
-- started_us and finished_us (epoch µs, may be nil: unknown, and now) are
-- the attempt's, for its history rows.
-- Returns the job's new state and its run number (0 when the record is gone).
local function fail_attempt(c, stream, f, kind, err, worker, details, started_us, finished_us)
  local id = f.job
  local jk = job_key(c, id)
  slot_free(c, id, f.type)
  local h = redis.call('HMGET', jk, 'cancel_requested', 'queue', 'priority', 'created_at', 'run', 'expires_us',
    'needed_by', 'deps')
  local queue = h[2]
  if not queue then return 'missing', 0 end
  local run = run_of(h[5])
  local attempts = tonumber(f.attempts) + 1
  local max_retries = tonumber(f.max_retries)
  count(c, queue, 'failed_attempts')
  if kind == 'timeout' then count(c, queue, 'timeout') end
  redis.call('HSET', jk, 'attempts', attempts, 'worker', worker)
  -- A handler's progress belonged to the attempt that failed.
  redis.call('HDEL', jk, 'progress', 'progress_message')
  local function ended(state, why)
    history_job(c, id, run, h[4], attempts, state, f.type, queue, worker, started_us, finished_us, why)
    return state, run
  end
  if h[1] == '1' or kind == 'cancel' then
    finish_cancelled(c, id, queue)
    return ended('cancelled', CANCELLED)
  end
  if kind == 'permanent' then
    end_failed(c, id, queue, err, with_details({ attempt = attempts, worker_id = worker }, details))
    job_ended(c, id, 'failed', { needed_by = h[7], deps = h[8] })
    return ended('failed', err)
  end
  local rk = pkey(c, 'retries', id)
  redis.call('RPUSH', rk, cjson.encode({ attempt = attempts, kind = kind, error = err,
    at = c.now_iso, worker_id = worker, run = run }))
  history_retry(c, id, run, h[4], attempts, kind, worker, finished_us, err)
  if attempts <= max_retries then
    local base, max = tonumber(c.base), tonumber(c.max)
    local delay = base * 2 ^ (attempts - 1)
    if delay > max then delay = max end
    delay = math.floor(delay * (0.8 + 0.4 * rand(c)))
    local due = c.now + delay
    local due_iso = iso(due)
    -- A job that expires before its retry is due comes due at its expiry,
    -- when the claim that promotes it ends it (claim.lua, promote).
    local expires = h[6] and math.floor(tonumber(h[6]) / 1000)
    redis.call('ZADD', pkey(c, 'retry', physical_of(c, stream)), expires and expires < due and expires or due, id)
    redis.call('HSET', jk, 'state', 'retrying', 'error', err, 'next_retry_at', due_iso)
    redis.call('EXPIRE', rk, tonumber(c.ttl) + math.ceil(delay / 1000))
    set_result(c, id, 'running', { attempt = attempts, last_error = err, next_retry_at = due_iso,
      worker_id = worker })
    count(c, queue, 'retried')
    index_move(c, id, queue, nil, 'retrying')
    return 'retrying', run
  end
  local dead = redis.call('XADD', pkey(c, 'dead'), 'MAXLEN', '~', c.dlq_cap, '*',
    'job', id, 'type', f.type, 'args', f.args, 'queue', queue, 'priority', h[3],
    'max_retries', max_retries, 'timeout_ms', f.timeout_ms, 'created_at', h[4] or '',
    'attempts', attempts, 'error', err, 'failed_at', c.now_iso, 'run', run)
  redis.call('HSET', jk, 'state', 'dead', 'error', err, 'finished_at', c.now_iso, 'dead_entry', dead)
  set_result(c, id, 'error', with_details({ error = err, completed_at = c.now_iso, attempts = attempts,
    dead = true }, details))
  expire_job(c, id)
  count(c, queue, 'dead')
  index_move(c, id, queue, nil, 'dead')
  if h[6] then redis.call('ZREM', pkey(c, 'expiring'), id) end
  job_ended(c, id, 'dead', { needed_by = h[7], deps = h[8] })
  return ended('dead', err)
end

-- Acked entries in front of a stream can go once no group still needs them:
-- everything older than the oldest pending entry and than the first entry
-- not yet delivered, across every group on the stream. Trimming removes
-- whole listpack nodes at once, which costs far less than deleting entries
-- one by one (XDEL must find each entry inside its node). When an old entry
-- stays pending (a long job) the acked entries behind it cannot be trimmed;
-- past `max_behind` of them, the given acked `ids` are deleted one by one
-- instead, so the stream stays bounded. Returns nothing.
local function trim_acked(c, stream, ids, max_behind)
  local groups = redis.call('XINFO', 'GROUPS', stream)
  local minid, pending, lag_known, lag = nil, 0, true, 0
  for _, g in ipairs(groups) do
    local bound
    local p = tonumber(field_of(g, 'pending'))
    if p > 0 then
      bound = redis.call('XPENDING', stream, field_of(g, 'name'))[2]
    else
      local ms, seq = parse_id(field_of(g, 'last-delivered-id'))
      bound = string.format('%.0f-%.0f', ms, seq + 1)
    end
    if minid == nil or id_less(bound, minid) then minid = bound end
    pending = pending + p
    local l = field_of(g, 'lag')
    if type(l) == 'number' then lag = lag + l else lag_known = false end
  end
  if minid == nil then return end
  redis.call('XTRIM', stream, 'MINID', '~', minid)
  if #groups == 1 and #ids > 0 then
    local behind = redis.call('XLEN', stream) - pending - (lag_known and lag or 0)
    if behind > max_behind then redis.call('XDEL', stream, unpack(ids)) end
  end
end

-- Worker children consume as "<worker id>#<generation>" (docs/protocol.md,
-- "Worker and consumer names"; src/queue_names.h builds the names by the
-- same rule). The generation changes whenever a child reconnects holding
-- nothing, so a call it sent on the connection it gave up on, if Redis runs
-- it late, claims for a name no live child uses. Records and results name
-- the worker id. Returns the worker id and the generation (a number), or
-- the name and nil for a name without one (another tickq version's).
local function consumer_parts(name)
  local id, gen = string.match(name, '^(.+)#(%d+)$')
  if id then return id, tonumber(gen) end
  return name, nil
end
local function worker_of(consumer) return (consumer_parts(consumer)) end

-- The consumers of `stream`'s group that are older generations of the
-- workers in `current` (worker id -> the generation it consumes as now).
-- Never a newer generation: the caller's view may be behind the child's.
local function older_generations(c, stream, current)
  local names = {}
  local cs = redis.pcall('XINFO', 'CONSUMERS', stream, c.group)
  if type(cs) ~= 'table' or cs.err then return names end
  for _, info in ipairs(cs) do
    local name = field_of(info, 'name')
    local id, gen = consumer_parts(name)
    if gen and current[id] and gen < current[id] then names[#names + 1] = name end
  end
  return names
end

-- Hands back everything the consumers `names` hold in `stream`: each entry
-- goes back to its queue unstarted (its attempt not charged: nobody ran
-- it), or ends cancelled when a cancel was requested meanwhile (its history
-- row names the consumer's worker id), then the consumers are deleted
-- (DELCONSUMER only now: it would drop entries still pending). An entry
-- that is not a job (job_of: a late blocking read took a foreign client's
-- entry) is only acked and deleted. Appends the ids of the jobs requeued
-- to `jobs` and of those cancelled to `cancelled` (either may be nil);
-- returns how many of each.
local function release_consumers(c, stream, names, jobs, cancelled)
  local n, nc = 0, 0
  for _, name in ipairs(names) do
    local pending = redis.pcall('XPENDING', stream, c.group, '-', '+', 100000, name)
    if type(pending) ~= 'table' or pending.err then return n, nc end -- no group here
    for _, p in ipairs(pending) do
      local f = job_fields(stream, p[1])
      if f then
        if requeue_unstarted(c, stream, f, worker_of(name)) == 'cancelled' then
          nc = nc + 1
          if cancelled then cancelled[#cancelled + 1] = f.job end
        else
          n = n + 1
          if jobs then jobs[#jobs + 1] = f.job end
        end
      end
      redis.call('XACK', stream, c.group, p[1])
      redis.call('XDEL', stream, p[1])
    end
    redis.call('XGROUP', 'DELCONSUMER', stream, c.group, name)
  end
  if n + nc > 0 then trim_acked(c, stream, {}, 1000) end
  return n, nc
end

-- Adds a physical queue to the set of known queues, once per call (a
-- batch of many jobs on one queue writes it once).
local function register_queue(c, physical)
  local seen = c.registered
  if not seen then seen = {}; c.registered = seen end
  if not seen[physical] then
    seen[physical] = true
    redis.call('SADD', pkey(c, 'queues'), physical)
  end
end

-- The consumer running `entry` of `stream`, or nil: the entry is pending in
-- a consumer group. Every group on the stream counts, not only this
-- caller's: a client using another group name than the workers must still
-- see the job as running (and never cancel it as if it were waiting).
local function pending_consumer(stream, entry)
  if not entry or entry == '' then return nil end
  local groups = redis.pcall('XINFO', 'GROUPS', stream)
  if type(groups) ~= 'table' or groups.err then return nil end
  for _, g in ipairs(groups) do
    local p = redis.call('XPENDING', stream, field_of(g, 'name'), entry, entry, 1)
    if #p > 0 then return p[1][2] end
  end
  return nil
end

-- A job's expiry (enqueue's expires_ms: '' or '0' none, else 1 ms to a
-- year, and later than its delay, else it could never start). Returns the
-- epoch ms it expires at (nil: none), or nil and why it is refused.
local MAX_EXPIRES_MS = 365 * 86400000
local function expiry_of(c, expires_ms, delay_ms)
  if expires_ms == nil or expires_ms == '' or expires_ms == '0' then return nil end
  local ms = tonumber(expires_ms)
  if not ms or ms < 1 or ms > MAX_EXPIRES_MS or ms % 1 ~= 0 then
    return nil, 'expires_ms must be an integer from 1 to ' .. MAX_EXPIRES_MS .. ' (a year), or 0 (none)'
  end
  if ms <= delay_ms then
    return nil, 'the job would expire (in ' .. ms .. ' ms) before its delay ends (' .. delay_ms ..
      ' ms): expires must be later than the delay'
  end
  return c.now + ms
end

-- A job's timeout_ms is at most this (src/core/job.h, JOB_MAX_TIMEOUT_MS:
-- tests/unit/test_lua_caps.c holds the two together); 0 means not set: the
-- worker that claims it gives it its default (worker --job-timeout, or its
-- pool's job_timeout). Records and entries keep the 0.
local MAX_TIMEOUT_MS = 604800000

-- The checks of job_invalid that a batch's jobs mostly share the values
-- of: each is true when value `v` passes.
local VALUE_CHECKS = {
  type = function(v) return type(v) == 'string' and #v <= 64 and string.find(v, '^[%w_.-]+$') ~= nil end,
  queue = function(v)
    return type(v) == 'string' and #v <= 100 and string.find(v, '^[%w_.-]+$') ~= nil and
      not string.find(v, '_high$') and not string.find(v, '_normal$') and not string.find(v, '_low$')
  end,
  max_retries = function(v)
    local n = v ~= nil and tonumber(v)
    return n and n >= 0 and n <= 100 and n % 1 == 0
  end,
  timeout_ms = function(v)
    local n = v ~= nil and tonumber(v)
    return n and n >= 0 and n <= MAX_TIMEOUT_MS and n % 1 == 0
  end,
}

-- Whether value `v` passes check `kind` (VALUE_CHECKS). In a call that
-- checks many jobs (enqueue_batch: c.passed, from passed_memo) a value
-- that passed is remembered for the rest of the call: run for every job
-- of a batch, the patterns and number conversions cost a sixth of its
-- Redis time. (A call that checks one job keeps no memo: its tables would
-- cost more than the checks.)
local function passes(c, kind, v)
  local passed = c.passed
  if not passed then return VALUE_CHECKS[kind](v) end
  local seen = passed[kind]
  if v ~= nil and seen[v] then return true end
  if not VALUE_CHECKS[kind](v) then return false end
  seen[v] = true
  return true
end

-- An empty memo of passes, for a call that checks many jobs.
local function passed_memo()
  return { type = {}, queue = {}, max_retries = {}, timeout_ms = {} }
end

-- A job's delay_ms argument as a number ('0', the common case, without a
-- conversion; nothing or not a number: 0, which job_invalid accepts).
local function delay_of(j)
  return j.delay_ms == '0' and 0 or tonumber(j.delay_ms) or 0
end

-- Why job `j` (add_job's table) is refused, or nil when its fields are
-- valid (its id, dependencies and expiry are add_job's to check). Notes
-- in call context `c` the values that passed (passes, when c.passed is
-- set) and the payload limit as a number.
local function job_invalid(c, j)
  local id, payload, priority = j.id, j.args, j.priority
  if c.max_payload_text ~= j.max_payload then
    c.max_payload_text, c.max_payload = j.max_payload, tonumber(j.max_payload)
  end
  local max_payload = c.max_payload

  if type(id) ~= 'string' or id == '' or #id > 128 or string.find(id, '[%c ]') then
    return 'job id must be 1-128 characters without spaces'
  end
  if not passes(c, 'type', j.type) then
    return 'task type must be 1-64 characters from A-Z a-z 0-9 _ - .'
  end
  if #payload > max_payload then
    return 'args are ' .. #payload .. ' bytes, over the payload limit of ' .. max_payload .. ' bytes'
  end
  if not string.find(payload, '^%s*{') then return 'args must be a JSON object' end
  local ok, why = pcall(cjson.decode, payload)
  if not ok then return 'args are not valid JSON here: ' .. tostring(why) end
  if not passes(c, 'queue', j.queue) then
    return 'invalid queue name: ' .. tostring(j.queue)
  end
  if priority ~= 'high' and priority ~= 'normal' and priority ~= 'low' then
    return 'priority must be high, normal or low'
  end
  if not passes(c, 'max_retries', j.max_retries) then
    return 'max_retries must be an integer from 0 to 100'
  end
  if not passes(c, 'timeout_ms', j.timeout_ms) then
    return 'timeout_ms must be an integer from 1 to ' .. MAX_TIMEOUT_MS .. ' (7 days), or 0 (not set: the ' ..
      "worker's default)"
  end
  if delay_of(j) < 0 then return 'delay must not be negative' end

  return nil
end

-- Adds one job: validates it, and enqueues it unless its id exists.
-- j: id, type, args (JSON text), queue, priority, max_retries and
-- timeout_ms (strings; timeout_ms '0': the worker's default), delay_ms, max_payload, now_us, and replace (true:
-- an id whose job has finished runs again, as its next run).
-- Returns a table {created (1 or 0), id, state, run, previous}: created 1
-- with state 'queued' for a new job or a new run (previous: the state the
-- run before ended in, else ''); created 0 with the existing job's state
-- ('running' for a queued job whose entry is pending) and run when the id
-- exists and was not replaced. Or nil and the reason the job is invalid.
-- j.expires_ms (may be nil, '' or '0': none): the job ends cancelled
-- (EXPIRED) if it has not started within that many ms (expiry_of).
-- j.depends_on (may be nil or ''): comma-separated ids of jobs it waits
-- for, j.after_any (bool): it runs whatever they end in (deps_check); a
-- job with a dependency still to end is created `deferred` (the reply's
-- state); a delay still counts from now: it starts when both its
-- dependencies have completed and its delay has passed (not_before).
local function add_job(c, j)
  local id, jtype, payload, queue, priority = j.id, j.type, j.args, j.queue, j.priority
  local delay_ms, now_us = delay_of(j), j.now_us
  local expires = j.expires
  if not j.checked then -- j.checked: the caller ran job_invalid and expiry_of (j.expires) on it (enqueue_batch.lua)
    local invalid = job_invalid(c, j)
    if invalid then return nil, invalid end
    local why
    expires, why = expiry_of(c, j.expires_ms, delay_ms)
    if why then return nil, why end
  end

  local jk = job_key(c, id)
  -- (A new id, the common case, costs one EXISTS: its reply is one number
  -- where HMGET's is a table of seven.)
  local h = NO_FIELDS
  if redis.call('EXISTS', jk) == 1 then
    h = redis.call('HMGET', jk, 'state', 'stream', 'entry', 'run', 'dead_entry', 'queue', 'needed_by')
  end
  local run, previous = 1, ''
  if h[1] then
    local state = h[1]
    if not (j.replace and FINAL[state]) then
      if state == 'queued' and pending_consumer(h[2], h[3]) then state = 'running' end
      return { 0, id, state, run_of(h[4]), '' }
    end
    if h[7] then
      return nil, 'job ' .. id .. ' cannot run again yet: ' .. h[7] ..
        ' waiting job(s) depend on its result'
    end
  end
  local deps, dwhy = deps_check(c, id, j.depends_on, j.after_any)
  if dwhy then return nil, dwhy end
  if h[1] then
    -- A new run of a finished job. What described the run before goes;
    -- the job history database keeps it.
    run, previous = run_of(h[4]) + 1, h[1]
    index_move(c, id, h[6], h[1], nil)
    if h[5] and h[5] ~= '' then redis.call('XDEL', pkey(c, 'dead'), h[5]) end
    redis.call('DEL', jk, pkey(c, 'retries', id), result_key(id))
    count(c, queue, 'reruns')
  end
  local physical, stream = stream_of(c, queue, priority)
  local scheduled = delay_ms > 0 and iso(c.now + delay_ms) or ''
  -- The record's fields beyond those every job has (most jobs have none).
  local extra = NO_FIELDS
  if expires then
    extra = { 'expires_us', string.format('%.0f', expires * 1000) }
    redis.call('ZADD', pkey(c, 'expiring'), expires, id)
  end
  if deps then
    if extra == NO_FIELDS then extra = {} end
    for _, v in ipairs(deps_link(c, id, deps, j.after_any, j.flow)) do extra[#extra + 1] = v end
  end
  local state, entry = 'queued', ''
  if deps and deps.left > 0 then
    state = 'deferred'
    if delay_ms > 0 then
      extra[#extra + 1], extra[#extra + 2] = 'not_before', string.format('%.0f', c.now + delay_ms)
    end
    redis.call('ZADD', deferred_key(c, physical), c.now, id)
  elseif delay_ms > 0 then
    redis.call('ZADD', pkey(c, 'delayed', physical), c.now + delay_ms, id)
  else
    entry = stream_append(stream, id, jtype, payload, '0', j.max_retries, j.timeout_ms, now_us)
  end
  redis.call('HSET', jk, 'state', state, 'entry', entry, 'id', id, 'type', jtype, 'args', payload,
    'queue', queue, 'priority', priority, 'max_retries', j.max_retries, 'timeout_ms', j.timeout_ms,
    'attempts', '0', 'created_at', c.now_iso, 'enqueued_us', now_us, 'stream', stream,
    'scheduled_for', scheduled, 'run', run, unpack(extra))
  register_queue(c, physical)
  count(c, queue, 'submitted')
  return { 1, id, state, run, previous }
end
