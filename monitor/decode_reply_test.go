package monitor

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"
)

// replyKinds are the reply methods a ReplyDecoder decodes, with the parse
// function it stands in for.
var replyKinds = []struct {
	name   string
	method Method
	parse  func(*Schema, []byte) (*Update, error)
}{
	{"monitor", MethodMonitor, ParseMonitorReply},
	{"monitor_cond", MethodMonitorCond, ParseMonitorCondReply},
	{"monitor_cond_since", MethodMonitorCondSince, ParseMonitorCondSinceReply},
}

// decodeSplit feeds data to a ReplyDecoder in pieces of the sizes next
// returns.
func decodeSplit(s *Schema, m Method, data []byte, next func() int) (*Update, error) {
	d := NewReplyDecoder(s, m)
	for len(data) > 0 {
		n := min(max(next(), 1), len(data))
		if err := d.Write(data[:n]); err != nil {
			return nil, err
		}
		data = data[n:]
	}
	v, err := d.Finish()
	if err != nil {
		return nil, err
	}
	return v.(*Update), nil
}

// checkDecodeAgrees checks that decoding data in pieces gives what parsing
// it whole gives: the same update, or errors that both wrap ErrMalformed.
func checkDecodeAgrees(t *testing.T, s *Schema, kind int, data []byte, next func() int) {
	t.Helper()
	k := replyKinds[kind%len(replyKinds)]
	want, wantErr := k.parse(s, data)
	got, err := decodeSplit(s, k.method, data, next)
	if wantErr != nil {
		if err == nil {
			t.Fatalf("%s %q: whole: %v; in pieces: no error", k.name, data, wantErr)
		}
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s %q: error does not wrap ErrMalformed: %v", k.name, data, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s %q: whole: ok; in pieces: %v", k.name, data, err)
	}
	require.Equal(t, renderUpdate(want), renderUpdate(got), "%s %q", k.name, data)
}

// replyInputs are the monitor replies of the parse and replica scripts,
// with their kinds.
func replyInputs(t *testing.T) (kinds []int, inputs [][]byte) {
	files, err := filepath.Glob("testdata/*/*.txt")
	require.NoError(t, err)
	for _, f := range files {
		datadriven.RunTest(t, f, func(t *testing.T, d *datadriven.TestData) string {
			var kind string
			if d.HasArg("kind") {
				d.ScanArgs(t, "kind", &kind)
			}
			for i, k := range replyKinds {
				if k.name == kind {
					kinds = append(kinds, i)
					inputs = append(inputs, []byte(expandUUIDs(d.Input)))
				}
			}
			return d.Expected // only collecting
		})
	}
	require.NotEmpty(t, inputs)
	return kinds, inputs
}

func TestReplyDecoderAgreesWithParse(t *testing.T) {
	s := testSchema(t)
	kinds, inputs := replyInputs(t)
	for i, seed := range fuzzSeeds {
		kinds, inputs = append(kinds, i), append(inputs, []byte(seed))
	}
	// Damaged copies: every input cut short, and with a byte changed.
	n := len(inputs)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		in := inputs[i]
		if len(in) < 2 {
			continue
		}
		cut := in[:rng.IntN(len(in))]
		bad := append([]byte(nil), in...)
		bad[rng.IntN(len(bad))] = "{}[]\",: x0"[rng.IntN(10)]
		kinds = append(kinds, kinds[i], kinds[i])
		inputs = append(inputs, cut, bad)
	}
	for i, in := range inputs {
		for _, size := range []int{1, 2, 3, 7, 64, len(in) + 1} {
			checkDecodeAgrees(t, s, kinds[i], in, func() int { return size })
		}
		for range 5 {
			checkDecodeAgrees(t, s, kinds[i], in, func() int { return 1 + rng.IntN(20) })
		}
	}
}

func TestReplyDecoderKeepsOneRow(t *testing.T) {
	s := testSchema(t)
	var b strings.Builder
	b.WriteString(`{"Item":{`)
	const rows = 2000
	for i := range rows {
		if i > 0 {
			b.WriteString(",\n ")
		}
		b.WriteString(expandUUIDs(`"@` + strconv.Itoa(i+1) + `":{"initial":{"name":"item-` + strconv.Itoa(i) + `","n":` + strconv.Itoa(i) + `}}`))
	}
	b.WriteString(`}}`)
	data := []byte(b.String())
	d := NewReplyDecoder(s, MethodMonitorCond)
	peak := 0
	for len(data) > 0 {
		n := min(4096, len(data))
		require.NoError(t, d.Write(data[:n]))
		peak = max(peak, cap(d.buf))
		data = data[n:]
	}
	v, err := d.Finish()
	require.NoError(t, err)
	require.Equal(t, rows, v.(*Update).NumRows())
	require.Less(t, peak, 3*4096, "the decoder keeps one piece and a row, not the reply")
}

func TestReplyDecoderErrors(t *testing.T) {
	s := testSchema(t)
	d := NewReplyDecoder(s, MethodMonitorCond)
	err := d.Write([]byte(`{"Nope":{}}`))
	require.ErrorIs(t, err, ErrMalformed)
	require.ErrorContains(t, err, `monitor_cond reply: unknown table "Nope"`)
	require.ErrorIs(t, d.Write([]byte(`x`)), ErrMalformed, "the error sticks")
	_, err = d.Finish()
	require.ErrorIs(t, err, ErrMalformed)

	d = NewReplyDecoder(s, MethodMonitorCond)
	require.NoError(t, d.Write([]byte(`{"Item":{`)))
	_, err = d.Finish()
	require.ErrorContains(t, err, "unexpected end of the result")

	d = NewReplyDecoder(nil, MethodMonitorCond)
	require.Error(t, d.Write([]byte(`{}`)))

	// A row longer than the bound is refused, not buffered.
	d = NewReplyDecoder(s, MethodMonitorCond)
	d.maxRow = 100
	require.NoError(t, d.Write([]byte(expandUUIDs(`{"Item":{"@1":{"initial":{"name":"`))))
	err = d.Write([]byte(strings.Repeat("x", 200)))
	require.ErrorIs(t, err, ErrMalformed)
	require.ErrorContains(t, err, "longer than 100 bytes")
}

func FuzzReplyDecoder(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(uint8(i), uint64(i), []byte(s))
	}
	if data, err := os.ReadFile("testdata/replica/resync.txt"); err == nil {
		f.Add(uint8(1), uint64(7), data)
	}
	s := testSchema(f)
	f.Fuzz(func(t *testing.T, kind uint8, seed uint64, data []byte) {
		rng := rand.New(rand.NewPCG(seed, seed>>1))
		checkDecodeAgrees(t, s, int(kind), data, func() int { return 1 + rng.IntN(16) })
	})
}
