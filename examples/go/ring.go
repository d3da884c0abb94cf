// Package ringbuf is a fixed-size ring buffer, the code under test of the Go example.
package ringbuf

type Ring struct {
	items []int
	start int
	n     int
}

func New(size int) *Ring { return &Ring{items: make([]int, size)} }

func (r *Ring) Push(v int) {
	r.items[(r.start+r.n)%len(r.items)] = v
	if r.n < len(r.items) {
		r.n++
	} else {
		r.start = (r.start + 1) % len(r.items)
	}
}

func (r *Ring) Items() []int {
	out := make([]int, 0, r.n)
	for i := 0; i < r.n; i++ {
		out = append(out, r.items[(r.start+i)%len(r.items)])
	}
	return out
}
