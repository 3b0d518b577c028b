package jsonrpc

import "github.com/ovsdbcs/ovsdbcs/internal/ovsjson"

// The top-level members a JSON-RPC 1.0 message may have, by the index
// under which the scanner records them.
const (
	memMethod = iota
	memParams
	memResult
	memError
	memID
	numMembers
)

var memberNames = []string{"method", "params", "result", "error", "id"}

// memberIndex returns the index of a JSON-RPC member name, or -1.
func memberIndex(name []byte) int {
	switch string(name) {
	case "method":
		return memMethod
	case "params":
		return memParams
	case "result":
		return memResult
	case "error":
		return memError
	case "id":
		return memID
	}
	return -1
}

// newScanner returns a scanner of JSON-RPC messages: JSON objects with the
// members above only.
func newScanner() ovsjson.Scanner {
	return ovsjson.Scanner{Member: memberIndex, Names: memberNames}
}
