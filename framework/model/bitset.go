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

// fill makes b hold 0 to n-1.
func (b bitset) fill(n int) {
	for i := range b {
		b[i] = ^uint64(0)
	}
	if r := n % 64; r != 0 {
		b[len(b)-1] = 1<<uint(r) - 1
	}
}

func (b bitset) clear() {
	for i := range b {
		b[i] = 0
	}
}

func (b bitset) remove(i int) { b[i/64] &^= 1 << (uint(i) % 64) }

// unionAnd adds the members of x that are also in y; a nil x adds nothing.
func (b bitset) unionAnd(x, y bitset) {
	for i := range x {
		b[i] |= x[i] & y[i]
	}
}

// subtract removes x's members from b.
func (b bitset) subtract(x bitset) {
	for i := range b {
		b[i] &^= x[i]
	}
}

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}
