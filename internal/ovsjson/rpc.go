package ovsjson

// The members a JSON-RPC 1.0 message may have, by the index under which a
// scanner from NewMessageScanner records them.
const (
	MemberMethod = iota
	MemberParams
	MemberResult
	MemberError
	MemberID
	// NumMembers is the number of JSON-RPC members.
	NumMembers
)

var memberNames = [NumMembers]string{"method", "params", "result", "error", "id"}

// MemberName returns the name of the JSON-RPC member with index i.
func MemberName(i int) string { return memberNames[i] }

// rpcMember returns the index of a JSON-RPC member name, or -1.
func rpcMember(name []byte) int {
	switch string(name) {
	case "method":
		return MemberMethod
	case "params":
		return MemberParams
	case "result":
		return MemberResult
	case "error":
		return MemberError
	case "id":
		return MemberID
	}
	return -1
}

// NewMessageScanner returns a Scanner of JSON-RPC 1.0 messages: JSON
// objects whose members are among method, params, result, error and id,
// each at most once (lib/jsonrpc.c, jsonrpc_msg_from_json, rejects any
// other).
func NewMessageScanner() Scanner {
	return Scanner{Member: rpcMember, Names: memberNames[:]}
}
