// Package bench compares ovsdbcs with its Go peers, side by side in the same
// run. It is its own module so that libovsdb's client and cache never enter
// the library's go.mod. Its data (the Bench schema and rows) comes from
// github.com/ovsdbcs/ovsdbcs/monitor/benchdata, which monitor's own
// benchmarks use too. See README.md.
package bench
