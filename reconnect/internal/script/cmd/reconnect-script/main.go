// Command reconnect-script runs a reconnect test script from standard input
// and writes the transcript to standard output, like Open vSwitch's
// "ovstest test-reconnect". On a bad line it reports the error on standard
// error and exits with status 1, as the C driver does.
//
// Usage:
//
//	go run ./reconnect/internal/script/cmd/reconnect-script < scenario.in
package main

import (
	"fmt"
	"os"

	"github.com/ovsdbcs/ovsdbcs/reconnect/internal/script"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: reconnect-script < script > transcript")
		os.Exit(2)
	}
	if err := script.Run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "reconnect-script: %v\n", err)
		os.Exit(1)
	}
}
