package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dvcwatch/dvcwatch/config"
)

// configFlag adds the --config flag every command that reads the file shares;
// DVCWATCH_CONFIG is its default so a service unit need not repeat it.
func configFlag(cmd *cobra.Command, path *string, required bool) {
	usage := "configuration file (default $DVCWATCH_CONFIG)"
	if !required {
		usage = "configuration file for the calendar file and office hours (default $DVCWATCH_CONFIG; none: built-in calendar, 07:30-11:30 and 13:30-17:00)"
	}
	cmd.Flags().StringVar(path, "config", os.Getenv("DVCWATCH_CONFIG"), usage)
}

// loadConfig reads the file; every problem in it is the user's to fix (exit 2).
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, usageErrorf("--config: no configuration file given (pass --config FILE or set DVCWATCH_CONFIG)")
	}
	cfg, err := config.Load(path)
	if err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			return nil, usageError{problemsError{ps}}
		}
		return nil, usageError{err}
	}
	return cfg, nil
}

// checkWithoutSecrets is config check --no-secrets.
func checkWithoutSecrets(cmd *cobra.Command, path string) error {
	if path == "" {
		return usageErrorf("--config: no configuration file given (pass --config FILE or set DVCWATCH_CONFIG)")
	}
	cfg, refs, err := config.LoadWithoutSecrets(path)
	if err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			return usageError{problemsError{ps}}
		}
		return usageError{err}
	}
	cmd.Printf("%s: valid but for its secrets, not checked (%d connectors, %d schedules, %d agencies)\n",
		path, len(cfg.Connectors), len(cfg.Schedules), len(cfg.Agencies))
	if len(refs) == 0 {
		cmd.Println("it needs no secret")
		return nil
	}
	cmd.Println("secrets it needs at run time:")
	for _, r := range refs {
		from := "written in the file"
		if len(r.Env) > 0 {
			from = "environment variable " + strings.Join(r.Env, ", ")
		}
		cmd.Printf("  %s:%d: %s: %s\n", path, r.Line, r.Path, from)
	}
	return nil
}

// problemsError prints a count first so that the list that follows, one problem
// a line, reads as a whole.
type problemsError struct{ ps config.Problems }

func (e problemsError) Error() string {
	noun := "problems"
	if len(e.ps) == 1 {
		noun = "problem"
	}
	return fmt.Sprintf("invalid configuration, %d %s:\n%s", len(e.ps), noun, e.ps.Error())
}

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with the configuration file",
	}
	var path string
	var noSecrets bool
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration file and list every problem in it",
		Long: `Validate the configuration file: strict field names, values, cross-references
(departments, heads, connectors), cron expressions, the calendar file and
environment variables for secrets. Every problem is listed, one a line, as
file:line: field.path: message. Exit status 0 when valid, 2 otherwise.

On the machine that runs dvcwatch, check with every secret in the
environment, as the service will start. In a configuration repository's CI,
which holds no secrets, --no-secrets reads no environment variable: each
${NAME} in a secret stands for a valid value, everything else is checked,
and the secrets the file needs at run time are listed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if noSecrets {
				return checkWithoutSecrets(cmd, path)
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			cmd.Printf("%s: valid (%d connectors, %d schedules, %d agencies)\n",
				path, len(cfg.Connectors), len(cfg.Schedules), len(cfg.Agencies))
			return nil
		},
	}
	configFlag(check, &path, true)
	check.Flags().BoolVar(&noSecrets, "no-secrets", false,
		"check everything but the secrets, reading no environment variable, and list the secrets the file needs (for a configuration repository's CI)")
	cmd.AddCommand(check)
	return cmd
}
