package jsonrpc

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRemote(t *testing.T) {
	tests := []struct {
		in      string
		want    Remote
		canon   string // String(); "" means same as in
		network string
		address string
		wantErr string // substring of the error; "" means success
	}{
		{in: "tcp:127.0.0.1:6641", want: Remote{Method: "tcp", Host: "127.0.0.1", Port: 6641}, network: "tcp", address: "127.0.0.1:6641"},
		{in: "tcp:127.0.0.1", want: Remote{Method: "tcp", Host: "127.0.0.1", Port: 6640}, canon: "tcp:127.0.0.1:6640"},
		{in: "tcp:ovsdb.example.com:6642", want: Remote{Method: "tcp", Host: "ovsdb.example.com", Port: 6642}},
		{in: "ssl:10.0.0.1:6643", want: Remote{Method: "ssl", Host: "10.0.0.1", Port: 6643}, address: "10.0.0.1:6643"},
		{in: "tcp:[::1]:6641", want: Remote{Method: "tcp", Host: "::1", Port: 6641}, address: "[::1]:6641"},
		{in: "ssl:[fe80::1%eth0]:6641", want: Remote{Method: "ssl", Host: "fe80::1%eth0", Port: 6641}},
		{in: "tcp:[::1]", want: Remote{Method: "tcp", Host: "::1", Port: 6640}, canon: "tcp:[::1]:6640"},
		// Without brackets, several colons make the whole thing the host (OVS).
		{in: "tcp:::1", want: Remote{Method: "tcp", Host: "::1", Port: 6640}, canon: "tcp:[::1]:6640"},
		{in: "tcp:2001:db8::7", want: Remote{Method: "tcp", Host: "2001:db8::7", Port: 6640}, canon: "tcp:[2001:db8::7]:6640"},
		{in: "unix:/run/ovn/ovnnb_db.sock", want: Remote{Method: "unix", Path: "/run/ovn/ovnnb_db.sock"}, network: "unix", address: "/run/ovn/ovnnb_db.sock"},
		{in: "unix:db.sock", want: Remote{Method: "unix", Path: "db.sock"}, address: "db.sock"},
		{in: "unix:../run/db.sock", want: Remote{Method: "unix", Path: "../run/db.sock"}},
		{in: "ptcp:6641", want: Remote{Method: "ptcp", Port: 6641}, address: ":6641"},
		{in: "ptcp:6641:127.0.0.1", want: Remote{Method: "ptcp", Host: "127.0.0.1", Port: 6641}, address: "127.0.0.1:6641"},
		{in: "ptcp:0:127.0.0.1", want: Remote{Method: "ptcp", Host: "127.0.0.1", Port: 0}},
		{in: "ptcp:", want: Remote{Method: "ptcp", Port: 6640}, canon: "ptcp:6640"},
		{in: "ptcp::127.0.0.1", want: Remote{Method: "ptcp", Host: "127.0.0.1", Port: 6640}, canon: "ptcp:6640:127.0.0.1"},
		{in: "pssl:6641:[::1]", want: Remote{Method: "pssl", Host: "::1", Port: 6641}, address: "[::1]:6641"},
		{in: "punix:db.sock", want: Remote{Method: "punix", Path: "db.sock"}},

		{in: "", wantErr: "no connection method"},
		{in: "127.0.0.1:6641", wantErr: `unknown connection method "127.0.0.1"`},
		{in: "foo:bar", wantErr: `unknown connection method "foo"`},
		{in: "tcp", wantErr: "no connection method"},
		{in: "tcp:", wantErr: `missing host after "tcp:"`},
		{in: "tcp::6641", wantErr: `missing host`},
		{in: "tcp:1.2.3.4:", wantErr: "missing port"},
		{in: "tcp:1.2.3.4:99999", wantErr: `invalid port "99999"`},
		{in: "tcp:1.2.3.4:0", wantErr: `invalid port "0"`},
		{in: "tcp:1.2.3.4:x", wantErr: `invalid port "x"`},
		{in: "ssl:[::1:6641", wantErr: "unbalanced brackets"},
		{in: "tcp:[::1]x:6641", wantErr: `junk after ']'`},
		{in: "tcp:[host]:6641", wantErr: `"host" in brackets is not an IP address`},
		{in: "tcp:1::2::3", wantErr: `host "1::2::3" is not a valid IPv6 address`},
		{in: "tcp:a b:1", wantErr: `invalid character ' ' in host`},
		{in: "unix:", wantErr: `missing socket path after "unix:"`},
		{in: "punix:", wantErr: `missing socket path`},
		{in: "ptcp:70000", wantErr: `invalid port "70000"`},
		{in: "ptcp:6641:localhost", wantErr: `address to listen on "localhost" is not an IP address`},
		{in: "ptcp:6641:[::1", wantErr: `missing ']'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRemote(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseRemote(%q) = %+v, want error containing %q", tt.in, got, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalidRemote) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRemote(%q) error = %q, want ErrInvalidRemote containing %q", tt.in, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "\""+tt.in+"\"") {
					t.Errorf("error %q does not quote the remote", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRemote(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseRemote(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			if got.String() != canon {
				t.Errorf("String() = %q, want %q", got.String(), canon)
			}
			if again, err := ParseRemote(got.String()); err != nil || again != got {
				t.Errorf("ParseRemote(String()) = %+v, %v; want %+v", again, err, got)
			}
			if tt.network != "" && got.Network() != tt.network {
				t.Errorf("Network() = %q, want %q", got.Network(), tt.network)
			}
			if tt.address != "" && got.Address() != tt.address {
				t.Errorf("Address() = %q, want %q", got.Address(), tt.address)
			}
		})
	}
}

func TestRemoteProperties(t *testing.T) {
	tests := []struct {
		in                        string
		passive, tls, needsProbes bool
	}{
		{"tcp:1.2.3.4:1", false, false, true},
		{"ssl:1.2.3.4:1", false, true, true},
		{"unix:x", false, false, false},
		{"ptcp:1", true, false, true},
		{"pssl:1", true, true, true},
		{"punix:x", true, false, false},
	}
	for _, tt := range tests {
		r, err := ParseRemote(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if r.IsPassive() != tt.passive || r.IsTLS() != tt.tls || r.NeedsProbes() != tt.needsProbes {
			t.Errorf("%s: passive=%v tls=%v probes=%v, want %v %v %v", tt.in,
				r.IsPassive(), r.IsTLS(), r.NeedsProbes(), tt.passive, tt.tls, tt.needsProbes)
		}
	}
}

func TestSplitRemotes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  \t", nil},
		{"tcp:1.1.1.1:1", []string{"tcp:1.1.1.1:1"}},
		{"tcp:1.1.1.1:1,tcp:2.2.2.2:2", []string{"tcp:1.1.1.1:1", "tcp:2.2.2.2:2"}},
		{" tcp:1.1.1.1:1 , \tssl:2.2.2.2:2 ", []string{"tcp:1.1.1.1:1", "ssl:2.2.2.2:2"}},
		// A comma not followed by "letters:" stays inside the remote.
		{"tcp:[::1]:6641,tcp:[::2]:6641", []string{"tcp:[::1]:6641", "tcp:[::2]:6641"}},
		{"unix:a,b.sock,unix:c", []string{"unix:a,b.sock", "unix:c"}},
		{"tcp:1.1.1.1:1,6641", []string{"tcp:1.1.1.1:1,6641"}},
		{"tcp:1.1.1.1:1,Tcp:2.2.2.2:2", []string{"tcp:1.1.1.1:1,Tcp:2.2.2.2:2"}},
		{"cid:0f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f,tcp:1.1.1.1:1", []string{"cid:0f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f", "tcp:1.1.1.1:1"}},
	}
	for _, tt := range tests {
		got := SplitRemotes(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("SplitRemotes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseRemotes(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		cid     string
		wantErr string
	}{
		{in: "tcp:127.0.0.1:6641,tcp:127.0.0.1:6642,tcp:127.0.0.1:6643",
			want: []string{"tcp:127.0.0.1:6641", "tcp:127.0.0.1:6642", "tcp:127.0.0.1:6643"}},
		{in: "tcp:[::1]:6641, ssl:[::1]:6642", want: []string{"tcp:[::1]:6641", "ssl:[::1]:6642"}},
		{in: "cid:0F3C2D9E-8D5A-4A39-9A5D-1C2B3A4D5E6F,tcp:1.1.1.1:1,unix:db.sock",
			want: []string{"tcp:1.1.1.1:1", "unix:db.sock"}, cid: "0f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f"},
		{in: "tcp:1.1.1.1:1, cid:0f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f",
			want: []string{"tcp:1.1.1.1:1"}, cid: "0f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f"},
		{in: "", wantErr: "no remote"},
		{in: "cid:0f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f", wantErr: "no remote besides the cluster id"},
		{in: "cid:xyz,tcp:1.1.1.1:1", wantErr: `"cid:xyz": cluster id "xyz" is not a UUID`},
		{in: "cid:0f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f,cid:1f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f,tcp:1.1.1.1:1",
			wantErr: "more than one cluster id"},
		{in: "tcp:1.1.1.1:1,tcp:2.2.2.2:99999", wantErr: `"tcp:2.2.2.2:99999": invalid port "99999"`},
		{in: "tcp:1.1.1.1:1,,tcp:2.2.2.2:2", wantErr: `"tcp:1.1.1.1:1,": invalid port "1,"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			rs, cid, err := ParseRemotes(tt.in)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalidRemote) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRemotes(%q) error = %v, want ErrInvalidRemote containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.String())
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("remotes = %q, want %q", got, tt.want)
			}
			if cid != tt.cid {
				t.Errorf("cid = %q, want %q", cid, tt.cid)
			}
		})
	}
}
