package ovstable

import (
	"encoding/binary"
	"math/bits"
)

// ShashOrder returns the order in which Open vSwitch iterates a JSON object
// whose members were parsed in the order of names: the order of its
// string hash map (struct shash over struct hmap, lib/hmap.c), which
// ovsdb-client follows when it prints the rows of one table update
// (SHASH_FOR_EACH in monitor_print_table, ovsdb/ovsdb-client.c). It
// returns indexes into names.
//
// The map starts with one bucket, puts each new node at the head of its
// bucket's chain (hmap_insert_fast), and grows to calc_mask(n) buckets when
// n/2 exceeds the mask, re-inserting the nodes bucket by bucket (resize).
// Iteration visits buckets in index order and each chain from its head.
func ShashOrder(names []string) []int {
	type node struct {
		hash uint32
		idx  int
		next *node
	}
	buckets := []*node{nil}
	mask := uint32(0)
	insert := func(bs []*node, m uint32, n *node) {
		n.next = bs[n.hash&m]
		bs[n.hash&m] = n
	}
	for i, name := range names {
		insert(buckets, mask, &node{hash: hashString(name), idx: i})
		if n := uint32(i + 1); n/2 > mask {
			newMask := calcMask(n)
			nb := make([]*node, newMask+1)
			for _, head := range buckets {
				for n := head; n != nil; {
					next := n.next
					insert(nb, newMask, n)
					n = next
				}
			}
			buckets, mask = nb, newMask
		}
	}
	out := make([]int, 0, len(names))
	for _, head := range buckets {
		for n := head; n != nil; n = n.next {
			out = append(out, n.idx)
		}
	}
	return out
}

// calcMask is calc_mask in lib/hmap.c: the bucket mask for capacity.
func calcMask(capacity uint32) uint32 {
	mask := capacity / 2
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	// At least 4 buckets once they are allocated.
	mask |= (mask & 1) << 1
	return mask
}

// hashString is hash_string(s, 0) of lib/hash.h: hash_bytes over the bytes
// of s (murmur3-style mixing, lib/hash.c).
func hashString(s string) uint32 {
	p := []byte(s)
	h := uint32(0)
	for len(p) >= 4 {
		h = mhashAdd(h, binary.LittleEndian.Uint32(p))
		p = p[4:]
	}
	if len(p) > 0 {
		var tmp [4]byte
		copy(tmp[:], p)
		h = mhashAdd(h, binary.LittleEndian.Uint32(tmp[:]))
	}
	return mhashFinish(h ^ uint32(len(s)))
}

func mhashAdd(h, data uint32) uint32 {
	if data != 0 {
		data *= 0xcc9e2d51
		data = bits.RotateLeft32(data, 15)
		data *= 0x1b873593
		h ^= data
	}
	h = bits.RotateLeft32(h, 13)
	return h*5 + 0xe6546b64
}

func mhashFinish(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
