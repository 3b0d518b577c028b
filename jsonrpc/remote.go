package jsonrpc

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// DefaultPort is the OVSDB port used when a tcp:, ssl:, ptcp: or pssl:
// remote gives none (IANA-assigned, OVS's OVSDB_PORT).
const DefaultPort = 6640

// Remote is one parsed OVSDB connection method, as in
// "tcp:127.0.0.1:6641", "ssl:[::1]:6641", "unix:/run/ovn/ovnnb_db.sock"
// or, for a passive (listening) remote, "ptcp:6641:127.0.0.1",
// "pssl:6641", "punix:db.sock".
type Remote struct {
	// Method is "tcp", "ssl", "unix", "ptcp", "pssl" or "punix".
	Method string
	// Host is the peer's host name or IP address (without brackets) for
	// tcp: and ssl:, and the address to listen on for ptcp: and pssl:
	// ("" for every address).
	Host string
	// Port is the TCP port (tcp:, ssl:, ptcp:, pssl:). For a passive
	// remote, 0 asks the kernel for a free port.
	Port int
	// Path is the socket file of unix: and punix:. A relative path stays
	// relative (to the process's working directory).
	Path string
}

// ParseRemote parses one remote: tcp:HOST[:PORT], ssl:HOST[:PORT],
// unix:PATH, ptcp:[PORT][:IP], pssl:[PORT][:IP] or punix:PATH. An IPv6
// address takes brackets when a port follows ("tcp:[::1]:6641"); without
// a port, an address with several colons is the host ("tcp:::1"), as in
// OVS. A missing port is DefaultPort. Errors wrap ErrInvalidRemote and name
// the bad part.
func ParseRemote(s string) (Remote, error) {
	bad := func(format string, args ...any) (Remote, error) {
		return Remote{}, fmt.Errorf("%w %q: %s", ErrInvalidRemote, s, fmt.Sprintf(format, args...))
	}
	method, rest, ok := strings.Cut(s, ":")
	if !ok {
		return bad("no connection method (expecting tcp:, ssl:, unix:, ptcp:, pssl: or punix:)")
	}
	r := Remote{Method: method}
	switch method {
	case "unix", "punix":
		if rest == "" {
			return bad("missing socket path after %q", method+":")
		}
		r.Path = rest
		return r, nil

	case "tcp", "ssl":
		host, port, err := splitActive(rest)
		if err != "" {
			return bad("%s", err)
		}
		if host == "" {
			return bad("missing host after %q", method+":")
		}
		if msg := checkHost(host); msg != "" {
			return bad("%s", msg)
		}
		r.Host = host
		r.Port = DefaultPort
		if port != "" {
			p, msg := parsePort(port, false)
			if msg != "" {
				return bad("%s", msg)
			}
			r.Port = p
		}
		return r, nil

	case "ptcp", "pssl":
		// ptcp:[PORT][:IP]: the port comes first, then the address to
		// listen on.
		port, host, _ := strings.Cut(rest, ":")
		r.Port = DefaultPort
		if port != "" {
			p, msg := parsePort(port, true)
			if msg != "" {
				return bad("%s", msg)
			}
			r.Port = p
		}
		if host != "" {
			if strings.HasPrefix(host, "[") {
				if !strings.HasSuffix(host, "]") {
					return bad("missing ']' in address %q", host)
				}
				host = host[1 : len(host)-1]
			}
			if _, err := netip.ParseAddr(host); err != nil {
				return bad("address to listen on %q is not an IP address", host)
			}
			r.Host = host
		}
		return r, nil

	default:
		if method == "" {
			return bad("no connection method (expecting tcp:, ssl:, unix:, ptcp:, pssl: or punix:)")
		}
		return bad("unknown connection method %q (expecting tcp:, ssl:, unix:, ptcp:, pssl: or punix:)", method)
	}
}

// splitActive splits HOST[:PORT] as OVS does (inet_parse_tokens__):
// colons inside brackets do not count, and with more than one colon the
// whole string is the host.
func splitActive(s string) (host, port, msg string) {
	depth, colons, last := 0, 0, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ':':
			if depth == 0 {
				colons++
				last = i
			}
		}
	}
	if depth != 0 {
		return "", "", fmt.Sprintf("unbalanced brackets in %q", s)
	}
	host = s
	if colons == 1 {
		host, port = s[:last], s[last+1:]
		if port == "" {
			return "", "", "missing port after ':'"
		}
	}
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return "", "", fmt.Sprintf("junk after ']' in host %q", host)
		}
		inner := host[1 : len(host)-1]
		if _, err := netip.ParseAddr(inner); err != nil {
			return "", "", fmt.Sprintf("%q in brackets is not an IP address", inner)
		}
		host = inner
	}
	return host, port, ""
}

// checkHost returns why host is not a usable host name or IP address.
func checkHost(host string) string {
	if strings.Contains(host, ":") {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Sprintf("host %q is not a valid IPv6 address", host)
		}
		return ""
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Sprintf("invalid character %q in host %q", c, host)
		}
	}
	return ""
}

func parsePort(s string, passive bool) (int, string) {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || (p == 0 && !passive) {
		return 0, fmt.Sprintf("invalid port %q (expecting 1-65535)", s)
	}
	return int(p), ""
}

// String returns the canonical name of r, which ParseRemote parses back
// to r: "tcp:127.0.0.1:6641", "ssl:[::1]:6641", "ptcp:6641:127.0.0.1",
// "punix:db.sock".
func (r Remote) String() string {
	switch r.Method {
	case "unix", "punix":
		return r.Method + ":" + r.Path
	case "ptcp", "pssl":
		s := r.Method + ":" + strconv.Itoa(r.Port)
		if r.Host != "" {
			h := r.Host
			if strings.Contains(h, ":") {
				h = "[" + h + "]"
			}
			s += ":" + h
		}
		return s
	default:
		return r.Method + ":" + net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
	}
}

// IsPassive reports whether r listens for connections (ptcp:, pssl:,
// punix:).
func (r Remote) IsPassive() bool { return r.Method != "" && r.Method[0] == 'p' }

// IsTLS reports whether r uses TLS (ssl:, pssl:).
func (r Remote) IsTLS() bool { return r.Method == "ssl" || r.Method == "pssl" }

// Network returns the network for net.Dial and net.Listen: "tcp" or
// "unix".
func (r Remote) Network() string {
	if r.Method == "unix" || r.Method == "punix" {
		return "unix"
	}
	return "tcp"
}

// Address returns the address for net.Dial and net.Listen: HOST:PORT (with
// brackets for IPv6), ":PORT" to listen on every address, or the socket
// path.
func (r Remote) Address() string {
	if r.Network() == "unix" {
		return r.Path
	}
	return net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
}

// NeedsProbes reports whether connections over r should be probed for
// inactivity: true for TCP and TLS, false for unix sockets
// (stream_or_pstream_needs_probes in lib/stream.c).
func (r Remote) NeedsProbes() bool { return r.Network() != "unix" }

// ParseRemotes parses a comma-separated list of remotes as OVS does
// (ovsdb_session_parse_remote in lib/ovsdb-session.c): the string is split at commas followed (after spaces or tabs) by
// lowercase letters and a colon, so an IPv6 address or option text after a
// comma stays in its remote; blanks around each remote are ignored. The
// first "cid:UUID" item is taken out and returned as the cluster id
// (lowercase), or "" when there is none; a second one is an error (OVS
// would keep it as a remote that cannot be opened). Errors wrap
// ErrInvalidRemote and name the bad remote.
func ParseRemotes(s string) (remotes []Remote, clusterID string, err error) {
	items := SplitRemotes(s)
	if len(items) == 0 {
		return nil, "", fmt.Errorf("%w %q: no remote", ErrInvalidRemote, s)
	}
	for _, item := range items {
		if rest, ok := strings.CutPrefix(item, "cid:"); ok {
			if clusterID != "" {
				return nil, "", fmt.Errorf("%w %q: more than one cluster id", ErrInvalidRemote, item)
			}
			id, ok := ovsjson.CanonicalUUID(rest)
			if !ok {
				return nil, "", fmt.Errorf("%w %q: cluster id %q is not a UUID", ErrInvalidRemote, item, rest)
			}
			clusterID = id
			continue
		}
		r, err := ParseRemote(item)
		if err != nil {
			return nil, "", err
		}
		remotes = append(remotes, r)
	}
	if len(remotes) == 0 {
		return nil, "", fmt.Errorf("%w %q: no remote besides the cluster id", ErrInvalidRemote, s)
	}
	return remotes, clusterID, nil
}

// SplitRemotes splits a remote list into its items by the rule of
// ParseRemotes, without parsing them.
func SplitRemotes(s string) []string {
	var items []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return items
		}
		cut := nextRemote(s)
		if cut < 0 {
			return append(items, strings.TrimRight(s, " \t"))
		}
		items = append(items, strings.TrimRight(s[:cut], " \t"))
		s = s[cut+1:]
	}
}

// nextRemote returns the index of the first comma in s that starts a new
// remote (is followed, after blanks, by [a-z]+ and ':'), or -1.
func nextRemote(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != ',' {
			continue
		}
		p := strings.TrimLeft(s[i+1:], " \t")
		n := 0
		for n < len(p) && p[n] >= 'a' && p[n] <= 'z' {
			n++
		}
		if n > 0 && n < len(p) && p[n] == ':' {
			return i
		}
	}
	return -1
}
