"""The Lua scripts behind `RedisLimiter`: each call is one atomic step on the server.

Key names carry the window or month they count, and both come from the server's clock
(`TIME`), so every router agrees on them whatever its own clock says. That is why the scripts
build key names themselves from per-limit bases passed in ARGV instead of receiving KEYS:
the limiter targets a standalone (or Sentinel-managed) Redis, not Redis Cluster.

Keys, with `<base>` = `<prefix><code>:<scope>:` and every key carrying a TTL:

    rq  requests this window        <base><window id>   string   expires 5 s after the window
    tk  tokens this window          <base><window id>   string   expires 5 s after the window
    cc  live leases                 <base>              zset     member lease id, score expiry (ms)
    mt  tokens this month           <base><YYYYMM>      string   expires 35 days after month start
    mm  micro-dollars this month    <base><YYYYMM>      string   expires 35 days after month start

ADMIT
    ARGV[1] window length (s)      ARGV[2] lease id          ARGV[3] lease TTL (ms)
    ARGV[4] tokens to reserve       ARGV[5] cost to reserve    ARGV[6] "1": report missing monthly
    then one argument per limit: "<code><limit>:<base>", e.g. "rq60:ias:limits:rq:key:K:"
    (one argument rather than three: every argument costs the client time to encode).
    Checks every limit, then counts the request against all of them only if all allow it:
    requests +1, tokens +ARGV[4], a lease, month tokens +ARGV[4], month micros +ARGV[5].
    Expired leases are dropped first, so a crashed router's leases free themselves.
    Returns {status, seconds, microseconds, month, refused index, ...}: status 1 admitted and 0
    refused, followed by each limit's counter (after counting when admitted); status 2 when
    ARGV[6] is "1" and a monthly key is missing, followed by those limits' indexes, so the
    caller can seed them from the ledger and run again (nothing was counted).

SETTLE
    ARGV[1] window id      ARGV[2] month "YYYYMM"   ARGV[3] lease id
    ARGV[4] token delta     ARGV[5] cost delta        then one argument per limit to adjust or
    release: "<code><base>".
    Adds the deltas to the counters the request was admitted on, clamped at zero, and removes
    the lease. Keys that no longer exist stay absent: a lost month must come back from the
    ledger, not restart at a partial figure.

USAGE
    ARGV[1] window length (s), ARGV[2..6] the bases of rq, tk, cc, mt, mm for one scope.
    Returns the five current values; read-only.
"""

from __future__ import annotations

# Howard Hinnant's civil_from_days: the UTC (year, month, day) of a Unix time in seconds.
_CIVIL = """
local function civil(seconds)
  local z = math.floor(seconds / 86400) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local day = doy - math.floor((153 * mp + 2) / 5) + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (month <= 2 and 1 or 0)
  return year, month, day
end
"""

CIVIL_PROBE = (
    _CIVIL
    + """
local year, month, day = civil(tonumber(ARGV[1]))
return {year, month, day}
"""
)
"""Runs the calendar helper alone, so tests can compare it with Python's calendar."""

ADMIT = (
    _CIVIL
    + """
local time = redis.call('TIME')
local now = tonumber(time[1])
local now_ms = now * 1000 + math.floor(tonumber(time[2]) / 1000)
local window_seconds = tonumber(ARGV[1])
local window = math.floor(now / window_seconds)
local year, month_number, day = civil(now)
local month = year * 100 + month_number
local window_id, month_id = string.format('%d', window), string.format('%d', month)
local window_expiry = string.format('%d', (window + 1) * window_seconds + 5)
local month_expiry = string.format('%d', now - (day - 1) * 86400 - now % 86400 + 35 * 86400)
local lease, lease_ms = ARGV[2], tonumber(ARGV[3])
local tokens, cost = ARGV[4], ARGV[5]
local amounts = {rq = '1', tk = tokens, cc = '1', mt = tokens, mm = cost}
local adds = {rq = 1, tk = tonumber(tokens), cc = 1, mt = tonumber(tokens), mm = tonumber(cost)}
local report_missing = ARGV[6] == '1'

local codes, names, used, fresh, missing = {}, {}, {}, {}, {}
local refused = 0
local n = #ARGV - 6
for i = 1, n do
  local code, limit, base = string.match(ARGV[6 + i], '^(%a%a)(%d+):(.*)$')
  limit = tonumber(limit)
  local name, count
  if code == 'cc' then
    name = base
    redis.call('ZREMRANGEBYSCORE', name, '-inf', string.format('%d', now_ms))
    count = redis.call('ZCARD', name)
  else
    name = base .. ((code == 'rq' or code == 'tk') and window_id or month_id)
    local value = redis.call('GET', name)
    fresh[i] = not value
    if not value and report_missing and (code == 'mt' or code == 'mm') then
      missing[#missing + 1] = i
    end
    count = tonumber(value) or 0
  end
  codes[i], names[i], used[i] = code, name, count
  if refused == 0 and count + adds[code] > limit then refused = i end
end

if #missing > 0 then
  return {2, now, tonumber(time[2]), month, 0, unpack(missing)}
end
if refused > 0 then
  return {0, now, tonumber(time[2]), month, refused, unpack(used)}
end
for i = 1, n do
  local code, name = codes[i], names[i]
  if code == 'cc' then
    local expiry = now_ms + lease_ms
    redis.call('ZADD', name, string.format('%d', expiry), lease)
    -- The set lives as long as its latest lease; GT alone would never expire a new set.
    if used[i] == 0 then
      redis.call('PEXPIREAT', name, string.format('%d', expiry + 1000))
    else
      redis.call('PEXPIREAT', name, string.format('%d', expiry + 1000), 'GT')
    end
    used[i] = used[i] + 1
  else
    used[i] = redis.call('INCRBY', name, amounts[code])
    -- Created in this same atomic step, so no key ever exists without its expiry.
    if fresh[i] then
      redis.call('EXPIREAT', name, (code == 'rq' or code == 'tk') and window_expiry or month_expiry)
    end
  end
end
return {1, now, tonumber(time[2]), month, 0, unpack(used)}
"""
)

SETTLE = """
local window, month, lease = ARGV[1], ARGV[2], ARGV[3]
local deltas = {tk = ARGV[4], mt = ARGV[4], mm = ARGV[5]}
for i = 6, #ARGV do
  local code, base = string.sub(ARGV[i], 1, 2), string.sub(ARGV[i], 3)
  if code == 'cc' then
    redis.call('ZREM', base, lease)
  elseif deltas[code] and deltas[code] ~= '0' then
    local name = base .. (code == 'tk' and window or month)
    if redis.call('EXISTS', name) == 1 then
      if redis.call('INCRBY', name, deltas[code]) < 0 then
        redis.call('SET', name, '0', 'KEEPTTL')
      end
    end
  end
end
return 1
"""

USAGE = (
    _CIVIL
    + """
local time = redis.call('TIME')
local now = tonumber(time[1])
local now_ms = now * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = string.format('%d', math.floor(now / tonumber(ARGV[1])))
local year, month_number = civil(now)
local month = string.format('%d', year * 100 + month_number)
return {
  tonumber(redis.call('GET', ARGV[2] .. window)) or 0,
  tonumber(redis.call('GET', ARGV[3] .. window)) or 0,
  redis.call('ZCOUNT', ARGV[4], '(' .. string.format('%d', now_ms), '+inf'),
  tonumber(redis.call('GET', ARGV[5] .. month)) or 0,
  tonumber(redis.call('GET', ARGV[6] .. month)) or 0,
}
"""
)
