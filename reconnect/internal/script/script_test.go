package script

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func runScript(t *testing.T, in string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := Run(strings.NewReader(in), &out)
	return out.String(), err
}

func TestFatalErrors(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"bogus\n", "unknown command 'bogus'; use --help for help"},
		{"  # not a comment\n", "unknown command '#'; use --help for help"},
		{"enable now\n", "'enable' command takes at most 0 arguments"},
		{"run 1 2\n", "'run' command takes at most 1 arguments"},
		{"advance\n", "'advance' command requires at least 1 arguments"},
		{"set-max-tries\n", "'set-max-tries' command requires at least 1 arguments"},
		{"disconnected ETIMEDOUT\n", "unknown error 'ETIMEDOUT'"},
		{"connect-failed eof\n", "unknown error 'eof'"},
		{"receive-attempted later\n", "receive-attempted: bad argument later"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.in), func(t *testing.T) {
			out, err := runScript(t, "enable\n"+tt.in+"run\n")
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			// The C driver echoes the bad line, then exits.
			want := "### t=1000 ###\nenable\n  in BACKOFF for 0 ms (0 ms backoff)\n" + tt.in
			if out != want {
				t.Errorf("transcript %q, want %q", out, want)
			}
		})
	}
}

func TestLineHandling(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty input", "", "### t=1000 ###\n"},
		{"last line without newline", "enable", "### t=1000 ###\nenable  in BACKOFF for 0 ms (0 ms backoff)\n"},
		{"comment without newline", "# x", "### t=1000 ###\n# x"},
		{"CRLF", "enable\r\n", "### t=1000 ###\nenable\r\n  in BACKOFF for 0 ms (0 ms backoff)\n"},
		// fgets reads 127 bytes at a time: a long comment's tail is read
		// as a line of its own, which is not a comment.
		{"long comment", "#" + strings.Repeat("x", 126) + "tail\n", ""},
		// A long line of blanks is two blank pieces.
		{"long blank line", strings.Repeat(" ", 200) + "\n", "### t=1000 ###\n" + strings.Repeat(" ", 200) + "\n"},
		// Everything from a NUL to the end of the piece is invisible to C.
		{"NUL", "enable\x00 junk\nrun\n", "### t=1000 ###\nenable  in BACKOFF for 0 ms (0 ms backoff)\nrun\n  should connect\n"},
		{"quotes", "'enable'\n\"run\" '5'\n", "### t=1000 ###\n'enable'\n  in BACKOFF for 0 ms (0 ms backoff)\n\"run\" '5'\n  should connect\n\n### t=1005 ###\n  in BACKOFF for 5 ms (0 ms backoff)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runScript(t, tt.in)
			if tt.name == "long comment" {
				if err == nil || err.Error() != "unknown command 'tail'; use --help for help" {
					t.Fatalf("error %v, want the tail rejected as a command", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.want {
				t.Errorf("transcript\n%q\nwant\n%q", out, tt.want)
			}
		})
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	var out bytes.Buffer
	err := Run(iotest.ErrReader(boom), &out)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
}

func TestParseWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   \t\n", nil},
		{"run", []string{"run"}},
		{"  run \t 500 \n", []string{"run", "500"}},
		{"a'b c'd", []string{"ab cd"}},
		{`"a b" 'c d'`, []string{"a b", "c d"}},
		{`a\ b`, []string{"a b"}},
		{`"a\"b"`, []string{`a"b`}},
		{`'a\b'`, []string{`a\b`}},
		{`"it's"`, []string{"its"}}, // C switches to the single quote
		{`''`, []string{""}},
		{`ab\`, []string{"ab"}}, // trailing backslash: C warns and keeps the word
		{"x\vy\fz\rw", []string{"x", "y", "z", "w"}},
	}
	for _, tt := range tests {
		got := parseWords(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("parseWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAtoi(t *testing.T) {
	tests := []struct {
		in   string
		want int32
	}{
		{"0", 0},
		{"5000", 5000},
		{"  42", 42},
		{"+7", 7},
		{"-1", -1},
		{"12abc", 12},
		{"abc", 0},
		{"", 0},
		{"-", 0},
		{"2147483647", 2147483647},
		{"2147483648", -2147483648},  // (int) of a long keeps the low 32 bits
		{"4294967295", -1},           // so UINT_MAX round-trips through unsigned
		{"4294967296", 0},            //
		{"99999999999999999999", -1}, // strtol saturates at LONG_MAX
		{"-99999999999999999999", 0}, // and at LONG_MIN
		{"9223372036854775807", -1},  // LONG_MAX
		{"-9223372036854775808", 0},  // LONG_MIN
		{"18446744073709551616", -1}, // past uint64: still LONG_MAX
		{"-18446744073709551616", 0}, // LONG_MIN
	}
	for _, tt := range tests {
		if got := atoi(tt.in); got != tt.want {
			t.Errorf("atoi(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
