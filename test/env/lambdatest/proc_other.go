//go:build !linux

package lambdatest

import (
	"errors"
	"time"
)

// childPIDs needs /proc; elsewhere the bootstrap is left to exit by itself
// when the emulator is gone (its runtime API connection fails).
func childPIDs(int) []int { return nil }

func peakRSS(int) (int64, error) { return 0, errors.New("peak memory: needs Linux /proc") }

func cpuTime(int) (time.Duration, error) { return 0, errors.New("cpu time: needs Linux /proc") }
