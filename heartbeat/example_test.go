package heartbeat_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/autoscalebot/autoscalebot/heartbeat"
)

func Example() {
	hb := heartbeat.Handler(
		heartbeat.Disk("disk", "", time.Second),
		heartbeat.Func("config", 100*time.Millisecond, func(context.Context) error { return nil }),
	)
	// A real app leaves Token empty: it is read from AUTOSCALEBOT_HEARTBEAT_TOKEN.
	hb.Token = "example-token"
	mux := http.NewServeMux()
	mux.Handle("/autoscalebot/heartbeat/", hb)
	app := heartbeat.Middleware(mux) // serve this: every request's queue time is measured

	// A probe that waited 25 ms in Heroku's router.
	// The load headers go only to a probe carrying the token, as autoscalebot's does.
	req := httptest.NewRequest("GET", "/autoscalebot/heartbeat/", nil)
	req.Header.Set("Authorization", "Bearer example-token")
	req.Header.Set(heartbeat.RequestStartHeader, strconv.FormatInt(time.Now().Add(-25*time.Millisecond).UnixMilli(), 10))
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get(heartbeat.QueueCountHeader), rec.Header().Get("Cache-Control"))
	// Output: 200 1 no-store, no-cache, must-revalidate, max-age=0
}
