// Package live reads a live cluster without changing it: the topology the
// model reasons about (namespaces, running pods, nodes) and the policies that
// decide its flows, through a client that refuses every request but a read.
package live
