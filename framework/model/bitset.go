package model

import "math/bits"

// bitset is a set of endpoint indexes.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) add(i int)      { b[i/64] |= 1 << (uint(i) % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(uint(i)%64)) != 0 }

// union adds other's members; a nil other adds nothing.
func (b bitset) union(other bitset) {
	for i := range other {
		b[i] |= other[i]
	}
}

// each calls fn with every member, in increasing order.
func (b bitset) each(fn func(int)) {
	for w, word := range b {
		for word != 0 {
			fn(w*64 + bits.TrailingZeros64(word))
			word &= word - 1
		}
	}
}
