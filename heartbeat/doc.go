// Package heartbeat gives a Go web app a heartbeat URL worth probing, and
// measures how long its requests wait for a free dyno (router queue time).
//
// Handler answers the heartbeat: it runs named checks of what the app needs
// to serve (its database, its cache, its disk, anything else as a function)
// concurrently, each bounded by its own timeout, and answers 200 with a small
// JSON body when all pass, 503 naming the checks that failed otherwise. The
// answer is never cached.
//
// Middleware wraps the whole app. It reads the X-Request-Start header that
// Heroku's router stamps on every request (milliseconds since the epoch, or
// "t=" and microseconds as nginx-style routers send) and keeps the queue time
// of the requests of the last 30 seconds in a fixed ring of per-second
// histograms, so its memory is the same at one request a minute or at ten
// thousand a second. Each second also accumulates how busy the process was:
// min(requests in flight, C) × time, where C is the window's Concurrency
// (default 1: a single-threaded process is busy as soon as one request is in
// flight). The heartbeat's answer then carries the window's 95th percentile,
// request count and utilization, and always the probe's own queue time:
//
//	X-Queue-Time-Ms:       the heartbeat request's own queue time
//	X-Queue-Time-P95-Ms:   95th percentile over the window (with Middleware)
//	X-Queue-Time-Count:    requests in the window (with Middleware)
//	X-Queue-Time-Window-S: the window's length in seconds (with Middleware)
//	X-Utilization-Pct:     time-weighted mean of min(in flight, C) / C over
//	                       the window, 0–100 (with Middleware); the probe
//	                       itself is not counted in flight
//
// autoscalebot, with AUTOSCALE_SIGNAL=queue_time or utilization, scales on
// these headers. A process whose requests run several at once sets C:
//
//	win := heartbeat.NewWindow(heartbeat.DefaultWindow)
//	win.Concurrency = 8 // requests it serves at once without slowing: its database pool, say
//	http.ListenAndServe(addr, win.Middleware(mux))
//
// The package depends on the standard library only.
package heartbeat
