package main

import (
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "dvcwatch",
		Short: "Watch administrative dossiers for delays and alert those responsible",
		Long: `dvcwatch pulls dossier status from the national public-service portal (DVCQG)
and the provincial one-stop system, checks every dossier against its legal
deadline (working days, Vietnamese holidays, paused time) and alerts the
officials, department heads and the HĐND–UBND office about delays.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Flag parse errors are the user's input: exit status 2 like any bad flag
	// value, with the nearest flag or command named.
	root.SetFlagErrorFunc(flagError)
	root.SetHelpCommand(newHelpCommand())
	root.AddCommand(
		newVersionCommand(),
		newMigrateCommand(),
		newConfigCommand(),
		newCalendarCommand(),
		newSyncCommand(),
		newDetectCommand(),
		newBreachesCommand(),
		newDossierCommand(),
		newReportCommand(),
		newServeCommand(),
		newJobsCommand(),
		newEmailsCommand(),
		newSchedulesCommand(),
		newSilencesCommand(),
		newBenchCommand(),
		newPortalsimCommand(),
		newDemoCommand(),
	)
	root.InitDefaultCompletionCmd() // now, not at Execute, so that guardUsage sees it
	guardUsage(root)
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			cmd.Println("dvcwatch", version())
		},
	}
}

// version reports the module version and VCS revision that the Go toolchain
// stamped into the binary, so no release step has to pass -ldflags.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " (" + rev + modified + ")"
	}
	return v
}
