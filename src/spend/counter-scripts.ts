/**
 * The Lua scripts behind the spend counters (key layout: redis-keys.ts). Each runs atomically in
 * Redis, which is what makes the counters safe with any number of replicas:
 * - a counter is created from the database spend only if it does not exist (never re-added:
 *   BerriAI/litellm#28247, where every pod re-seeded with INCRBYFLOAT);
 * - a budget window rolls over in the same script that reads the counter (#34733);
 * - a charge, its idempotency marker, the release of its reservation and its queue entry
 *   happen together or not at all;
 * - a reservation is admitted only if spend + reserved + estimate fits, and expires by itself
 *   (#27639: reservations leaked on error paths).
 * Amounts are added with HINCRBYFLOAT (exact decimal text in Redis), never rebuilt from Lua's
 * 14-digit tostring.
 */
import { LuaScript } from '../cache/lua-script';

/** Functions shared by the scripts (Redis scripts cannot call each other). */
const PRELUDE = `
local function expire_idle(key, w, now, idle)
  local queued = tonumber(redis.call('HGET', key, 'n') or '0')
  if queued > 0 then return end
  if w > 0 then redis.call('PEXPIREAT', key, math.max(w, now) + idle) else redis.call('PEXPIRE', key, idle) end
end

-- The reservations still held on a counter whose hash was lost (evicted, expired) while its
-- reservation set was not: its reserved total is rebuilt from them, so releasing them can never
-- drive it negative. Expired ones are counted too, and dropped by purge like any other.
local function rebuild_reserved(key)
  redis.call('HSET', key, 'r', '0')
  for _, member in ipairs(redis.call('ZRANGE', key .. ':r', 0, -1)) do
    redis.call('HINCRBYFLOAT', key, 'r', string.match(member, '^([^|]+)|'))
  end
end

-- A window as the counter keeps it, start and end together: a start is trusted only next to the
-- end it belongs to (a version that did not keep starts may have moved the end since).
local function window_text(w, p)
  return string.format('%d@%d', p, w)
end

local function start_of(text, counter_w)
  if not text then return nil end
  local start, ends = string.match(text, '^(-?%d+)@(-?%d+)$')
  if ends == nil or tonumber(ends) ~= counter_w then return nil end
  return tonumber(start)
end

-- The counter's spend in the caller's window (end w, start p), creating it from seed (the
-- database spend of that window) when absent.
-- - A counter first created by a charge ('u') takes the seed less what was flushed to the
--   database meanwhile ('f'): the seed already holds those charges, and the counter too.
-- - A caller whose window starts where the counter's ended or later, or for whom the counter's
--   window has ended, is in a new window: the counter resets. One whose window ended where the
--   counter's started or earlier lags behind (a clock late by a moment): nothing changes.
-- - A caller whose window overlaps the counter's (or gives a counter without a window one) read a
--   row whose window was edited, or one not yet re-read after that. The counter keeps its spend,
--   as LiteLLM keeps the column, and takes the caller's window: two replicas that disagree until
--   their caches refresh move the window to and fro, never the spend.
local function ensure(key, w, p, seed, now, idle)
  local h = redis.call('HMGET', key, 's', 'w', 'u', 'f', 'p')
  if not h[1] then
    redis.call('HSET', key, 's', seed, 'w', w, 'p', window_text(w, p))
    rebuild_reserved(key)
    expire_idle(key, w, now, idle)
    return seed
  end
  if h[3] then
    redis.call('HDEL', key, 'u', 'f')
    redis.call('HSET', key, 'w', w, 'p', window_text(w, p))
    local flushed = h[4] or '0'
    -- A seed below what was flushed was read before some of those flushes: seed - f would take
    -- from the counter charges it holds, and seed whole would count twice those it saw. It adds
    -- nothing, missing at most the database spend the seed's row did not show yet.
    if tonumber(seed) < tonumber(flushed) then return redis.call('HGET', key, 's') end
    local total = redis.call('HINCRBYFLOAT', key, 's', seed)
    if tonumber(flushed) == 0 then return total end
    return redis.call('HINCRBYFLOAT', key, 's', '-' .. flushed)
  end
  local counter_w = tonumber(h[2]) or 0
  local counter_p = start_of(h[5], counter_w)
  if w == counter_w then
    -- A counter written without its start learns it from the first caller in its window.
    if counter_p == nil and w > 0 then redis.call('HSET', key, 'p', window_text(w, p)) end
    return h[1]
  end
  if counter_w > 0 and w > counter_w and (counter_w <= p or counter_w <= now) then
    redis.call('HSET', key, 's', '0', 'w', w, 'p', window_text(w, p))
    expire_idle(key, w, now, idle)
    return '0'
  end
  if w < counter_w and (counter_p == nil or w <= counter_p) then return h[1] end
  redis.call('HSET', key, 'w', w, 'p', window_text(w, p))
  expire_idle(key, w, now, idle)
  return h[1]
end

-- A per-model budget window (LiteLLM's _increment_spend_for_key for model_max_budget): opened by
-- a charge that finds none, with its start (t), its length (d) and a TTL of that length; later
-- charges add to it; a charge after it (the hash expired, or its start is more than its length
-- ago: LiteLLM's current_time - budget_start > ttl) opens the next one with its own cost.
-- What requests in flight hold on the window ('r', budget_reservation) carries over to the next
-- one: they are charged to whichever window is open when they settle. It is rebuilt from the
-- reservation set, not copied: the last window may have gone (its TTL) with their 'r'.
local function charge_window(key, amount, now, length)
  local h = redis.call('HMGET', key, 't', 'd')
  local start, known = tonumber(h[1]), tonumber(h[2])
  if start == nil or known == nil or now - start > known then
    redis.call('DEL', key)
    redis.call('HSET', key, 's', amount, 't', now, 'd', length)
    if redis.call('EXISTS', key .. ':r') == 1 then rebuild_reserved(key) end
    redis.call('PEXPIRE', key, length)
  else
    redis.call('HINCRBYFLOAT', key, 's', amount)
  end
end

-- A window tail's spend from minute first on (spend/window-tail.ts).
local function tail_spend(key, first)
  local fields, spend = redis.call('HGETALL', key), 0
  for f = 1, #fields, 2 do
    if tonumber(fields[f]) >= first then spend = spend + tonumber(fields[f + 1]) end
  end
  return spend
end

-- Drop reservations past their expiry (their requests never settled: crash, lost stream).
local function purge(key, now)
  local zkey = key .. ':r'
  local expired = redis.call('ZRANGEBYSCORE', zkey, '-inf', now)
  for _, member in ipairs(expired) do
    redis.call('ZREM', zkey, member)
    redis.call('HINCRBYFLOAT', key, 'r', '-' .. string.match(member, '^([^|]+)|'))
  end
  -- Also when the set expired by itself (nothing admitted on this counter for a while).
  if redis.call('ZCARD', zkey) == 0 and (redis.call('HGET', key, 'r') or '0') ~= '0' then redis.call('HSET', key, 'r', '0') end
end

-- Give back one request's reservation, once (a second call finds nothing): its budget part (a, k)
-- and its tpm part (t tokens added to each of the buckets b). A counter whose hash is gone only
-- loses the member: writing 'r' would bring back a hash without its spend. A bucket gone (its
-- minute has left every window) has nothing to give back; one is never taken below 0.
local function release(res_key, rid)
  local res = redis.call('HMGET', res_key, 'a', 'k', 't', 'b')
  if res[1] then
    local member = res[1] .. '|' .. rid
    for key in string.gmatch(res[2], '[^\\n]+') do
      local zkey = key .. ':r'
      if redis.call('ZREM', zkey, member) == 1 and redis.call('HEXISTS', key, 's') == 1 then
        if redis.call('ZCARD', zkey) == 0 then redis.call('HSET', key, 'r', '0')
        else redis.call('HINCRBYFLOAT', key, 'r', '-' .. res[1]) end
      end
    end
  end
  if res[3] then
    for bucket in string.gmatch(res[4], '[^\\n]+') do
      if redis.call('EXISTS', bucket) == 1 then
        local left = redis.call('DECRBY', bucket, res[3])
        if left < 0 then redis.call('INCRBY', bucket, -left) end
      end
    end
  end
  redis.call('DEL', res_key)
end
`;

/**
 * KEYS: n counters, then m per-model budget windows, then k team-member model counters, then q
 * window tails. ARGV: now, idle ms, n, m, k, q, then (window end, window start, seed) per counter,
 * then per tail the first minute it is read from.
 * Returns each counter's spend as text, then each window's ('0' for one not open: never charged,
 * or past its end), then each member counter's ('0' for one never charged), then each tail's
 * spend from its minute on.
 */
export const READ_COUNTERS = new LuaScript(
  'read_counters',
  `${PRELUDE}
local now, idle = tonumber(ARGV[1]), tonumber(ARGV[2])
local n, m, k, q = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local out = {}
for i = 1, n do
  out[i] = ensure(KEYS[i], tonumber(ARGV[4 + 3 * i]), tonumber(ARGV[5 + 3 * i]), ARGV[6 + 3 * i], now, idle)
end
for i = n + 1, n + m do
  local h = redis.call('HMGET', KEYS[i], 's', 't', 'd')
  local start, length = tonumber(h[2]), tonumber(h[3])
  if h[1] and start and length and now - start <= length then out[i] = h[1] else out[i] = '0' end
end
for i = n + m + 1, n + m + k do
  out[i] = redis.call('GET', KEYS[i]) or '0'
end
for j = 1, q do
  local i = n + m + k + j
  out[i] = string.format('%.17g', tail_spend(KEYS[i], tonumber(ARGV[6 + 3 * n + j])))
end
return out`,
);

/**
 * KEYS: done marker (of the charge id), stream, reservation, n counters, m per-model budget
 * windows, k team-member model counters, then token buckets, then q window tails, then the agent
 * session's spend when charged.
 * ARGV: reservation id (the admission id, the reservation's member name; '' for none), amount, event JSON, done TTL ms,
 * n, tokens, bucket TTL ms, m (absent: 0), now, then each window's length in ms, then k (absent: 0),
 * then q (absent: 0), the minute the request started, and how long a tail keeps a minute (ms),
 * then 1 when the agent session's spend is charged (absent: 0) and its TTL ms.
 * Returns 1 when recorded, 0 when this charge was already recorded.
 */
export const RECORD_SPEND = new LuaScript(
  'record_spend',
  `${PRELUDE}
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[4]) then return 0 end
release(KEYS[3], ARGV[1])
local n, tokens = tonumber(ARGV[5]), tonumber(ARGV[6])
local windows = {}
for i = 1, n do
  local key = KEYS[3 + i]
  if redis.call('HEXISTS', key, 's') == 0 then
    redis.call('HSET', key, 's', '0', 'w', '0', 'u', '1')
    rebuild_reserved(key)
  end
  redis.call('HINCRBYFLOAT', key, 's', ARGV[2])
  redis.call('HINCRBY', key, 'n', 1)
  redis.call('PERSIST', key)
  local state = redis.call('HMGET', key, 'w', 'u')
  -- 'u': charged while unseeded, so its flush is one the seed will hold (ACK_FLUSHED counts it in 'f').
  windows[i] = state[2] and 'u' or state[1]
end
local m = tonumber(ARGV[8] or '0')
for j = 1, m do
  charge_window(KEYS[3 + n + j], ARGV[2], tonumber(ARGV[9]), tonumber(ARGV[9 + j]))
end
-- A member's spend on a model (team_member_model_max_budget): no window and no TTL, as LiteLLM
-- never resets its counter.
local k = tonumber(ARGV[10 + m] or '0')
for j = 1, k do
  redis.call('INCRBYFLOAT', KEYS[3 + n + m + j], ARGV[2])
end
local q = tonumber(ARGV[11 + m] or '0')
-- The agent session's spend (max_budget_per_session), the last key when charged.
local sb = tonumber(ARGV[14 + m] or '0')
local last_tail = #KEYS - sb
if tokens > 0 then
  for i = 4 + n + m + k, last_tail - q do
    redis.call('INCRBY', KEYS[i], tokens)
    redis.call('PEXPIRE', KEYS[i], ARGV[7])
  end
end
-- The window tails: the charge under the minute its request started, as its SpendLogs row will
-- be summed by its startTime. A minute older than the tails keep is one no Check reads.
if q > 0 and tonumber(ARGV[2]) > 0 then
  local minute, retain = ARGV[12 + m], tonumber(ARGV[13 + m])
  local kept = math.floor(retain / 60000)
  local oldest = math.floor(tonumber(ARGV[9]) / 60000) - kept
  if tonumber(minute) >= oldest then
    for i = last_tail - q + 1, last_tail do
      redis.call('HINCRBYFLOAT', KEYS[i], minute, ARGV[2])
      if redis.call('HLEN', KEYS[i]) > kept + 2 then
        for _, field in ipairs(redis.call('HKEYS', KEYS[i])) do
          if tonumber(field) < oldest then redis.call('HDEL', KEYS[i], field) end
        end
      end
      redis.call('PEXPIRE', KEYS[i], retain)
    end
  end
end
-- It lasts its TTL from its first write (this charge, or the reservation of an earlier Check).
-- A response that cost nothing adds nothing, nor starts that TTL (LiteLLM's response_cost <= 0).
if sb == 1 and tonumber(ARGV[2]) > 0 then
  local fresh = redis.call('EXISTS', KEYS[#KEYS]) == 0
  redis.call('HINCRBYFLOAT', KEYS[#KEYS], 's', ARGV[2])
  -- Started again by this charge: what other calls in flight still hold on it is held again.
  if fresh then
    rebuild_reserved(KEYS[#KEYS])
    redis.call('PEXPIRE', KEYS[#KEYS], ARGV[15 + m])
  end
end
redis.call('XADD', KEYS[2], '*', 'e', ARGV[3], 'w', table.concat(windows, ','))
return 1`,
);

/**
 * KEYS: the charge id's token marker, the reservation, then token buckets. ARGV: tokens, marker
 * TTL ms, bucket TTL ms, reservation id (the admission id). The tpm windows of a response whose
 * spend is not metered (`tollgate.metering` off), fed at most once per charge id, the tokens the
 * Check reserved given back in the same step (as RECORD_SPEND does). Returns 1 when counted, 0
 * when this charge's tokens were already counted.
 */
export const COUNT_TOKENS = new LuaScript(
  'count_tokens',
  `${PRELUDE}
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[2]) then return 0 end
release(KEYS[2], ARGV[4])
local tokens = tonumber(ARGV[1])
if tokens > 0 then
  for i = 3, #KEYS do
    redis.call('INCRBY', KEYS[i], tokens)
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
  end
end
return 1`,
);

/**
 * KEYS: counter. ARGV: spend, window end, now, idle ms, "1" to create an absent counter, window start.
 * An operator's override of an entity's spend (`tollgate spend set`): the counter takes the new
 * value as if freshly seeded (window set, not-yet-seeded mark dropped) but keeps what belongs to
 * in-flight work: reservations and the count of queued events. Returns {existed, queued}.
 */
export const SET_COUNTER_SPEND = new LuaScript(
  'set_counter_spend',
  `${PRELUDE}
local key = KEYS[1]
local existed = redis.call('EXISTS', key)
if existed == 0 and ARGV[5] ~= '1' then return {0, 0} end
redis.call('HSET', key, 's', ARGV[1], 'w', ARGV[2], 'p', window_text(tonumber(ARGV[2]), tonumber(ARGV[6])))
if existed == 0 then rebuild_reserved(key) end
redis.call('HDEL', key, 'u', 'f')
expire_idle(key, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
return {existed, tonumber(redis.call('HGET', key, 'n') or '0')}`,
);

/** KEYS: reservation. ARGV: reservation id. Gives the reservation back (upstream error, nothing to charge). */
export const RELEASE_RESERVATION = new LuaScript(
  'release_reservation',
  `${PRELUDE}
release(KEYS[1], ARGV[1])
return 1`,
);

/**
 * KEYS: stream, then counters. ARGV: group, idle ms, now, entry count, then per entry:
 * id, amount, k, and k indexes into the counters (1-based; negative for a counter the event was
 * charged to while unseeded). Acknowledges each entry; the first acknowledgement (XACK = 1) also
 * takes its event off the counters' queued count, so a replayed acknowledgement changes nothing,
 * and adds its amount to 'f' on a counter charged and still unseeded (the database now holds it,
 * so the seed will). Acknowledged entries are deleted from the stream.
 */
export const ACK_FLUSHED = new LuaScript(
  'ack_flushed',
  `${PRELUDE}
local group, idle, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local a = 5
for _ = 1, tonumber(ARGV[4]) do
  local id, amount, k = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local first = redis.call('XACK', KEYS[1], group, id) == 1
  for j = 1, k do
    local index = tonumber(ARGV[a + 2 + j])
    local key = KEYS[1 + math.abs(index)]
    if first and redis.call('EXISTS', key) == 1 then
      if index < 0 and redis.call('HEXISTS', key, 'u') == 1 then redis.call('HINCRBYFLOAT', key, 'f', amount) end
      if redis.call('HINCRBY', key, 'n', -1) <= 0 then
        redis.call('HDEL', key, 'n')
        expire_idle(key, tonumber(redis.call('HGET', key, 'w') or '0'), now, idle)
      end
    end
  end
  redis.call('XDEL', KEYS[1], id)
  a = a + 3 + k
end
return 1`,
);

/**
 * Admission in one atomic step. KEYS: reservation, then (current, previous) bucket per rate
 * limit, then budget counters, then one window tail per multi-window budget. ARGV: now, L limits,
 * B budgets, admission id, estimate, reservation expiry (ms), reservation TTL ms, idle ms, bucket
 * TTL ms, tokens; per limit: limit, "rpm"|"tpm"; per budget: max ('' for none), window end,
 * window start, seed; then W (absent: 0) and per multi-window budget: its entity's budget (1-based
 * among the budgets, whose reserved total it shares), max, settled spend, tail spend already known,
 * and the first minute of its tail to read ('' for none: the settled spend is all of it).
 * A multi-window budget admits only if settled + max(tail known, tail read now) + reserved +
 * estimate <= max, and then reserves on its entity's counter as a budget does.
 * Then S (absent: 0) and, when 1, an agent session's caps: max_iterations ('' for none),
 * max_budget_per_session ('' for none), the iteration counter's TTL ms and the session spend's;
 * their keys (the iteration counter, the session spend) follow the window tails. A session is
 * refused once an admitted call would pass max_iterations, or once its spend reaches
 * max_budget_per_session (LiteLLM's `>=`), or, with an estimate (reservations), once spend +
 * reserved + estimate would pass it; an admitted call counts one iteration and, with an estimate,
 * reserves on the session spend as on a budget counter.
 * Then M (absent: 0) per-model budget windows (keys after the session's), and per window its
 * max_budget: admitted only if the open window's spend + reserved + estimate <= max, then reserved
 * on as a budget counter (a window not yet opened holds the reservation until its first charge).
 * A tpm limit admits only if used + tokens <= limit (v3's check-and-increment-by-n: refused when
 * `current + increment > limit`), and the tokens are then added to its current bucket and noted
 * on the reservation (t, b), so the response's settlement gives them back (release).
 * Returns {"ok"} | {"rate_limited", i, used, then (previous, current) bucket count per limit}
 * | {"over_budget", j, spend, reserved} | {"over_window", x, spend, reserved}
 * | {"session_iterations", count} | {"session_budget", spend, reserved}
 * | {"over_model_budget", y, spend, reserved}; i is the first rpm limit crossed, else the first tpm
 * limit crossed (v3's rpm pass runs before its token reservation).
 * Nothing is written unless everything fits.
 */
export const ADMIT = new LuaScript(
  'admit',
  `${PRELUDE}
local now, L, B = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rid, estimate_text = ARGV[4], ARGV[5]
local estimate, expires_at, res_ttl, idle, bucket_ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8]), ARGV[9]
local tokens_text = ARGV[10]
local tokens = tonumber(tokens_text)
local a = 11
-- Sliding window: the previous minute's count weighted by how much of it is still in the window.
local weight = 1 - (now % 60000) / 60000
local rpm_keys, tpm_keys = {}, {}
-- Every limit is read even after one is crossed: the caller's retry-after needs all the counts.
-- v3 checks every rpm limit before it reserves any tokens, so the refusal names the first rpm
-- limit crossed, else the first tpm limit crossed (each in the descriptors' order).
local crossed, crossed_used, crossed_tpm, crossed_tpm_used, counts = nil, nil, nil, nil, {}
for i = 1, L do
  local limit, metric = tonumber(ARGV[a]), ARGV[a + 1]
  a = a + 2
  local current = KEYS[2 * i]
  local previous_count, current_count = redis.call('GET', KEYS[2 * i + 1]) or '0', redis.call('GET', current) or '0'
  counts[#counts + 1] = previous_count
  counts[#counts + 1] = current_count
  local used = tonumber(previous_count) * weight + tonumber(current_count)
  local over
  if metric == 'rpm' then
    over = used + 1 > limit
    rpm_keys[#rpm_keys + 1] = current
    if over and not crossed then crossed, crossed_used = i, used end
  else
    over = used + math.max(tokens, 1) > limit
    tpm_keys[#tpm_keys + 1] = current
    if over and not crossed_tpm then crossed_tpm, crossed_tpm_used = i, used end
  end
end
if not crossed then crossed, crossed_used = crossed_tpm, crossed_tpm_used end
if crossed then
  local reply = {'rate_limited', crossed, tostring(crossed_used)}
  for _, count in ipairs(counts) do reply[#reply + 1] = count end
  return reply
end
local first_counter = 2 + 2 * L
local reserve = {}
for j = 1, B do
  local key = KEYS[first_counter + j - 1]
  local max, w, p, seed = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
  a = a + 4
  local spend = tonumber(ensure(key, w, p, seed, now, idle))
  purge(key, now)
  local reserved = tonumber(redis.call('HGET', key, 'r') or '0')
  if max ~= '' then
    if spend + reserved + estimate > tonumber(max) then
      return {'over_budget', j, tostring(spend), tostring(reserved)}
    end
    reserve[#reserve + 1] = key
  end
end
local W = tonumber(ARGV[a] or '0')
a = a + 1
for x = 1, W do
  local j, max, settled, tail, from = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), ARGV[a + 4]
  a = a + 5
  if from ~= '' then
    local read = tail_spend(KEYS[first_counter + B + x - 1], tonumber(from))
    if read > tail then tail = read end
  end
  local key = KEYS[first_counter + j - 1]
  local reserved = tonumber(redis.call('HGET', key, 'r') or '0')
  if settled + tail + reserved + estimate > max then
    return {'over_window', x, string.format('%.17g', settled + tail), tostring(reserved)}
  end
  local listed = false
  for _, held in ipairs(reserve) do
    if held == key then listed = true end
  end
  if not listed then reserve[#reserve + 1] = key end
end
-- An agent session's caps (max_iterations, max_budget_per_session): checked with everything
-- else, so a call refused here or elsewhere takes no iteration, and concurrent calls of a session
-- cannot all pass a cap one of them reaches.
local S = tonumber(ARGV[a] or '0')
a = a + 1
local session_iterations, session_budget, session_iterations_ttl, session_budget_ttl = nil, nil, 0, 0
if S == 1 then
  local iterations_max, budget_max = ARGV[a], ARGV[a + 1]
  session_iterations_ttl, session_budget_ttl = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  a = a + 4
  local iterations_key, budget_key = KEYS[first_counter + B + W], KEYS[first_counter + B + W + 1]
  if iterations_max ~= '' then
    local count = tonumber(redis.call('GET', iterations_key) or '0') + 1
    if count > tonumber(iterations_max) then return {'session_iterations', tostring(count)} end
    session_iterations = iterations_key
  end
  if budget_max ~= '' then
    local max = tonumber(budget_max)
    -- A session's spend gone (its TTL) while its calls in flight still hold their estimates: it
    -- starts again holding them, so that neither purging nor releasing them takes it below 0 or
    -- writes it back without a TTL.
    if redis.call('EXISTS', budget_key) == 0 and redis.call('EXISTS', budget_key .. ':r') == 1 then
      redis.call('HSET', budget_key, 's', '0')
      rebuild_reserved(budget_key)
      redis.call('PEXPIRE', budget_key, session_budget_ttl)
    end
    purge(budget_key, now)
    local spend = tonumber(redis.call('HGET', budget_key, 's') or '0')
    local reserved = tonumber(redis.call('HGET', budget_key, 'r') or '0')
    if spend >= max or (estimate > 0 and spend + reserved + estimate > max) then
      return {'session_budget', string.format('%.17g', spend), tostring(reserved)}
    end
    if estimate > 0 then
      session_budget = budget_key
      reserve[#reserve + 1] = budget_key
    end
  end
end
-- Per-model budget windows (model_max_budget), with budget_reservation: the open window's spend
-- (none before its first charge), what requests in flight hold on it and the estimate must fit
-- its max_budget; the estimate is then held on it as on a budget counter.
local M = tonumber(ARGV[a] or '0')
a = a + 1
local first_model_window = first_counter + B + W + (S == 1 and 2 or 0)
local model_windows = {}
for y = 1, M do
  local key, max = KEYS[first_model_window + y - 1], tonumber(ARGV[a])
  a = a + 1
  -- A window gone (its TTL) while requests in flight hold estimates on it starts again holding
  -- them, with no spend (releasing them must find 's' to take them back).
  if redis.call('EXISTS', key) == 0 and redis.call('EXISTS', key .. ':r') == 1 then
    redis.call('HSET', key, 's', '0')
    rebuild_reserved(key)
    redis.call('PEXPIREAT', key, expires_at + 60000)
  end
  purge(key, now)
  local h = redis.call('HMGET', key, 's', 't', 'd', 'r')
  local start, length = tonumber(h[2]), tonumber(h[3])
  local spend = 0
  if h[1] and start and length and now - start <= length then spend = tonumber(h[1]) end
  local reserved = tonumber(h[4] or '0')
  if spend + reserved + estimate > max then
    return {'over_model_budget', y, string.format('%.17g', spend), tostring(reserved)}
  end
  if estimate > 0 then
    reserve[#reserve + 1] = key
    model_windows[#model_windows + 1] = key
  end
end
for _, key in ipairs(rpm_keys) do
  redis.call('INCR', key)
  redis.call('PEXPIRE', key, bucket_ttl)
end
-- A window not yet opened by a charge is made to hold the reservation ('s' 0: no window yet),
-- lasting as long as it; an open window keeps its own TTL.
for _, key in ipairs(model_windows) do
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 's', '0')
    redis.call('PEXPIREAT', key, expires_at + 60000)
  end
end
if session_iterations and redis.call('INCR', session_iterations) == 1 then redis.call('PEXPIRE', session_iterations, session_iterations_ttl) end
-- A session's spend lasts its TTL from its first write, whether a charge or, here, a reservation.
if session_budget and redis.call('EXISTS', session_budget) == 0 then
  redis.call('HSET', session_budget, 's', '0', 'r', '0')
  redis.call('PEXPIRE', session_budget, session_budget_ttl)
end
local held = false
if tokens > 0 and #tpm_keys > 0 then
  for _, key in ipairs(tpm_keys) do
    redis.call('INCRBY', key, tokens_text)
    redis.call('PEXPIRE', key, bucket_ttl)
  end
  -- Without an admission id nothing can settle them: they age out with their minute's bucket.
  if rid ~= '' then
    redis.call('HSET', KEYS[1], 't', tokens_text, 'b', table.concat(tpm_keys, '\\n'))
    held = true
  end
end
if estimate > 0 and #reserve > 0 then
  local member = estimate_text .. '|' .. rid
  for _, key in ipairs(reserve) do
    local zkey = key .. ':r'
    if redis.call('ZADD', zkey, expires_at, member) == 1 then
      redis.call('HINCRBYFLOAT', key, 'r', estimate_text)
    end
    -- The set outlives its last member by a minute, then goes by itself (purge then zeroes 'r').
    if redis.call('PTTL', zkey) < expires_at - now + 60000 then redis.call('PEXPIREAT', zkey, expires_at + 60000) end
  end
  redis.call('HSET', KEYS[1], 'a', estimate_text, 'k', table.concat(reserve, '\\n'))
  held = true
end
if held then redis.call('PEXPIRE', KEYS[1], res_ttl) end
return {'ok'}`,
);
