package rawrpc

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// MonitorFloor measures what any client pays before it can parse a row:
// it connects to remote, sends one monitor_cond request for every column
// of table in db (columns as given), and reads the reply as raw bytes (only
// scanning for the end of the JSON object, no decoding). It returns the
// time from dialling to the last byte and the reply's size.
func MonitorFloor(ctx context.Context, remote, db, table string, columns []string) (time.Duration, int64, error) {
	addr, ok := strings.CutPrefix(remote, "tcp:")
	if !ok {
		return 0, 0, fmt.Errorf("rawrpc: only tcp: remotes, got %q", remote)
	}
	t0 := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	req, _ := json.Marshal(map[string]any{"id": 1, "method": "monitor_cond",
		"params": []any{db, nil, map[string]any{table: []any{map[string]any{"columns": columns}}}}})
	if _, err := conn.Write(req); err != nil {
		return 0, 0, err
	}
	// The server sends nothing else first on a fresh connection, so the
	// first complete JSON value is the reply.
	n, err := skipValue(bufio.NewReaderSize(conn, 1<<16))
	if err != nil {
		return 0, n, err
	}
	return time.Since(t0), n, nil
}

// skipValue reads one JSON object or array and returns its size.
func skipValue(r *bufio.Reader) (int64, error) {
	var n int64
	depth := 0
	inStr, esc, started := false, false, false
	for {
		b, err := r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		n++
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case b == '\\':
				esc = true
			case b == '"':
				inStr = false
			}
		case b == '"':
			inStr = true
		case b == '{' || b == '[':
			depth++
			started = true
		case b == '}' || b == ']':
			depth--
			if started && depth == 0 {
				return n, nil
			}
		}
	}
}
