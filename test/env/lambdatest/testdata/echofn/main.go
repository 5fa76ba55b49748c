// Command echofn is a small Lambda function for the harness's own tests: it
// reports its environment, deadline, process and a time zone lookup, and
// fails or sleeps on request. It has no embedded time zone database.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	Env     []string `json:"env"`
	Zone    string   `json:"zone"`
	Fail    string   `json:"fail"`
	SleepMS int      `json:"sleepMs"`
	Print   string   `json:"print"`
}

type response struct {
	Env         map[string]*string `json:"env"`
	DeadlineMS  int64              `json:"deadlineMs"`
	PID         int                `json:"pid"`
	Invocations int64              `json:"invocations"`
	ZoneError   string             `json:"zoneError,omitempty"`
}

var invocations atomic.Int64

func handle(ctx context.Context, req request) (response, error) {
	resp := response{Env: map[string]*string{}, PID: os.Getpid(), Invocations: invocations.Add(1)}
	if req.Print != "" {
		fmt.Println(req.Print)
	}
	if req.SleepMS > 0 {
		time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
	}
	if req.Fail != "" {
		return resp, errors.New(req.Fail)
	}
	for _, name := range req.Env {
		if v, ok := os.LookupEnv(name); ok {
			resp.Env[name] = &v
		} else {
			resp.Env[name] = nil
		}
	}
	if deadline, ok := ctx.Deadline(); ok {
		resp.DeadlineMS = time.Until(deadline).Milliseconds()
	}
	if req.Zone != "" {
		if _, err := time.LoadLocation(req.Zone); err != nil {
			resp.ZoneError = err.Error()
		}
	}
	return resp, nil
}

func main() { lambda.Start(handle) }
