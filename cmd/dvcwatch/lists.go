package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"
)

// The formats a list command prints in (--output).
const (
	outputTable = "table"
	outputJSON  = "json"
)

// outputFlag adds --output to a list command.
func outputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVar(output, "output", outputTable, "how to print the list: table or json")
}

// checkOutput validates --output; it is bad input (exit 2) when unknown.
func checkOutput(output string) error {
	if output != outputTable && output != outputJSON {
		return unknownValue("--output", output, "format", []string{outputTable, outputJSON})
	}
	return nil
}

// vnInt writes n as Vietnamese writes numbers: 4.507, 1.234.567.
func vnInt(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, '.')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// leftOut says, under a table, how many rows the list left out: "100 of
// 4.507 shown; 4.407 more — use --limit or filters". Nothing when it shows
// them all.
func leftOut(w io.Writer, shown, total int) {
	if total <= shown {
		return
	}
	fmt.Fprintf(w, "%s of %s shown; %s more — use --limit or filters\n", vnInt(shown), vnInt(total), vnInt(total-shown))
}
