// Package script runs reconnect test scripts: the little command language
// of Open vSwitch's reconnect tests (tests/test-reconnect.c, run as
// "ovstest test-reconnect" by tests/reconnect.at), driving a
// [reconnect.FSM] and printing the same transcript as OVS 3.1's C driver,
// byte for byte.
//
// # Start-up
//
// The driver owns an integer millisecond clock, now, that starts at 1000 and
// moves only with "advance", "run N" and "timeout"; it maps the clock to
// time.UnixMilli. It creates an FSM at 1000 named "remote" with the
// defaults (backoff 1000-8000 ms, probe interval 5000 ms, unlimited tries),
// prints "### t=1000 ###", and takes a first statistics snapshot.
//
// # Lines
//
// Each input line is echoed as read. A line starting with '#' in column 0
// is a comment and does nothing more; a blank line prints only its echo.
// Otherwise the first word is a command and the second, if any, its
// argument. After the command runs (some print a line of their own), the
// driver prints, in this order: a blank line and "### t=<now> ###" if the
// clock moved; the statistics lines that changed (below); and
// "  <n> tries left" if the FSM's max-tries value changed. Every line the
// driver prints starts with two spaces, except the time header.
//
// # Commands
//
// Error arguments are ECONNREFUSED, EOF or nothing; they change only log
// text, never the transcript.
//
//	enable, disable, force-reconnect, connecting, connected, activity,
//	listening                 call the FSM method of that name at now
//	disconnected [ERR]        FSM.Disconnected
//	connect-failed [ERR]      FSM.ConnectFailed
//	listen-error N            FSM.ListenError (N is an errno)
//	run [N]                   now += N, then FSM.Run; prints "  should
//	                          connect", "  should disconnect" or "  should
//	                          send probe" for the action, nothing for none
//	advance N                 now += N
//	timeout                   FSM.Timeout: prints "  advance <t> ms" and
//	                          moves now by t, or prints "  no timeout"
//	set-max-tries N           FSM.SetMaxTries
//	set-backoff-free-tries N  FSM.SetBackoffFreeTries
//	passive                   FSM.SetPassive(true)
//	receive-attempted now|LLONG_MAX
//	                          FSM.ReceiveAttempted at now, or never
//	                          (the receive guard off)
//
// # Statistics lines
//
// The driver compares the snapshot taken after the line with the previous
// one and prints, each only when its condition holds:
//
//	"  in <state> for <ms> ms (<backoff> ms backoff)"
//	    the state, the time in it or the backoff differs
//	"  created <t>, last activity <t>, last connected <t>"
//	    one of those absolute times differs (never connected: LLONG_MAX)
//	"  <n> successful connections out of <n> attempts, seqno <n>"
//	    one of the three differs
//	"  connected" or "  disconnected"
//	    whether the FSM is connected changed
//	"  last connected <ms> ms ago, connected <ms> ms total"
//	    the last connection time changed, or the time since it or the
//	    total did not move with the clock (so it repeats after every clock
//	    move while disconnected after a connection)
//	"  disconnected at <t> ms (<ms> ms ago)"
//	    the last disconnection time changed, or the time since it did not
//	    move with the clock
//
// The comparisons are on values, as in the C driver, so a transition that
// leaves the state, its age and the backoff unchanged prints no state line.
package script

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"syscall"
	"time"

	"github.com/ovsdbcs/ovsdbcs/reconnect"
)

// lineMax is the size of the C driver's line buffer: fgets reads at most
// lineMax-1 bytes at a time, so a longer line is processed in pieces.
const lineMax = 128

// Never values printed by the C driver.
const (
	neverTime  = math.MaxInt64  // LLONG_MAX: an absolute time that never happened
	neverSince = math.MaxUint32 // UINT_MAX: the time since an event that never happened
)

// Run reads a script from in and writes the transcript to out. It returns
// an error for a line the C driver would reject (an unknown command, a bad
// argument count, an unknown error name, a bad receive-attempted argument),
// after writing the transcript up to and including the echo of that line,
// or for a read or write error.
func Run(in io.Reader, out io.Writer) error {
	w := bufio.NewWriter(out)
	d := newDriver(w)
	err := d.run(bufio.NewReader(in))
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// driver is the state of one script run: the FSM, the clock, and what was
// printed last.
type driver struct {
	w   *bufio.Writer
	fsm *reconnect.FSM
	now int32 // C: static int now

	prev        snapshot
	oldTime     int32
	oldMaxTries uint32
}

func newDriver(w *bufio.Writer) *driver {
	d := &driver{w: w, now: 1000}
	d.fsm = reconnect.New(d.time())
	d.fsm.SetName("remote")
	d.prev = d.snapshot()
	d.oldTime = d.now
	d.oldMaxTries = d.fsm.MaxTries()
	return d
}

func (d *driver) time() time.Time { return time.UnixMilli(int64(d.now)) }

func (d *driver) printf(format string, args ...any) {
	fmt.Fprintf(d.w, format, args...)
}

func (d *driver) run(r *bufio.Reader) error {
	d.printf("### t=%d ###\n", d.now)
	for {
		line, err := readLine(r)
		if len(line) == 0 {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if err := d.line(line); err != nil {
			return err
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// readLine reads like C's fgets with a lineMax buffer: up to and including
// a newline, or lineMax-1 bytes, or what is left before the end of input.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for len(line) < lineMax-1 {
		c, err := r.ReadByte()
		if err != nil {
			return line, err
		}
		line = append(line, c)
		if c == '\n' {
			break
		}
	}
	return line, nil
}

// line runs one input line through the per-line cycle of the C driver.
func (d *driver) line(line []byte) error {
	// C handles the buffer as a C string: it ends at the first NUL.
	for i, c := range line {
		if c == 0 {
			line = line[:i]
			break
		}
	}
	d.w.Write(line)
	if len(line) > 0 && line[0] == '#' {
		return nil
	}

	if args := parseWords(string(line)); len(args) > 0 {
		if err := d.exec(args); err != nil {
			return err
		}
	}

	if d.oldTime != d.now {
		d.printf("\n### t=%d ###\n", d.now)
	}
	cur := d.snapshot()
	d.diff(&d.prev, &cur, uint32(d.now-d.oldTime))
	d.prev = cur
	if tries := d.fsm.MaxTries(); tries != d.oldMaxTries {
		d.oldMaxTries = tries
		d.printf("  %d tries left\n", tries)
	}
	d.oldTime = d.now
	return nil
}

// command is one entry of the command table.
type command struct {
	name             string
	minArgs, maxArgs int
	run              func(d *driver, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"enable", 0, 0, func(d *driver, _ []string) error { d.fsm.Enable(d.time()); return nil }},
		{"disable", 0, 0, func(d *driver, _ []string) error { d.fsm.Disable(d.time()); return nil }},
		{"force-reconnect", 0, 0, func(d *driver, _ []string) error { d.fsm.ForceReconnect(d.time()); return nil }},
		{"disconnected", 0, 1, (*driver).doDisconnected},
		{"connecting", 0, 0, func(d *driver, _ []string) error { d.fsm.Connecting(d.time()); return nil }},
		{"connect-failed", 0, 1, (*driver).doConnectFailed},
		{"connected", 0, 0, func(d *driver, _ []string) error { d.fsm.Connected(d.time()); return nil }},
		{"activity", 0, 0, func(d *driver, _ []string) error { d.fsm.Activity(d.time()); return nil }},
		{"run", 0, 1, (*driver).doRun},
		{"advance", 1, 1, func(d *driver, args []string) error { d.now += atoi(args[1]); return nil }},
		{"timeout", 0, 0, (*driver).doTimeout},
		{"set-max-tries", 1, 1, func(d *driver, args []string) error {
			d.fsm.SetMaxTries(uint32(atoi(args[1])))
			return nil
		}},
		{"set-backoff-free-tries", 1, 1, func(d *driver, args []string) error {
			d.fsm.SetBackoffFreeTries(uint32(atoi(args[1])))
			return nil
		}},
		{"passive", 0, 0, func(d *driver, _ []string) error { d.fsm.SetPassive(true, d.time()); return nil }},
		{"listening", 0, 0, func(d *driver, _ []string) error { d.fsm.Listening(d.time()); return nil }},
		{"listen-error", 1, 1, (*driver).doListenError},
		{"receive-attempted", 1, 1, (*driver).doReceiveAttempted},
	}
}

// exec runs one command, checking it and its argument count the way
// ovs_cmdl_run_command does.
func (d *driver) exec(args []string) error {
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		switch n := len(args) - 1; {
		case n < c.minArgs:
			return fmt.Errorf("'%s' command requires at least %d arguments", c.name, c.minArgs)
		case n > c.maxArgs:
			return fmt.Errorf("'%s' command takes at most %d arguments", c.name, c.maxArgs)
		}
		return c.run(d, args)
	}
	return fmt.Errorf("unknown command '%s'; use --help for help", args[0])
}

// errorFromString maps the error argument of disconnected and
// connect-failed: none, ECONNREFUSED or EOF.
func errorFromString(args []string) (error, error) {
	if len(args) < 2 {
		return nil, nil
	}
	switch args[1] {
	case "ECONNREFUSED":
		return syscall.ECONNREFUSED, nil
	case "EOF":
		return io.EOF, nil
	default:
		return nil, fmt.Errorf("unknown error '%s'", args[1])
	}
}

func (d *driver) doDisconnected(args []string) error {
	e, err := errorFromString(args)
	if err != nil {
		return err
	}
	d.fsm.Disconnected(d.time(), e)
	return nil
}

func (d *driver) doConnectFailed(args []string) error {
	e, err := errorFromString(args)
	if err != nil {
		return err
	}
	d.fsm.ConnectFailed(d.time(), e)
	return nil
}

func (d *driver) doListenError(args []string) error {
	var e error
	if n := atoi(args[1]); n > 0 {
		e = syscall.Errno(n)
	}
	d.fsm.ListenError(d.time(), e)
	return nil
}

func (d *driver) doReceiveAttempted(args []string) error {
	switch args[1] {
	case "now":
		d.fsm.ReceiveAttempted(d.time())
	case "LLONG_MAX":
		d.fsm.ReceiveAttemptedNever()
	default:
		return fmt.Errorf("%s: bad argument %s", args[0], args[1])
	}
	return nil
}

func (d *driver) doRun(args []string) error {
	if len(args) > 1 {
		d.now += atoi(args[1])
	}
	switch d.fsm.Run(d.time()) {
	case reconnect.Connect:
		d.printf("  should connect\n")
	case reconnect.Disconnect:
		d.printf("  should disconnect\n")
	case reconnect.Probe:
		d.printf("  should send probe\n")
	}
	return nil
}

func (d *driver) doTimeout(_ []string) error {
	t, ok := d.fsm.Timeout(d.time())
	if !ok {
		d.printf("  no timeout\n")
		return nil
	}
	// C returns an int number of milliseconds, capped at INT_MAX.
	ms := (t + time.Millisecond - 1) / time.Millisecond
	ms = min(ms, math.MaxInt32)
	d.printf("  advance %d ms\n", ms)
	d.now += int32(ms)
	return nil
}

// snapshot is the C driver's struct reconnect_stats, with C's types, so
// that comparisons and wrap-around behave as they do there.
type snapshot struct {
	state            string
	stateElapsed     uint32
	backoff          int32
	creationTime     int64
	lastActivity     int64
	lastConnected    int64
	lastDisconnected int64
	nSuccessful      uint32
	nAttempted       uint32
	seqno            uint32
	isConnected      bool
	sinceConnect     uint32
	sinceDisconnect  uint32
	totalConnected   uint32
}

func millis(d time.Duration) int64 { return d.Milliseconds() }

func (d *driver) snapshot() snapshot {
	st := d.fsm.Stats(d.time())
	s := snapshot{
		state:            st.State.String(),
		stateElapsed:     uint32(millis(st.StateElapsed)),
		backoff:          int32(millis(st.Backoff)),
		creationTime:     st.CreationTime.UnixMilli(),
		lastActivity:     st.LastActivity.UnixMilli(),
		lastConnected:    neverTime,
		lastDisconnected: neverTime,
		nSuccessful:      uint32(st.Successful),
		nAttempted:       uint32(st.Attempted),
		seqno:            uint32(st.Seqno),
		isConnected:      st.IsConnected,
		sinceConnect:     neverSince,
		sinceDisconnect:  neverSince,
		totalConnected:   uint32(millis(st.TotalConnected)),
	}
	if st.EverConnected {
		s.lastConnected = st.LastConnected.UnixMilli()
		s.sinceConnect = uint32(millis(st.SinceConnect))
	}
	if st.EverDisconnected {
		s.lastDisconnected = st.LastDisconnected.UnixMilli()
		s.sinceDisconnect = uint32(millis(st.SinceDisconnect))
	}
	return s
}

// diff prints the lines for what changed between old and cur, delta ms
// apart, with C's unsigned arithmetic.
func (d *driver) diff(old, cur *snapshot, delta uint32) {
	if old.state != cur.state || old.stateElapsed != cur.stateElapsed || old.backoff != cur.backoff {
		d.printf("  in %s for %d ms (%d ms backoff)\n", cur.state, cur.stateElapsed, cur.backoff)
	}
	if old.creationTime != cur.creationTime || old.lastActivity != cur.lastActivity ||
		old.lastConnected != cur.lastConnected {
		d.printf("  created %d, last activity %d, last connected %d\n",
			cur.creationTime, cur.lastActivity, cur.lastConnected)
	}
	if old.nSuccessful != cur.nSuccessful || old.nAttempted != cur.nAttempted || old.seqno != cur.seqno {
		d.printf("  %d successful connections out of %d attempts, seqno %d\n",
			cur.nSuccessful, cur.nAttempted, cur.seqno)
	}
	if old.isConnected != cur.isConnected {
		if cur.isConnected {
			d.printf("  connected\n")
		} else {
			d.printf("  disconnected\n")
		}
	}
	if old.lastConnected != cur.lastConnected ||
		(old.sinceConnect != cur.sinceConnect-delta &&
			!(old.sinceConnect == neverSince && cur.sinceConnect == neverSince)) ||
		(old.totalConnected != cur.totalConnected-delta &&
			!(old.totalConnected == 0 && cur.totalConnected == 0)) {
		d.printf("  last connected %d ms ago, connected %d ms total\n",
			cur.sinceConnect, cur.totalConnected)
	}
	if old.lastDisconnected != cur.lastDisconnected ||
		(old.sinceDisconnect != cur.sinceDisconnect-delta &&
			!(old.sinceDisconnect == neverSince && cur.sinceDisconnect == neverSince)) {
		d.printf("  disconnected at %d ms (%d ms ago)\n",
			uint64(cur.lastDisconnected), cur.sinceDisconnect)
	}
}

// parseWords splits a line into words as OVS's svec_parse_words does: at
// white space, with shell-like single and double quotes and backslash
// escapes.
func parseWords(s string) []string {
	var words []string
	p := 0
	for p < len(s) {
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p >= len(s) {
			break
		}
		var word []byte
		var quote byte
		q := p
		for ; q < len(s); q++ {
			c := s[q]
			switch {
			case quote != 0 && c == quote:
				quote = 0
			case c == '\'' || c == '"':
				quote = c
			case c == '\\' && (quote == 0 || quote == '"'):
				q++
				if q >= len(s) {
					goto add // trailing backslash: C warns and stops
				}
				word = append(word, s[q])
			case isSpace(c) && quote == 0:
				q++
				goto add
			default:
				word = append(word, c)
			}
		}
	add:
		words = append(words, string(word))
		p = q
	}
	return words
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// atoi is glibc's atoi: (int) strtol(s, NULL, 10). Leading white space and
// a sign are accepted, parsing stops at the first non-digit, no digits give
// 0, an out-of-range value saturates at the 64-bit long limits, and the
// conversion to int keeps the low 32 bits.
func atoi(s string) int32 {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var v uint64
	overflow := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digit := uint64(s[i] - '0')
		if v > (math.MaxUint64-digit)/10 {
			overflow = true
			continue
		}
		v = v*10 + digit
	}
	var l int64
	switch {
	case neg && (overflow || v > 1<<63):
		l = math.MinInt64
	case neg:
		l = -int64(v) // v == 1<<63 wraps to MinInt64, as intended
	case overflow || v > math.MaxInt64:
		l = math.MaxInt64
	default:
		l = int64(v)
	}
	return int32(l)
}
