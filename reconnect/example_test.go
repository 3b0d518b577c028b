package reconnect_test

import (
	"fmt"
	"time"

	"github.com/ovsdbcs/ovsdbcs/reconnect"
)

// A connection's life with a fake clock: connect, fall silent, get probed,
// time out, back off, reconnect.
func Example() {
	now := time.Unix(0, 0)
	fsm := reconnect.New(now)
	fsm.SetName("tcp:127.0.0.1:6641")
	fsm.ReceiveAttemptedNever() // this loop never stalls, so skip the guard
	fsm.Enable(now)

	step := func(what string) {
		d, ok := fsm.Timeout(now)
		if ok {
			now = now.Add(d)
		}
		fmt.Printf("t=%-6v %-10s run=%-10v state=%v\n", now.Sub(time.Unix(0, 0)), what, fsm.Run(now), fsm.State())
	}

	step("start") // connect at once
	fsm.Connected(now)
	step("silence") // a probe after the probe interval
	step("silence") // no reply: disconnect
	fsm.Disconnected(now, nil)
	step("backoff") // try again after the minimum backoff
	fsm.ConnectFailed(now, nil)
	step("backoff") // the backoff doubles
	// Output:
	// t=0s     start      run=connect    state=BACKOFF
	// t=5s     silence    run=probe      state=IDLE
	// t=10s    silence    run=disconnect state=IDLE
	// t=11s    backoff    run=connect    state=BACKOFF
	// t=13s    backoff    run=connect    state=BACKOFF
}

// Forcing a reconnect to move to another server: with one free try per
// remote plus one for the dropped connection, every remote is tried at once
// before normal backoff resumes.
func ExampleFSM_ForceReconnect() {
	now := time.Unix(0, 0)
	fsm := reconnect.New(now)
	fsm.Enable(now)
	fsm.Connected(now)
	now = now.Add(time.Minute)
	fsm.Activity(now)

	const remotes = 3
	fsm.SetBackoffFreeTries(remotes + 1) // +1: we are connected
	fsm.ForceReconnect(now)
	fmt.Println("run:", fsm.Run(now))
	fsm.Disconnected(now, nil)
	for i := range remotes {
		d, _ := fsm.Timeout(now)
		fmt.Printf("attempt %d after %v\n", i+1, d)
		fsm.ConnectFailed(now, nil) // say the server is not the leader
	}
	d, _ := fsm.Timeout(now)
	fmt.Println("then back off", d)
	// Output:
	// run: disconnect
	// attempt 1 after 0s
	// attempt 2 after 0s
	// attempt 3 after 0s
	// then back off 1s
}
