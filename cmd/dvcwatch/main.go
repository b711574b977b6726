// Command dvcwatch watches administrative dossiers for delays: it syncs them from
// the portals, checks them against the legal deadlines and alerts the people who
// answer for them. main only wires signals and exit codes; the subcommands live
// beside it.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses: 1 for a failure while doing the work, 2 for bad input (a flag,
// a date, a limit, an invalid configuration), as operators' scripts expect.
const (
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dvcwatch:", err)
		os.Exit(exitStatus(err))
	}
}

// exitStatus maps an error from a command to the process's exit status.
func exitStatus(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return exitUsage
	default:
		return exitFailure
	}
}

// usageError marks an error caused by what the user typed or wrote, not by the
// work itself; it maps to exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}
