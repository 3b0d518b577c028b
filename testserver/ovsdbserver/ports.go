package ovsdbserver

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Ports are picked below Linux's default ephemeral range (32768-60999), so
// that the kernel does not hand them to outgoing connections between the
// check and the server's bind, and each is checked free by listening on it.
// A port taken anyway is detected at start and the start is retried.
const (
	portMin = 20000
	portMax = 32000 // exclusive
)

// pickPorts returns n distinct ports that were free on 127.0.0.1 a moment ago.
func pickPorts(n int) ([]int, error) {
	seen := make(map[int]bool)
	var ports []int
	for tries := 0; len(ports) < n && tries < 1000; tries++ {
		p := portMin + rand.IntN(portMax-portMin)
		if seen[p] {
			continue
		}
		seen[p] = true
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		_ = l.Close()
		ports = append(ports, p)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("could not find %d free ports in %d-%d on 127.0.0.1", n, portMin, portMax-1)
	}
	return ports, nil
}
