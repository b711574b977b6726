package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dvcwatch/dvcwatch/config"
)

// guardUsage makes what the user typed wrong exit 2 with a suggestion, all over
// the tree under cmd: a command with subcommands answers an unknown one by
// naming the nearest (cobra would print its help and exit 0), and every
// argument count check becomes a usage error. Run it after every command is
// added.
func guardUsage(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		guardUsage(c)
	}
	if cmd.HasSubCommands() && !cmd.Runnable() {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(c, args[0])
			}
			return nil
		}
		// Alone, it asks for its help: shown, exit 0.
		cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		return
	}
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			err := check(c, args)
			var ue usageError
			if err != nil && !errors.As(err, &ue) {
				return usageError{err}
			}
			return err
		}
	}
}

// unknownCommand names the nearest subcommands of cmd to the one typed, and
// lists them all when cmd is not the root.
func unknownCommand(cmd *cobra.Command, typed string) error {
	msg := fmt.Sprintf("unknown command %q for %q", typed, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(typed); len(s) > 0 {
		for i := range s {
			s[i] = cmd.CommandPath() + " " + s[i]
		}
		msg += "; did you mean " + quoteOr(s) + "?"
	}
	if cmd.HasParent() {
		msg += " (its commands: " + strings.Join(subcommandNames(cmd), ", ") + ")"
	} else {
		msg += ` (see "dvcwatch --help")`
	}
	return usageError{errors.New(msg)}
}

// flagError explains a flag that did not parse. pflag stops at the first
// unknown flag: if a word before it is an unknown subcommand, that is the
// mistake ("calendar holiday --year 2026"); else the nearest flag of the
// command, or the commands that do have the flag, are named.
func flagError(cmd *cobra.Command, err error) error {
	if cmd.HasAvailableSubCommands() {
		if args := cmd.Flags().Args(); len(args) > 0 {
			return unknownCommand(cmd, args[0])
		}
	}
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) || ne.GetSpecifiedName() == "" {
		return usageError{err}
	}
	name := ne.GetSpecifiedName()
	if ne.GetSpecifiedShortnames() != "" {
		// -x: no long name to compare with.
		return usageError{fmt.Errorf("unknown flag -%s for %q", name, cmd.CommandPath())}
	}
	msg := fmt.Sprintf("unknown flag --%s for %q", name, cmd.CommandPath())
	var hints []string
	var flags []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			flags = append(flags, f.Name)
		}
	})
	if s := config.Suggest(name, flags); s != "" {
		hints = append(hints, "did you mean --"+s+"?")
	}
	if owners := nearestFlagOwners(cmd, name); len(owners) > 0 {
		hints = append(hints, "--"+name+" is a flag of "+quoteOr(owners))
	}
	if cmd.HasParent() && cmd.HasAvailableSubCommands() {
		hints = append(hints, "its commands: "+strings.Join(subcommandNames(cmd), ", "))
	}
	if len(hints) > 0 {
		msg += "; " + strings.Join(hints, "; ")
	}
	return usageError{errors.New(msg)}
}

// newHelpCommand is cobra's "help [command]" with an unknown topic a usage
// error (cobra's prints the root's usage and exits 0).
func newHelpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil {
				return usageError{err}
			}
			if len(rest) > 0 {
				return unknownCommand(cmd, rest[0])
			}
			return cmd.Help()
		},
	}
}

// nearestFlagOwners lists the commands that define the flag, looking first
// under cmd's parent (the commands a user most likely meant), then under
// the parents above it up to the root.
func nearestFlagOwners(cmd *cobra.Command, name string) []string {
	for c := cmd; c != nil; c = c.Parent() {
		if owners := flagOwners(c, name); len(owners) > 0 {
			return owners
		}
	}
	return nil
}

// flagOwners lists the commands under root that define the flag themselves.
func flagOwners(root *cobra.Command, name string) []string {
	var owners []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.Hidden && c.LocalNonPersistentFlags().Lookup(name) != nil {
			owners = append(owners, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return owners
}

func subcommandNames(cmd *cobra.Command) []string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" {
			names = append(names, c.Name())
		}
	}
	slices.Sort(names)
	return names
}

// unknownValue is the usage error for a flag given a value none of the known
// ones: `--kind "overdu": unknown breach kind (did you mean "overdue"? want one of: …)`.
func unknownValue(flag, value, what string, known []string) error {
	return usageErrorf("%s %q: unknown %s %s", flag, value, what, config.WantOneOf(value, known))
}

// quoteOr writes `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
func quoteOr(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
