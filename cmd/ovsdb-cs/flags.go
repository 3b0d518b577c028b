package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// flagSet is a command's flags and its usage text.
type flagSet struct {
	*flag.FlagSet
	e    *env
	head string
	// short maps a long flag name to its one-letter alias, shown together.
	short map[string]string
}

// newFlagSet returns the flag set of command name whose usage text is head
// (the synopsis and description) followed by the flags.
func newFlagSet(e *env, name, head string) *flagSet {
	fs := flag.NewFlagSet("ovsdb-cs "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // parseArgs prints the usage for --help only
	return &flagSet{FlagSet: fs, e: e, head: head, short: map[string]string{}}
}

// alias makes -short an alias of --long.
func (fs *flagSet) alias(short, long string) {
	f := fs.Lookup(long)
	fs.Var(f.Value, short, "short for --"+long)
	fs.short[long] = short
}

// printUsage writes the usage text and then every flag.
func (fs *flagSet) printUsage(w io.Writer) {
	fmt.Fprint(w, strings.TrimLeft(fs.head, "\n"))
	fmt.Fprintln(w, "\nFlags:")
	aliases := map[string]bool{}
	for _, s := range fs.short {
		aliases[s] = true
	}
	row := func(names, usage string) {
		if len(names) > 30 {
			fmt.Fprintf(w, "  %s\n  %-30s %s\n", names, "", usage)
			return
		}
		fmt.Fprintf(w, "  %-30s %s\n", names, usage)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if aliases[f.Name] {
			return
		}
		arg, usage := flag.UnquoteUsage(f)
		names := "--" + f.Name
		if len(f.Name) == 1 {
			names = "-" + f.Name
		}
		if s, ok := fs.short[f.Name]; ok {
			names = "-" + s + ", " + names
		}
		if arg != "" {
			names += " " + arg
		}
		switch f.DefValue {
		case "", "false", "0", "0s", "[]":
		default:
			usage += " (default " + f.DefValue + ")"
		}
		row(names, usage)
	})
	row("-h, --help", "show this help")
}

// parseArgs parses flags anywhere among args (flags may follow positional
// arguments; "--" ends the flags) and returns the positional arguments.
// --help prints the usage on stdout and returns errHelp; a bad flag returns
// a usageError.
func parseArgs(fs *flagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.printUsage(fs.e.stdout)
				return nil, errHelp
			}
			return nil, usageErrorf("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		// fs.Parse stops at the first non-flag, or after "--".
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// verbosity is a counting flag: each -v adds one, -v=N sets N.
type verbosity int

func (v *verbosity) String() string { return strconv.Itoa(int(*v)) }

func (v *verbosity) Set(s string) error {
	if s == "true" {
		*v++
		return nil
	}
	if s == "false" {
		*v = 0
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("want a level 0..9, got %q", s)
	}
	*v = verbosity(n)
	return nil
}

func (v *verbosity) IsBoolFlag() bool { return true }

// addVerbose defines -v and --verbose on fs.
func addVerbose(fs *flagSet, v *verbosity) {
	fs.Var(v, "verbose", "log to stderr at V(0); repeat (-v -v) or give -v=`N` for V(N-1) detail")
	fs.alias("v", "verbose")
}

// logger returns a logger writing to w at verbosity v, or a discarding one
// when v is 0 (errors are printed by the command itself).
func logger(w io.Writer, v verbosity) logr.Logger {
	if v <= 0 {
		return logr.Discard()
	}
	return funcr.New(func(prefix, args string) {
		if prefix != "" {
			fmt.Fprintf(w, "%s: %s\n", prefix, args)
		} else {
			fmt.Fprintln(w, args)
		}
	}, funcr.Options{LogTimestamp: true, Verbosity: int(v) - 1})
}
