// Command autoscalebot runs the autoscaler on this computer. See the README.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // status reads schedules in their time zone on machines without a zone database

	"github.com/autoscalebot/autoscalebot/internal/cli"
)

func main() {
	// The command decides what an interrupt means: the first lets the tick in
	// flight finish (a scale call made is then always recorded), a second
	// abandons it.
	interrupts := make(chan os.Signal, 2)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	code := cli.Main(context.Background(), os.Args[1:], cli.Env{
		Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, Interrupts: interrupts,
	})
	signal.Stop(interrupts)
	os.Exit(code)
}
