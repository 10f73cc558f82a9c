-- wrk script of the resource workload (scripts/bench resource):
-- GET /users/{id} over the ids 1..1000 that e2eserver seeds, in a fixed
-- scattered order (a stride prime to 1000), the same for every contender;
-- at the end, the latency percentiles in microseconds on one line:
--   latency_us p50 p75 p90 p95 p99 max
local users = 1000
local stride = 389
local n = 0

request = function()
	n = (n + stride) % users
	return wrk.format("GET", "/users/" .. (n + 1))
end

done = function(summary, latency, requests)
	io.write(string.format("latency_us %d %d %d %d %d %d\n",
		latency:percentile(50), latency:percentile(75), latency:percentile(90),
		latency:percentile(95), latency:percentile(99), latency.max))
end
